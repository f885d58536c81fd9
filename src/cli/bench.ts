/**
 * `deno task bench [EXPERIMENT ...] [options]`: the paper suite (no EXPERIMENT), or the named
 * experiments, once per seed, in this process or in --jobs worker processes.
 *
 * Every config is loaded and validated before anything trains or is written; a bad
 * config or flag exits 2 with a message that names the file, the JSON path, what was
 * found and what is allowed. A run whose data are absent (TFD is not public) is skipped
 * with its reason recorded, which is not a failure. Ctrl-C saves a checkpoint (exit 130).
 * Exit 1: a run failed, or with --check a stability band was missed.
 */
import { parseArgs } from "node:util";
import { openBlas } from "../backend/openblas.ts";
import { BACKEND_CHOICES, type BackendChoice } from "../backend/info.ts";
import { ConfigError } from "../config/errors.ts";
import { listConfigs } from "../config/load.ts";
import { discriminatorBatchesPerIteration, spanIterations } from "../config/span.ts";
import type { DataSources } from "../data/registry.ts";
import type { Checkpoint } from "../record/checkpoint.ts";
import { TRAIN_STEP_CHOICES, type TrainStepChoice } from "../train/steps/choice.ts";
import { listing, planTasks, type Task, UsageError } from "./plan.ts";
import {
  missedBands,
  type Outcome,
  SUITE_FORMAT,
  type SuiteSummary,
  summaryLines,
  writeSummary,
} from "./summary.ts";
import { OUTCOME_PREFIX, runInWorkers } from "./workers.ts";

const SUITE_SEEDS = [1, 2, 3];

const USAGE = `usage: deno task bench [EXPERIMENT ...] [options]

EXPERIMENT   a config name under configs/ (${listConfigs().join(", ")}) or a path
             to a .json config; none = the suite: every config marked "suite" (all but
             gaussian-moments-blog), 3 seeds each

options:
  --seed N          root seed of every random stream (default 1; the suite: 1, 2, 3)
  --seeds LIST      several seeds: "1,2,3", or a count N for seeds 1…N; runs every
                    experiment for each seed
  --backend B       auto | webgpu | wasm+openblas | wasm | cpu (default auto: a hardware
                    WebGPU adapter, else wasm with OpenBLAS matrix products, else plain
                    wasm, else cpu)
  --blas-threads N  OpenBLAS threads per run on wasm+openblas (default 1); results are
                    identical only at the same count, which result.json records
  --train-step S    auto | fused | autodiff (default auto: MLP models with the
                    simultaneous update take the fused step on wasm+openblas, the rest
                    TF.js autodiff); results are identical only with the same step
  --out DIR         output folder (default reports); runs go to DIR/<experiment>/seed-<N>/
  --profile P       apply a profile declared in the config, e.g. smoke (default paper)
  --set PATH=VALUE  override a config field, e.g. --set training.budget.iterations=100
                    (VALUE is JSON if it parses as JSON, else a string; repeatable)
  --resume          continue each run from its checkpoint (refused if the config changed)
                    with a larger training.budget (--set or an edited config), the run
                    continues to the new budget (an extension); any other change is refused
  --eval-only       with --resume: score the checkpoint as it is, without training further
  --milestone N     with --eval-only: score the milestone kept at iteration N
                    (config training.milestones) instead of the latest checkpoint
  --jobs N          run N runs at once (default 1); with several runs each runs in its
                    own worker process; a run starts only when the estimated memory of
                    the running ones leaves room (see --max-memory)
  --max-memory GB   memory the runs of --jobs may use together (default: 90% of the
                    memory available at start)
  --check           exit 1 when a run misses a stability band of its profile
                    (the config's "expect"); every run records its bands anyway
  --list            print the planned runs with estimated time and memory; run nothing
  --dry-run         validate every config and read every data source (checksums included),
                    print the planned runs and their iterations, and train nothing
  --mnist DIR, --fashion-mnist DIR, --cifar10 PATH, --tfd FILE
                    read a data set from there instead of its default place
                    (TFD: also $GANBENCH_TFD; see deno task data)
  -h, --help        show this help
`;

interface Flags {
  /** null: the suite. */
  experiments: string[] | null;
  seeds: number[];
  backend: BackendChoice;
  blasThreads: number;
  trainStep: TrainStepChoice;
  out: string;
  profile: string;
  overrides: string[];
  resume: boolean;
  evalOnly: boolean;
  /** With --eval-only: score this milestone instead of the latest checkpoint. */
  milestone: number | null;
  dryRun: boolean;
  list: boolean;
  check: boolean;
  jobs: number;
  maxMemoryGB: number | null;
  /** A --jobs worker: exactly one run, no dependencies, outcome on stdout. */
  worker: boolean;
  reuseCompleted: boolean;
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
        "train-step": { type: "string", default: "auto" },
        out: { type: "string", default: "reports" },
        profile: { type: "string", default: "paper" },
        set: { type: "string", multiple: true, default: [] },
        resume: { type: "boolean", default: false },
        "eval-only": { type: "boolean", default: false },
        milestone: { type: "string" },
        "dry-run": { type: "boolean", default: false },
        list: { type: "boolean", default: false },
        check: { type: "boolean", default: false },
        jobs: { type: "string", default: "1" },
        "max-memory": { type: "string" },
        worker: { type: "boolean", default: false },
        "reuse-completed": { type: "boolean", default: false },
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
  const suite = parsed.positionals.length === 0;
  const seeds = parseSeeds(v.seed, v.seeds) ?? (suite ? SUITE_SEEDS : [1]);
  if (!/^[1-9]\d*$/.test(v.jobs)) {
    throw new UsageError(`--jobs: found "${v.jobs}"; expected a count ≥ 1`);
  }
  const maxMemory = v["max-memory"];
  if (maxMemory !== undefined && !(Number(maxMemory) > 0)) {
    throw new UsageError(`--max-memory: found "${maxMemory}"; expected a number of GB > 0`);
  }
  if (v["eval-only"] && !v.resume) {
    throw new UsageError("--eval-only scores a saved checkpoint: add --resume");
  }
  if (v.milestone !== undefined && !v["eval-only"]) {
    throw new UsageError("--milestone scores a kept milestone: add --resume --eval-only");
  }
  if (!(BACKEND_CHOICES as readonly string[]).includes(v.backend)) {
    throw new UsageError(
      `--backend: found "${v.backend}"; expected one of ${BACKEND_CHOICES.join(", ")}`,
    );
  }
  if (!(TRAIN_STEP_CHOICES as readonly string[]).includes(v["train-step"])) {
    throw new UsageError(
      `--train-step: found "${v["train-step"]}"; expected one of ${TRAIN_STEP_CHOICES.join(", ")}`,
    );
  }
  return {
    experiments: suite ? null : parsed.positionals,
    seeds,
    backend: v.backend as BackendChoice,
    blasThreads: positiveInteger("--blas-threads", v["blas-threads"]),
    trainStep: v["train-step"] as TrainStepChoice,
    out: v.out,
    profile: v.profile,
    overrides: v.set,
    resume: v.resume,
    evalOnly: v["eval-only"],
    milestone: v.milestone === undefined ? null : positiveInteger("--milestone", v.milestone),
    dryRun: v["dry-run"],
    list: v.list,
    check: v.check,
    jobs: Number(v.jobs),
    maxMemoryGB: maxMemory === undefined ? null : Number(maxMemory),
    worker: v.worker,
    reuseCompleted: v["reuse-completed"],
    data: { mnist: v.mnist, fashionMnist: v["fashion-mnist"], cifar10: v.cifar10, tfd: v.tfd },
  };
}

function positiveInteger(flag: string, text: string): number {
  if (!/^\d+$/.test(text) || Number(text) < 1 || !Number.isSafeInteger(Number(text))) {
    throw new UsageError(`${flag}: found "${text}"; expected an integer ≥ 1`);
  }
  return Number(text);
}

/** `--seed N`, or `--seeds 1,2,3` / `--seeds N` (seeds 1…N); undefined when neither. */
function parseSeeds(seed: string | undefined, seeds: string | undefined): number[] | undefined {
  const integer = (text: string, flag: string) => {
    if (!/^\d+$/.test(text) || !Number.isSafeInteger(Number(text))) {
      throw new UsageError(`${flag}: found "${text}"; expected a non-negative integer`);
    }
    return Number(text);
  };
  if (seed !== undefined && seeds !== undefined) {
    throw new UsageError("give --seed or --seeds, not both");
  }
  if (seeds === undefined) return seed === undefined ? undefined : [integer(seed, "--seed")];
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

export async function main(args: string[]): Promise<number> {
  let flags: Flags | null;
  let tasks: Task[];
  try {
    flags = parseFlags(args);
    if (!flags) {
      console.log(USAGE);
      return 0;
    }
    tasks = planTasks({
      experiments: flags.experiments,
      seeds: flags.seeds,
      profile: flags.profile,
      overrides: flags.overrides,
      out: flags.out,
      withoutDependencies: flags.worker,
      // auto, as the runs will resolve it on a CPU (a hardware WebGPU adapter aside)
      backend: flags.backend === "auto" ? (openBlas() ? "wasm+openblas" : "wasm") : flags.backend,
    });
    if (flags.worker) tasks.forEach((t) => (t.dependency = flags!.reuseCompleted));
  } catch (e) {
    if (e instanceof ConfigError || e instanceof UsageError) {
      console.error(`error: ${e.message}`);
      if (e instanceof UsageError) console.error(`\n${USAGE}`);
      return 2;
    }
    throw e;
  }
  const memoryGB = flags.maxMemoryGB ?? availableMemoryGB();
  const cores = navigator.hardwareConcurrency;
  if (!flags.worker && flags.blasThreads * Math.min(flags.jobs, tasks.length) > cores) {
    // OpenBLAS threads spin while they wait: oversubscribed cores slow every run down
    console.warn(
      `warning: ${Math.min(flags.jobs, tasks.length)} jobs × ${flags.blasThreads} BLAS ` +
        `threads > ${cores} cores; use --blas-threads ${
          Math.max(1, Math.floor(cores / flags.jobs))
        }`,
    );
  }
  if (flags.list) {
    for (const line of listing(tasks, flags.jobs, memoryGB)) console.log(line);
    return 0;
  }
  if (flags.dryRun) return await dryRun(tasks, flags);

  // Checkpoints to resume from, all checked before anything runs.
  const resumes = new Map<string, Checkpoint>();
  if (flags.resume) {
    const folder = await import("../record/run-folder.ts");
    for (const task of tasks) {
      const { dir, key } = task;
      let cp;
      try {
        cp = flags.milestone === null
          ? folder.readCheckpoint(dir)
          : folder.readMilestone(dir, flags.milestone);
      } catch (e) {
        console.error(`error: --resume: ${(e as Error).message}`);
        return 2;
      }
      if (!cp) {
        console.error(
          `error: --resume: ${dir} has no checkpoint (${
            flags.milestone === null
              ? "checkpoints/latest.ckpt"
              : folder.milestonePath(".", flags.milestone)
          }) to resume from`,
        );
        return 2;
      }
      const refusal = folder.resumeRefusal(cp, task);
      if (refusal) {
        console.error(`error: --resume: ${refusal}`);
        return 2;
      }
      resumes.set(key, cp);
    }
  }

  const controller = new AbortController();
  const onSignal = () => controller.abort();
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);
  const startedAt = new Date();
  let outcomes: Outcome[];
  try {
    // Several runs each get a fresh process, even one at a time: the wasm heap never shrinks,
    // and after a CIFAR-10 run the next run in the same process fails with "memory access out
    // of bounds" (measured: the smoke suite, one process).
    outcomes = !flags.worker && (flags.jobs > 1 || tasks.length > 1)
      ? await runInWorkers(tasks, {
        jobs: flags.jobs,
        memoryGB,
        shared: workerArgs(flags),
        signal: controller.signal,
      })
      : await runHere(tasks, flags, resumes, controller.signal);
  } finally {
    Deno.removeSignalListener("SIGINT", onSignal);
    Deno.removeSignalListener("SIGTERM", onSignal);
  }
  const interrupted = outcomes.some((o) => o.status === "interrupted");
  if (flags.worker) {
    console.log(OUTCOME_PREFIX + JSON.stringify(outcomes[0]));
    return interrupted ? 130 : outcomes[0].status === "failed" ? 1 : 0;
  }

  const summary: SuiteSummary = {
    format: SUITE_FORMAT,
    profile: flags.profile,
    seeds: flags.seeds,
    jobs: flags.jobs,
    check: flags.check,
    startedAt: startedAt.toISOString(),
    wallSeconds: (Date.now() - startedAt.getTime()) / 1000,
    runs: outcomes,
    missed: missedBands(outcomes),
  };
  const path = await writeSummary(flags.out, summary);
  const { writeIndexPage } = await import("../report/build.ts");
  console.log(`index of every run in ${flags.out}: ${await writeIndexPage(flags.out)}`);
  if (outcomes.length > 1 || flags.check || outcomes.some((o) => o.status === "failed")) {
    console.log(`\n${summaryLines(summary).join("\n")}\n  → ${path}`);
  }
  if (interrupted) return 130;
  if (outcomes.some((o) => o.status === "failed")) return 1;
  return flags.check && summary.missed.length ? 1 : 0;
}

/** The runs one after another in this process (a single run, or a worker's); a failure is reported. */
async function runHere(
  tasks: Task[],
  flags: Flags,
  resumes: Map<string, Checkpoint>,
  signal: AbortSignal,
): Promise<Outcome[]> {
  const { runTask } = await import("./run-task.ts");
  const outcomes = new Map<string, Outcome>();
  for (const task of tasks) {
    const base = {
      key: task.key,
      experiment: task.resolved.experiment,
      seed: task.seed,
      profile: task.resolved.profile,
      dir: task.dir,
    };
    const before = task.after ? outcomes.get(task.after) : undefined;
    if (signal.aborted) {
      outcomes.set(task.key, { ...base, status: "interrupted", reason: "not started" });
    } else if (before && (before.status === "failed" || before.status === "interrupted")) {
      outcomes.set(task.key, {
        ...base,
        status: before.status,
        reason: `not started: needs ${before.experiment}, which ${
          before.status === "failed" ? "failed" : "was interrupted"
        }`,
      });
    } else {
      try {
        outcomes.set(
          task.key,
          await runTask(task, {
            out: flags.out,
            backend: flags.backend,
            blasThreads: flags.blasThreads,
            trainStep: flags.trainStep,
            evalOnly: flags.evalOnly,
            milestone: flags.milestone,
            data: flags.data,
            signal,
            resume: resumes.get(task.key),
            measureMemory: flags.worker,
          }),
        );
      } catch (e) {
        console.error(`${task.resolved.experiment} seed ${task.seed}: failed:`, e);
        outcomes.set(task.key, { ...base, status: "failed", reason: (e as Error).message });
      }
    }
  }
  return tasks.map((t) => outcomes.get(t.key)!);
}

/** What a worker needs of this invocation: everything but experiments, seeds and scheduling. */
function workerArgs(flags: Flags): string[] {
  const data: [string, string | undefined][] = [
    ["--mnist", flags.data.mnist],
    ["--fashion-mnist", flags.data.fashionMnist],
    ["--cifar10", flags.data.cifar10],
    ["--tfd", flags.data.tfd],
  ];
  return [
    ...["--backend", flags.backend, "--blas-threads", String(flags.blasThreads)],
    ...["--train-step", flags.trainStep],
    ...["--out", flags.out, "--profile", flags.profile],
    ...flags.overrides.flatMap((s) => ["--set", s]),
    ...(flags.resume ? ["--resume"] : []),
    ...(flags.evalOnly ? ["--eval-only"] : []),
    ...(flags.milestone === null ? [] : ["--milestone", String(flags.milestone)]),
    ...data.flatMap(([flag, value]) => (value === undefined ? [] : [flag, value])),
  ];
}

/** 90% of the memory available now; unlimited when the system does not say (no --allow-sys). */
function availableMemoryGB(): number {
  try {
    return (0.9 * Deno.systemMemoryInfo().available) / 1024 ** 3;
  } catch {
    return Infinity;
  }
}

/** Reads each run's data (verifying checksums) and prints what would run; trains nothing. */
async function dryRun(tasks: Task[], flags: Flags): Promise<number> {
  const { openRealData } = await import("../data/real-data.ts");
  const { DataError, MissingDataError } = await import("../data/errors.ts");
  const { Rng } = await import("../rng/streams.ts");
  let corrupt = 0;
  const experiments = tasks.filter((t, i) =>
    tasks.findIndex((u) => u.resolved.experiment === t.resolved.experiment) === i
  );
  for (const { resolved } of experiments) {
    const { config } = resolved;
    const t = config.training;
    let line: string;
    try {
      const real = openRealData(config.data, new Rng(0), t.batchSize, flags.data);
      const iterations = spanIterations(t.budget, {
        batchesPerEpoch: real.batchesPerEpoch,
        dPerIteration: discriminatorBatchesPerIteration(t),
      }, "training.budget");
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
