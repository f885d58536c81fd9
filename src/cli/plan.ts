/**
 * What a bench invocation will run: one task per experiment × seed, each stacked stage after
 * the stage it builds on (same seed), with estimated time and memory from the config's
 * `cost` (--list, and the order and memory limit of --jobs). Loads configs; no TF.js.
 */
import { ConfigError } from "../config/errors.ts";
import { listConfigs, loadConfig, type ResolvedConfig } from "../config/load.ts";
import { UsageError } from "./args.ts";
import { discriminatorBatchesPerIteration, spanIterations } from "../config/span.ts";
import { runFolder, runKey } from "../record/run-folder.ts";
import { formatDuration } from "./progress.ts";
import { runFolderInside, RunNameError } from "../record/run-guard.ts";
import { modelShapes } from "../models/shapes.ts";
import { estimateMemory } from "./memory-model.ts";

export interface Task {
  /** `<experiment>/seed-<N>`: also the run folder below --out. */
  key: string;
  resolved: ResolvedConfig;
  seed: number;
  /** Added because another run builds on it; a completed one is reused. */
  dependency: boolean;
  /** The key of the task whose final generator this one starts from. */
  after: string | null;
  /** That task's run folder (also set for a worker, which does not plan that task). */
  afterDir: string | null;
  dir: string;
  estimate: Estimate;
}

export interface Estimate {
  /** null where the budget is in epochs of a data set whose size is known only once read. */
  iterations: number | null;
  seconds: number | null;
  memoryGB: number | null;
}

/**
 * Training-split sizes, for estimating epoch budgets without reading the data
 * (src/data: MNIST and Fashion-MNIST train[0:50000], CIFAR-10 train[0:40000]).
 */
const TRAINING_EXAMPLES: Record<string, number | undefined> = {
  mnist: 50_000,
  "fashion-mnist": 50_000,
  cifar10: 40_000,
};

export interface PlanOptions {
  /** Config names or paths; null: the suite (every config with `suite` true). */
  experiments: string[] | null;
  seeds: number[];
  profile: string;
  overrides: string[];
  out: string;
  /** Plan only the named experiments (a worker: its parent ran the dependencies). */
  withoutDependencies?: boolean;
  /** The backend the runs will use, for the estimates (default "wasm"). */
  backend?: string;
}

/** The tasks in run order: seeds outer, each stage after the stage it builds on. */
export function planTasks(options: PlanOptions): Task[] {
  const { profile, overrides } = options;
  const configs: { resolved: ResolvedConfig; dependency: boolean }[] = [];
  const add = (name: string, chain: string[]) => {
    if (chain.includes(name)) {
      throw new UsageError(`pretrained stages form a cycle: ${[...chain, name].join(" → ")}`);
    }
    const resolved = loadConfig(name, { profile, overrides });
    // every layer's shapes against its input and the data, before anything is written
    modelShapes(resolved);
    const before = resolved.config.generator.pretrained?.experiment;
    if (before && !options.withoutDependencies) add(before, [...chain, name]);
    const known = configs.find((p) => p.resolved.experiment === resolved.experiment);
    if (!known) configs.push({ resolved, dependency: chain.length > 0 });
    else if (chain.length === 0) known.dependency = false;
  };
  const names = options.experiments ?? suiteConfigs(profile);
  for (const name of names) add(name, []);
  // the folder of the stage each builds on (with the same --set, so maybe a variant's)
  const folderOf = (experiment: string) =>
    configs.find((c) => c.resolved.experiment === experiment)?.resolved.folder ??
      loadConfig(experiment, { profile, overrides }).folder;
  return options.seeds.flatMap((seed) =>
    configs.map(({ resolved, dependency }) => {
      const before = resolved.config.generator.pretrained?.experiment;
      const beforeFolder = before ? folderOf(before) : null;
      return {
        key: runKey(resolved.folder, seed),
        resolved,
        seed,
        dependency,
        after: beforeFolder && !options.withoutDependencies ? runKey(beforeFolder, seed) : null,
        afterDir: beforeFolder ? runFolder(options.out, beforeFolder, seed) : null,
        dir: runFolderOf(resolved, options.out, seed),
        estimate: estimate(resolved, options.backend),
      };
    })
  );
}

/** The run folder inside --out; a config whose name would leave it is refused. */
function runFolderOf(resolved: ResolvedConfig, out: string, seed: number): string {
  try {
    runFolderInside(out, resolved.experiment, seed);
    // a variant's folder is the experiment's name and a hex hash, so it is inside out too
    return runFolder(out, resolved.folder, seed);
  } catch (e) {
    if (!(e instanceof RunNameError)) throw e;
    throw new ConfigError(resolved.file, [{
      path: "",
      found: `the file name ${JSON.stringify(resolved.experiment)}`,
      allowed: "expected letters, digits, '.', '_', '-' (first a letter or digit, no '..'): " +
        "the run folder is named after the config file",
    }], "unusable experiment name");
  }
}

/** The profiles the default suite runs at (configs with `suite` true). */
export const DEFAULT_SUITE_PROFILES = ["paper", "smoke"];

/**
 * Every config under configs/ in the suite of `profile`: the default suite (`suite` true) at
 * paper or smoke, else the configs that name the suite in their `suite` list.
 */
function suiteConfigs(profile: string): string[] {
  const named = !DEFAULT_SUITE_PROFILES.includes(profile);
  return listConfigs().filter((name) => {
    try {
      if (!named) return loadConfig(name, { profile }).inSuite;
      // a config without the profile is in no suite of that name (loading it would refuse)
      return loadConfig(name).suites.includes(profile);
    } catch (e) {
      // a broken config is reported when it is planned, not silently left out
      if (e instanceof ConfigError) return true;
      throw e;
    }
  });
}

function secondsPerIteration(given: number | Record<string, number>, backend: string): number {
  return typeof given === "number" ? given : given[backend] ?? Math.max(...Object.values(given));
}

/** Seconds and memory of one run from the config's measured `cost`. */
export function estimate(resolved: ResolvedConfig, backend = "wasm"): Estimate {
  const { config, cost, profile } = resolved;
  const t = config.training;
  const examples = "kind" in config.data ? TRAINING_EXAMPLES[config.data.kind] : undefined;
  const spans = {
    batchesPerEpoch: examples ? Math.ceil(examples / t.batchSize) : null,
    dPerIteration: discriminatorBatchesPerIteration(t),
  };
  const iterations = t.budget.iterations !== undefined || spans.batchesPerEpoch !== null
    ? spanIterations(t.budget, spans, "training.budget")
    : null;
  const fixed = cost?.fixedSeconds[profile];
  return {
    iterations,
    seconds: cost && iterations !== null && fixed !== undefined
      ? fixed + secondsPerIteration(cost.secondsPerIteration, backend) * iterations
      : null,
    // the config's own memory model; cost.memoryGB records measured peaks to check it against
    memoryGB: Number(estimateMemory(config).totalGB.toPrecision(2)),
  };
}

/**
 * The order --jobs starts tasks in, and when each would finish if every estimate were
 * right: whenever a worker is free, the longest ready task whose memory fits beside the
 * running ones (alone, any task fits). Ready: the stage it builds on has finished.
 */
export function schedule(
  tasks: readonly Task[],
  jobs: number,
  memoryGB: number,
  /** Tasks that need no worker (already finished, reused or skipped). */
  done: ReadonlySet<string> = new Set(),
): { order: Task[]; makespan: number | null } {
  const seconds = (t: Task) => t.estimate.seconds ?? 0;
  const memory = (t: Task) => t.estimate.memoryGB ?? 0;
  const finished = new Set(done);
  const waiting = tasks.filter((t) => !finished.has(t.key));
  const running: { task: Task; end: number }[] = [];
  const order: Task[] = [];
  let now = 0;
  while (waiting.length || running.length) {
    const used = running.reduce((sum, r) => sum + memory(r.task), 0);
    const ready = waiting
      .filter((t) =>
        t.after === null || finished.has(t.after) || !tasks.some((u) => u.key === t.after)
      )
      .filter((t) => running.length === 0 || used + memory(t) <= memoryGB)
      .sort((a, b) => seconds(b) - seconds(a));
    if (running.length < jobs && ready.length) {
      const next = ready[0];
      waiting.splice(waiting.indexOf(next), 1);
      order.push(next);
      running.push({ task: next, end: now + seconds(next) });
      continue;
    }
    running.sort((a, b) => a.end - b.end);
    const first = running.shift()!;
    now = first.end;
    finished.add(first.task.key);
  }
  const unknown = tasks.some((t) => !done.has(t.key) && t.estimate.seconds === null);
  return { order, makespan: unknown ? null : now };
}

const bands = (n: number) => (n === 0 ? "" : n === 1 ? "1 band" : `${n} bands`);

/** The --list table: one line per planned run, then the totals. */
export function listing(tasks: readonly Task[], jobs: number, memoryGB: number): string[] {
  const width = Math.max(...tasks.map((t) => t.key.length));
  const lines = tasks.map((t) => {
    const e = t.estimate;
    const its = e.iterations === null ? "? iterations" : `${e.iterations} iterations`;
    const time = e.seconds === null ? "time unknown" : `~${formatDuration(e.seconds)}`;
    const memory = e.memoryGB === null ? "" : `, ~${e.memoryGB} GB`;
    const extra = [
      t.dependency ? "stage another builds on" : "",
      bands(t.resolved.expect.length),
    ].filter(Boolean).join("; ");
    return `${t.key.padEnd(width)}  ${t.resolved.profile}  ${its.padStart(17)}  ${
      time.padStart(9)
    }${memory}` +
      (extra ? `  (${extra})` : "");
  });
  const known = tasks.filter((t) => t.estimate.seconds !== null);
  const total = known.reduce((s, t) => s + t.estimate.seconds!, 0);
  const parallel = schedule(tasks, jobs, memoryGB);
  lines.push(
    `${tasks.length} runs; estimated ${formatDuration(total)} one after another` +
      (known.length < tasks.length
        ? ` (+ ${tasks.length - known.length} without an estimate)`
        : "") +
      (jobs > 1 && parallel.makespan !== null
        ? `, ~${formatDuration(parallel.makespan)} with --jobs ${jobs}`
        : ""),
    "Estimates: the config's cost.secondsPerIteration (for the backend the runs will use) × " +
      "iterations + cost.fixedSeconds[profile], measured on the 2-core build machine; epochs " +
      "use the training split's size.",
  );
  return lines;
}
