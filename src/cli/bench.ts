/**
 * `deno task bench [EXPERIMENT ...] [--seed N] [--backend B] [--out DIR] [--profile P]
 *                  [--set path=value ...] [--resume] [--mnist DIR] [--cifar10 PATH] ...`
 *
 * Every config is loaded and validated before anything trains or is written; a bad
 * config or flag exits 2 with a message that names the file, the JSON path, what was
 * found and what is allowed. A run whose data are absent (TFD is not public) is skipped
 * with its reason recorded, which is not a failure. Ctrl-C saves a checkpoint (exit 130).
 */
import { parseArgs } from "node:util";
import { BACKEND_CHOICES, type BackendChoice } from "../backend/select.ts";
import { ConfigError } from "../config/errors.ts";
import { listConfigs, loadConfig, type ResolvedConfig } from "../config/load.ts";
import type { DataSources } from "../data/registry.ts";
import type { Checkpoint } from "../train/checkpoint.ts";

const USAGE = `usage: deno task bench [EXPERIMENT ...] [options]

EXPERIMENT   a config name under configs/ (${listConfigs().join(", ")}) or a path
             to a .json config; none = every config under configs/

options:
  --seed N          root seed of every random stream (default 1)
  --seeds LIST      several seeds: "1,2,3", or a count N for seeds 1…N; runs every
                    experiment for each seed
  --backend B       auto | webgpu | wasm+openblas | wasm | cpu (default auto: a hardware
                    WebGPU adapter, else wasm with OpenBLAS matrix products, else plain
                    wasm, else cpu)
  --blas-threads N  OpenBLAS threads per run on wasm+openblas (default 1); results are
                    identical only at the same count, which result.json records
  --out DIR         output folder (default reports); runs go to DIR/<experiment>/seed-<N>/
  --profile P       apply a profile declared in the config, e.g. smoke (default paper)
  --set PATH=VALUE  override a config field, e.g. --set training.budget.iterations=100
                    (VALUE is JSON if it parses as JSON, else a string; repeatable)
  --resume          continue each run from its checkpoint (refused if the config changed)
  --eval-only       with --resume: score the checkpoint as it is, without training further
  --dry-run         validate every config and read every data source (checksums included),
                    print the planned runs and their iterations, and train nothing
  --mnist DIR, --fashion-mnist DIR, --cifar10 PATH, --tfd FILE
                    read a data set from there instead of its default place
                    (TFD: also $GANBENCH_TFD; see deno task data)
  -h, --help        show this help
`;

class UsageError extends Error {}

interface Flags {
  experiments: string[];
  seeds: number[];
  backend: BackendChoice;
  blasThreads: number;
  out: string;
  profile: string;
  overrides: string[];
  resume: boolean;
  evalOnly: boolean;
  dryRun: boolean;
  data: DataSources;
}

function parseFlags(args: string[]): Flags | null {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: {
        seed: { type: "string" },
        seeds: { type: "string" },
        backend: { type: "string", default: "auto" },
        "blas-threads": { type: "string", default: "1" },
        out: { type: "string", default: "reports" },
        profile: { type: "string", default: "paper" },
        set: { type: "string", multiple: true, default: [] },
        resume: { type: "boolean", default: false },
        "eval-only": { type: "boolean", default: false },
        "dry-run": { type: "boolean", default: false },
        mnist: { type: "string" },
        "fashion-mnist": { type: "string" },
        cifar10: { type: "string" },
        tfd: { type: "string" },
        help: { type: "boolean", short: "h", default: false },
      },
    });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const v = parsed.values;
  if (v.help) return null;
  const seeds = parseSeeds(v.seed, v.seeds);
  if (v["eval-only"] && !v.resume) {
    throw new UsageError("--eval-only scores a saved checkpoint: add --resume");
  }
  if (!(BACKEND_CHOICES as readonly string[]).includes(v.backend)) {
    throw new UsageError(
      `--backend: found "${v.backend}"; expected one of ${BACKEND_CHOICES.join(", ")}`,
    );
  }
  return {
    experiments: parsed.positionals.length ? parsed.positionals : listConfigs(),
    seeds,
    backend: v.backend as BackendChoice,
    blasThreads: positiveInteger("--blas-threads", v["blas-threads"]),
    out: v.out,
    profile: v.profile,
    overrides: v.set,
    resume: v.resume,
    evalOnly: v["eval-only"],
    dryRun: v["dry-run"],
    data: { mnist: v.mnist, fashionMnist: v["fashion-mnist"], cifar10: v.cifar10, tfd: v.tfd },
  };
}

function positiveInteger(flag: string, text: string): number {
  if (!/^\d+$/.test(text) || Number(text) < 1 || !Number.isSafeInteger(Number(text))) {
    throw new UsageError(`${flag}: found "${text}"; expected an integer ≥ 1`);
  }
  return Number(text);
}

/** `--seed N`, or `--seeds 1,2,3` / `--seeds N` (seeds 1…N); default seed 1. */
function parseSeeds(seed: string | undefined, seeds: string | undefined): number[] {
  const integer = (text: string, flag: string) => {
    if (!/^\d+$/.test(text) || !Number.isSafeInteger(Number(text))) {
      throw new UsageError(`${flag}: found "${text}"; expected a non-negative integer`);
    }
    return Number(text);
  };
  if (seed !== undefined && seeds !== undefined) {
    throw new UsageError("give --seed or --seeds, not both");
  }
  if (seeds === undefined) return [seed === undefined ? 1 : integer(seed, "--seed")];
  if (!seeds.includes(",")) {
    const n = integer(seeds, "--seeds");
    if (n < 1) {
      throw new UsageError(`--seeds: found "${seeds}"; expected a count ≥ 1 or a list like 1,2,3`);
    }
    return Array.from({ length: n }, (_, i) => i + 1);
  }
  const list = seeds.split(",").map((t) => integer(t.trim(), "--seeds"));
  if (new Set(list).size !== list.length) {
    throw new UsageError(`--seeds: "${seeds}" repeats a seed`);
  }
  return list;
}

interface PlannedRun {
  resolved: ResolvedConfig;
  /** Added because another run builds on it; a completed one is reused. */
  dependency: boolean;
}

/** The configs to run, each preceded by the run whose generator it builds on. */
function planRuns(flags: Flags): PlannedRun[] {
  const { profile, overrides } = flags;
  const plan: PlannedRun[] = [];
  const add = (name: string, chain: string[]) => {
    if (chain.includes(name)) {
      throw new UsageError(`pretrained stages form a cycle: ${[...chain, name].join(" → ")}`);
    }
    const resolved = loadConfig(name, { profile, overrides });
    const before = resolved.config.generator.pretrained?.experiment;
    if (before) add(before, [...chain, name]);
    const known = plan.find((p) => p.resolved.experiment === resolved.experiment);
    if (!known) plan.push({ resolved, dependency: chain.length > 0 });
    else if (chain.length === 0) known.dependency = false;
  };
  for (const e of flags.experiments) add(e, []);
  return plan;
}

export async function main(args: string[]): Promise<number> {
  let flags: Flags | null;
  let plan: PlannedRun[];
  try {
    flags = parseFlags(args);
    if (!flags) {
      console.log(USAGE);
      return 0;
    }
    plan = planRuns(flags);
  } catch (e) {
    if (e instanceof ConfigError || e instanceof UsageError) {
      console.error(`error: ${e.message}`);
      if (e instanceof UsageError) console.error(`\n${USAGE}`);
      return 2;
    }
    throw e;
  }

  // TF.js loads only once the configs are known to be good: bad input fails in milliseconds.
  const { runExperiment } = await import("../train/run.ts");
  const folder = await import("../train/run-folder.ts");
  const { MissingDataError } = await import("../data/errors.ts");
  const { ProgressBar } = await import("./progress.ts");
  const dirOf = (r: ResolvedConfig, seed: number) =>
    folder.runFolder(flags.out, r.experiment, seed);
  const runs = flags.seeds.flatMap((seed) => plan.map((p) => ({ ...p, seed })));

  if (flags.dryRun) return await dryRun(plan, flags);

  // Checkpoints to resume from, all checked before anything runs.
  const resumes = new Map<string, Checkpoint>();
  if (flags.resume) {
    for (const { resolved, seed } of runs) {
      const dir = dirOf(resolved, seed);
      const cp = folder.readCheckpoint(dir);
      if (!cp) {
        console.error(
          `error: --resume: ${dir} has no checkpoint (checkpoints/latest.ckpt) to resume from`,
        );
        return 2;
      }
      if (cp.header.configHash !== resolved.configHash || cp.header.seed !== seed) {
        const started = folder.readRunConfig(dir);
        const changes = started ? folder.diffJson(started.config, resolved.config) : [];
        console.error(
          `error: --resume: the config of ${dir} has changed since the run started; refusing to mix them.\n` +
            (changes.length
              ? changes.map((c) => `  ${c}`).join("\n")
              : "  (config.json is missing; the hash differs)") +
            "\n  Start afresh without --resume, or use another --out.",
        );
        return 2;
      }
      resumes.set(dir, cp);
    }
  }

  const controller = new AbortController();
  const onSignal = () => controller.abort();
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);
  const skipped = new Map<string, string>();
  try {
    for (const { resolved, dependency, seed } of runs) {
      const label = `${resolved.experiment} seed ${seed}`;
      const dir = dirOf(resolved, seed);
      if (dependency && folder.isCompleted(dir, resolved.configHash)) {
        console.log(`${label}: reusing the completed run in ${dir}`);
        continue;
      }
      const skip = async (reason: string) => {
        skipped.set(`${seed}/${resolved.experiment}`, reason);
        await folder.clearRunFolder(dir);
        await folder.writeSkipped(dir, resolved, seed, reason);
        console.log(`${label}: skipped: ${reason}`);
      };

      // a stacked stage starts from the final generator of the stage before it
      let pretrained: Checkpoint | undefined;
      const before = resolved.config.generator.pretrained?.experiment;
      if (before) {
        const why = skipped.get(`${seed}/${before}`);
        if (why) {
          await skip(`needs ${before}, which was skipped (${why})`);
          continue;
        }
        pretrained = folder.readCheckpoint(folder.runFolder(flags.out, before, seed)) ??
          undefined;
        if (!pretrained) {
          throw new Error(`${before} left no checkpoint for ${resolved.experiment} to build on`);
        }
      }

      const resume = resumes.get(dir);
      if (resume) {
        console.error(
          `${label}: ${
            flags.evalOnly ? "evaluating the checkpoint of" : "resuming at"
          } iteration ${resume.header.iteration}`,
        );
      } else {
        await folder.clearRunFolder(dir);
        await folder.writeRunConfig(dir, resolved);
      }
      const bar = new ProgressBar(label);
      let result;
      try {
        result = await runExperiment(resolved, {
          seed,
          backend: flags.backend,
          blasThreads: flags.blasThreads,
          signal: controller.signal,
          resume,
          pretrained,
          evalOnly: flags.evalOnly,
          data: flags.data,
          onProgress: (p) => bar.update(p),
          onCheckpoint: (cp) => folder.writeCheckpoint(dir, cp),
          onFigure: (f) => folder.writeFigure(dir, f),
        });
      } catch (e) {
        bar.finish();
        if (controller.signal.aborted) {
          const cp = folder.readCheckpoint(dir);
          console.error(
            `interrupted: ${label} stopped` +
              (cp
                ? `; checkpoint at iteration ${cp.header.iteration} in ${
                  folder.checkpointPath(dir)
                }. ` +
                  `Continue with the same command and --resume.`
                : "; no checkpoint was written"),
          );
          return 130;
        }
        if (e instanceof MissingDataError) {
          await skip(e.message.replace(/\s*\n\s*/g, " "));
          continue;
        }
        throw e;
      }
      bar.finish();
      await folder.writeRunResult(dir, result);
      const summary = Object.entries(result.metrics)
        .slice(0, 4)
        .map(([k, v]) => `${k}=${Number(v.toPrecision(5))}`)
        .join(" ");
      console.log(
        `${label}: ${result.status}${result.divergedAt ? ` at ${result.divergedAt}` : ""} ` +
          `in ${
            result.wallSeconds.toFixed(1)
          } s on ${result.backend.name}; ${summary}\n  → ${dir}/result.json`,
      );
    }
  } finally {
    Deno.removeSignalListener("SIGINT", onSignal);
    Deno.removeSignalListener("SIGTERM", onSignal);
  }
  const { writeIndexPage } = await import("../report/build.ts");
  console.log(`index of every run in ${flags.out}: ${await writeIndexPage(flags.out)}`);
  return 0;
}

/** Reads each run's data (verifying checksums) and prints what would run; trains nothing. */
async function dryRun(plan: PlannedRun[], flags: Flags): Promise<number> {
  const { openRealData } = await import("../train/real-data.ts");
  const { DataError, MissingDataError } = await import("../data/errors.ts");
  const { Rng } = await import("../rng/streams.ts");
  let corrupt = 0;
  for (const { resolved } of plan) {
    const { config } = resolved;
    const t = config.training;
    let line: string;
    try {
      const real = openRealData(config.data, new Rng(0), t.batchSize, flags.data);
      const perIteration = t.update === "simultaneous" ? 1 : t.dSteps;
      const iterations = t.budget.iterations ??
        Math.ceil((t.budget.epochs! * real.batchesPerEpoch!) / perIteration);
      const data = real.provenance
        ? `${real.provenance.name}, ${real.provenance.trainCount} training images`
        : `sampled ${config.data.kind} data`;
      line = `ok: ${data}; ${iterations} iterations per seed`;
    } catch (e) {
      if (e instanceof MissingDataError) {
        line = `would be skipped: ${e.message.replace(/\s*\n\s*/g, " ")}`;
      } else if (e instanceof DataError) {
        corrupt++;
        line = `data error: ${e.message.replace(/\s*\n\s*/g, " ")}`;
      } else throw e;
    }
    console.log(
      `${resolved.experiment} (${resolved.profile}, seeds ${flags.seeds.join(",")}): ${line}`,
    );
  }
  return corrupt ? 1 : 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
