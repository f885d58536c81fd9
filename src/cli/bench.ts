/**
 * `deno task bench [EXPERIMENT ...] [options]`: the paper suite (no EXPERIMENT), or the named
 * experiments, once per seed, in this process or in --jobs worker processes.
 *
 * Every config is loaded and validated before anything trains or is written; a bad
 * config or flag exits 2 with a message that names the file, the JSON path, what was
 * found and what is allowed. A run whose data are absent (TFD is not public) is skipped
 * with its reason recorded, which is not a failure. Ctrl-C saves a checkpoint (exit 130).
 * Exit 1: a run failed, or with --check a stability band was missed; exit 3: data, files,
 * checkpoints or a run folder in use (src/cli/exit.ts, docs/exit-codes.md).
 */
import { forcedCoreType } from "../backend/blas-probe.ts";
import { openBlas, openBlasUnavailableReason } from "../backend/openblas.ts";
import { BACKEND_CHOICES, type BackendChoice } from "../backend/info.ts";
import { ConfigError } from "../config/errors.ts";
import { listConfigs } from "../config/load.ts";
import { discriminatorBatchesPerIteration, spanIterations } from "../config/span.ts";
import type { DataSources } from "../data/registry.ts";
import type { Checkpoint } from "../record/checkpoint.ts";
import { TRAIN_STEP_CHOICES, type TrainStepChoice } from "../train/steps/names.ts";
import {
  nonNegativeInteger,
  oneOf,
  parseCommand,
  positiveInteger,
  runMain,
  UsageError,
  usageFailure,
} from "./args.ts";
import { EMIT_KINDS, type EmitKind, planArgs } from "./emit.ts";
import { bandNotes } from "./band-notes.ts";
import { listing, planTasks, type Task } from "./plan.ts";
import { parseShard, planId, type ShardSpec, shardTasks } from "./shard.ts";
import {
  missedBands,
  type Outcome,
  SUITE_FORMAT,
  type SuiteSummary,
  summaryLines,
  writeSummary,
} from "./summary.ts";
import { OUTCOME_PREFIX, runInWorkers } from "./workers.ts";
import { errorLine, EXIT, reportError } from "./exit.ts";
import { assertFree, assertOutFolder } from "../record/run-guard.ts";
import { checkMemory } from "./memory-model.ts";

const SUITE_SEEDS = [1, 2, 3];

const USAGE = `usage: deno task bench [EXPERIMENT ...] [options]
       deno task bench --suite PROFILE [options]

EXPERIMENT   a config name under configs/ or a path to a .json config; with none and no
             --suite, bench prints the suite's plan and what to run, and trains nothing.
             Configs: ${wrapList(listConfigs(), 13, 80)}

options:
  --suite P         run the suite: every config marked "suite" (all but
                    gaussian-moments-blog) at profile P (paper or smoke), seeds 1, 2, 3;
                    --suite stability: the mixture configs at a short budget (configs
                    whose "suite" list names it)
  --seed N          root seed of every random stream (default 1; the suite: 1, 2, 3)
  --seeds LIST      several seeds: "1,2,3", or a count N for seeds 1…N; runs every
                    experiment for each seed
  --backend B       auto | webgpu | wasm+openblas | wasm | cpu (default auto: a hardware
                    WebGPU adapter, else wasm with OpenBLAS matrix products, else plain
                    wasm, else cpu)
  --blas-threads N  threads for each run's matrix products on wasm+openblas (default:
                    the cores divided among --jobs); the count changes no number
  --train-step S    auto | fused | autodiff (default auto: MLP models with the
                    simultaneous update take the fused step on wasm+openblas, the rest
                    TF.js autodiff); results are identical only with the same step
  --out DIR         output folder (default reports); runs go to DIR/<experiment>/seed-<N>/
                    (a --set that changes more than the budget: DIR/<experiment>+<hash>/…)
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
  --continue        reuse each completed run of the same config, resume each run that has
                    a checkpoint, start the others (safe to repeat)
  --shard I/N       run the I-th of N balanced parts of the plan (a stacked stage stays
                    with the stage it builds on); implies --continue; its summary goes to
                    DIR/shards/ (deno task merge DIR builds the index). With --list: the part
  --emit E          print a script that runs the plan in --shards parts: slurm (an sbatch
                    job array and a merge job; run it with bash) or github-actions (a
                    matrix workflow); see docs/cluster.md
  --shards N        with --emit: the number of parts (default: as many as can be made)
  --dry-run         validate every config and read every data source (checksums included),
                    print the planned runs, their iterations and each network's layer
                    shapes and parameters, and train nothing
  --mnist DIR, --fashion-mnist DIR, --cifar10 PATH, --tfd FILE
                    read a data set from there instead of its default place
                    (TFD: also $GANBENCH_TFD; see deno task data)
  -h, --help        show this help
  --version         print ganbench's version

exit codes:
  0    done (skipped runs and, without --check, missed bands included); the plan printed
  1    a run failed, or with --check a band was missed
  2    a bad flag, argument or config, a layer whose shapes do not fit, or a run too big
       for the memory allowed (nothing was trained or written)
  3    data or files: data missing where a flag pointed, or corrupt (--dry-run included);
       a corrupt checkpoint; a path that cannot be written; a run folder in use
  130  interrupted (Ctrl-C or SIGTERM): checkpoints written, continue with --resume
`;

/** `a, b, c` wrapped to `width` columns, continuation lines indented by `indent`. */
function wrapList(items: string[], indent: number, width: number): string {
  const lines: string[] = [];
  let line = "";
  for (const item of items) {
    const next = line ? `${line}, ${item}` : item;
    if (line && indent + next.length + 1 > width) {
      lines.push(`${line},`);
      line = item;
    } else line = next;
  }
  lines.push(line);
  return lines.join(`\n${" ".repeat(indent)}`);
}

interface Flags {
  /** null: the suite. */
  experiments: string[] | null;
  /** No experiment and no --suite: print the plan and what to run; train nothing. */
  planOnly: boolean;
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
  /** --continue, or implied by --shard. */
  continue: boolean;
  shard: ShardSpec | null;
  emit: EmitKind | null;
  shards: number | null;
  /** The plan's own arguments (not --out, --emit, --shards, --shard, --list, --continue). */
  planArgs: string[];
  data: DataSources;
}

const OPTIONS = {
  seed: { type: "string" },
  seeds: { type: "string" },
  suite: { type: "string" },
  backend: { type: "string", default: "auto" },
  "blas-threads": { type: "string" },
  "train-step": { type: "string", default: "auto" },
  out: { type: "string", default: "reports" },
  profile: { type: "string" },
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
  continue: { type: "boolean", default: false },
  shard: { type: "string" },
  emit: { type: "string" },
  shards: { type: "string" },
  mnist: { type: "string" },
  "fashion-mnist": { type: "string" },
  cifar10: { type: "string" },
  tfd: { type: "string" },
} as const;

function parseFlags(args: string[]): Flags | null {
  const parsed = parseCommand(
    { name: "bench", usage: USAGE, options: OPTIONS, positionals: { max: Infinity, what: "" } },
    args,
  );
  if (!parsed) return null;
  const v = parsed.values;
  if (v.suite !== undefined && parsed.positionals.length) {
    throw new UsageError("give experiments or --suite, not both");
  }
  if (v.suite !== undefined && v.profile !== undefined && v.suite !== v.profile) {
    throw new UsageError(
      `--suite ${v.suite} runs the suite at profile ${v.suite}; drop --profile ${v.profile}`,
    );
  }
  const profile = v.suite ?? v.profile ?? "paper";
  const suite = parsed.positionals.length === 0;
  // no experiment and no --suite: print the plan, train nothing (unless only listing)
  const planOnly = suite && v.suite === undefined && !v.list && !v["dry-run"];
  if (planOnly && (v.check || v.resume)) {
    throw new UsageError(
      `${
        v.check ? "--check" : "--resume"
      } needs something to run: name experiments or give --suite`,
    );
  }
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
  if (v.continue && v.resume) {
    throw new UsageError(
      "--continue already resumes the runs that have a checkpoint: drop --resume",
    );
  }
  if (v.emit !== undefined) oneOf("--emit", v.emit, EMIT_KINDS);
  if (v.shards !== undefined && v.emit === undefined) {
    throw new UsageError("--shards N sizes an emitted script: add --emit slurm|github-actions");
  }
  if (v.emit !== undefined && v.shard !== undefined) {
    throw new UsageError("--emit writes every shard's job: drop --shard");
  }
  oneOf("--backend", v.backend, BACKEND_CHOICES);
  // refused before any run folder is made, not as each run's failure; auto with a kernel
  // family forced was meant to run on OpenBLAS, not to fall back to plain wasm unseen
  const wantsOpenBlas = v.backend === "wasm+openblas" ||
    (v.backend === "auto" && forcedCoreType() !== "");
  if (wantsOpenBlas && !openBlas()) {
    throw new UsageError(`--backend ${v.backend}: ${openBlasUnavailableReason()}`);
  }
  oneOf("--train-step", v["train-step"], TRAIN_STEP_CHOICES);
  return {
    experiments: suite ? null : parsed.positionals,
    planOnly,
    seeds,
    backend: v.backend as BackendChoice,
    blasThreads: v["blas-threads"] === undefined
      ? defaultBlasThreads(Number(v.jobs))
      : positiveInteger("--blas-threads", v["blas-threads"]),
    trainStep: v["train-step"] as TrainStepChoice,
    out: v.out,
    profile,
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
    continue: v.continue || v.shard !== undefined,
    shard: v.shard === undefined ? null : parseShard(v.shard),
    emit: (v.emit ?? null) as EmitKind | null,
    shards: v.shards === undefined ? null : positiveInteger("--shards", v.shards),
    planArgs: planArgs(args, parsed.tokens),
    data: { mnist: v.mnist, fashionMnist: v["fashion-mnist"], cifar10: v.cifar10, tfd: v.tfd },
  };
}

/**
 * Every core, divided among the runs at once: the products' thread count changes no number
 * (src/backend/blas-threads.ts), so it may follow the machine and --jobs.
 */
function defaultBlasThreads(jobs: number): number {
  return Math.max(1, Math.floor(navigator.hardwareConcurrency / jobs));
}

/** `--seed N`, or `--seeds 1,2,3` / `--seeds N` (seeds 1…N); undefined when neither. */
function parseSeeds(seed: string | undefined, seeds: string | undefined): number[] | undefined {
  if (seed !== undefined && seeds !== undefined) {
    throw new UsageError("give --seed or --seeds, not both");
  }
  if (seeds === undefined) {
    return seed === undefined ? undefined : [nonNegativeInteger("--seed", seed)];
  }
  if (!seeds.includes(",")) {
    const n = nonNegativeInteger("--seeds", seeds);
    if (n < 1) {
      throw new UsageError(`--seeds: found "${seeds}"; expected a count ≥ 1 or a list like 1,2,3`);
    }
    return Array.from({ length: n }, (_, i) => i + 1);
  }
  const list = seeds.split(",").map((t) => nonNegativeInteger("--seeds", t.trim()));
  if (new Set(list).size !== list.length) {
    throw new UsageError(`--seeds: "${seeds}" repeats a seed`);
  }
  return list;
}

export async function main(args: string[]): Promise<number> {
  let flags: Flags | null;
  let tasks: Task[];
  let plan: Task[];
  try {
    flags = parseFlags(args);
    if (!flags) return 0; // --help or --version, answered
    tasks = planTasks({
      experiments: flags.experiments,
      seeds: flags.seeds,
      profile: flags.profile,
      overrides: flags.overrides,
      out: flags.out,
      withoutDependencies: flags.worker,
      backend: autoBackend(flags.backend),
    });
    if (flags.worker) tasks.forEach((t) => (t.dependency = flags!.reuseCompleted));
    if (flags.emit) {
      const { emitScript } = await import("./emit.ts");
      console.log(emitScript(flags.emit, tasks, {
        planArgs: flags.planArgs,
        out: flags.out,
        shards: flags.shards,
        blasThreads: flags.blasThreads,
        jobs: flags.jobs,
      }));
      return 0;
    }
    plan = tasks;
    if (flags.shard) tasks = shardTasks(tasks, flags.shard);
  } catch (e) {
    if (e instanceof UsageError) return usageFailure("bench", e);
    if (e instanceof ConfigError) {
      reportError(e);
      return EXIT.usage;
    }
    throw e;
  }
  if (!flags.worker && !flags.planOnly) {
    for (const line of bandNotes(tasks)) console.error(line);
  }
  const memoryGB = flags.maxMemoryGB ?? availableMemoryGB();
  const cores = navigator.hardwareConcurrency;
  if (!flags.worker && flags.blasThreads * Math.min(flags.jobs, tasks.length) > cores) {
    // more threads than cores slow every run down
    console.warn(
      `warning: ${Math.min(flags.jobs, tasks.length)} jobs × ${flags.blasThreads} BLAS ` +
        `threads > ${cores} cores; use --blas-threads ${
          Math.max(1, Math.floor(cores / flags.jobs))
        }`,
    );
  }
  if (flags.planOnly) {
    const { suggestionLines } = await import("./suggest.ts");
    const lines = suggestionLines(tasks, {
      profile: flags.profile,
      seeds: flags.seeds,
      out: flags.out,
      backend: autoBackend(flags.backend),
      jobs: flags.jobs,
      memoryGB,
    });
    for (const line of lines) console.log(line);
    return 0;
  }
  if (flags.list) {
    if (flags.shard) {
      const { index, count } = flags.shard;
      console.log(
        `shard ${index}/${count} of plan ${
          planId(plan, count)
        }: ${tasks.length} of ${plan.length} runs`,
      );
      if (!tasks.length) return 0;
    }
    for (const line of listing(tasks, flags.jobs, memoryGB)) console.log(line);
    return 0;
  }
  // a run that cannot fit is refused before anything reads data or trains
  const limit = flags.maxMemoryGB === null
    ? { gb: totalMemoryGB(), source: "this machine has" }
    : { gb: flags.maxMemoryGB, source: "--max-memory allows" };
  for (const { resolved } of tasks) {
    checkMemory(resolved.experiment, resolved.config, limit.gb, limit.source);
  }
  if (flags.dryRun) return await dryRun(tasks, flags);

  // A run folder another bench holds is refused before anything runs (run-guard.ts).
  assertOutFolder(flags.out);
  for (const task of tasks) await assertFree(task.dir);

  // Checkpoints to resume from, all checked before anything runs.
  const resumes = new Map<string, Checkpoint>();
  if (flags.resume || flags.continue) {
    const folder = await import("../record/run-folder.ts");
    for (const task of tasks) {
      const { dir, key } = task;
      if (flags.continue && folder.isCompleted(dir, task.resolved.configHash)) continue;
      let cp;
      try {
        cp = flags.milestone === null
          ? folder.readCheckpoint(dir)
          : folder.readMilestone(dir, flags.milestone);
      } catch (e) {
        return reportError(e, "--resume: ");
      }
      if (!cp && flags.continue) continue;
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
    outcomes = tasks.length === 0
      ? []
      : !flags.worker && (flags.jobs > 1 || tasks.length > 1)
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
    return interrupted
      ? EXIT.interrupted
      : outcomes[0].status === "failed"
      ? outcomes[0].exitCode ?? EXIT.failed
      : EXIT.ok;
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
  let path: string;
  if (flags.shard) {
    // shards may share one folder: each writes its own record; deno task merge the index
    const { writeShardRecord } = await import("./merge.ts");
    path = await writeShardRecord(flags.out, flags.shard, plan, tasks, summary);
    console.log(`shard ${flags.shard.index}/${flags.shard.count} recorded in ${path}`);
  } else {
    path = await writeSummary(flags.out, summary);
    const { writeIndexPage } = await import("../report/build.ts");
    console.log(`index of every run in ${flags.out}: ${await writeIndexPage(flags.out)}`);
  }
  if (outcomes.length > 1 || flags.check || outcomes.some((o) => o.status === "failed")) {
    console.log(`\n${summaryLines(summary).join("\n")}\n  → ${path}`);
  }
  if (interrupted) return EXIT.interrupted;
  const failed = outcomes.filter((o) => o.status === "failed");
  // failures all of one kind (e.g. data: 3) exit with its code, as each alone would
  const codes = new Set(failed.map((o) => o.exitCode ?? EXIT.failed));
  if (failed.length) return codes.size === 1 ? [...codes][0] : EXIT.failed;
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
            reuseCompleted: flags.continue,
            measureMemory: flags.worker,
          }),
        );
      } catch (e) {
        const exitCode = reportError(e, `${task.resolved.experiment} seed ${task.seed} failed: `);
        outcomes.set(task.key, { ...base, status: "failed", reason: errorLine(e), exitCode });
      }
    }
  }
  return tasks.map((t) => outcomes.get(t.key)!);
}

/** The backend the estimates use: auto as the runs will resolve it on a CPU (a hardware WebGPU adapter aside). */
function autoBackend(choice: BackendChoice): string {
  return choice === "auto" ? (openBlas() ? "wasm+openblas" : "wasm") : choice;
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
    ...(flags.continue ? ["--continue"] : []),
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

/** The machine's memory; unlimited when the system does not say (no --allow-sys). */
function totalMemoryGB(): number {
  try {
    return Deno.systemMemoryInfo().total / 1024 ** 3;
  } catch {
    return Infinity;
  }
}

/** Reads each run's data (verifying checksums) and prints what would run; trains nothing. */
async function dryRun(tasks: Task[], flags: Flags): Promise<number> {
  const { openRealData } = await import("../data/real-data.ts");
  const { DataError, MissingDataError } = await import("../data/errors.ts");
  const { Rng } = await import("../rng/streams.ts");
  const { modelShapes, shapeTableLines } = await import("../models/shapes.ts");
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
        line = `would be skipped: ${e.message.replace(/\s*\n\s*/g, "; ")}`;
      } else if (e instanceof DataError) {
        corrupt++;
        line = `data error: ${e.message.replace(/\s*\n\s*/g, "; ")}`;
      } else throw e;
    }
    console.log(
      `${resolved.experiment} (${resolved.profile}, seeds ${flags.seeds.join(",")}): ${line}`,
    );
    const { G, D } = modelShapes(resolved);
    for (const row of [...shapeTableLines(G), ...shapeTableLines(D)]) console.log(`  ${row}`);
  }
  return corrupt ? EXIT.io : EXIT.ok;
}

if (import.meta.main) await runMain("bench", () => main(Deno.args));
