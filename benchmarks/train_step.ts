/**
 * One training-throughput measurement in its own process (so its peak RSS is its own):
 * `deno run -A benchmarks/train_step.ts <config> <backend> <blasThreads> <iterations>
 * [--track-tensors K] [--train-step auto|fused|autodiff] [--prefetch-draws on|off]`. Trains the
 * config's paper model for `iterations` iterations with evaluation reduced to a minimum, times
 * the iterations after a warm-up (not the one more that ends the run: its state read-back and
 * hash are the run's), and prints one JSON line (see TrainStepResult). Run by benchmarks/perf.ts; benchmarks/gpu_check.ts calls
 * measureTrainStep in its own child process.
 */
import { blasCounters, wasmHeapBytes } from "../src/backend/wasm-kernels.ts";
import { BACKEND_CHOICES, type BackendChoice } from "../src/backend/info.ts";
import { tf } from "../src/backend/tf.ts";
import {
  type CommandSpec,
  oneOf,
  type OptionSpec,
  parseCommand,
  positiveInteger,
  runMain,
  UsageError,
  type Values,
} from "../src/cli/args.ts";
import { loadConfig } from "../src/config/load.ts";
import { TRAIN_STEP_CHOICES, type TrainStepChoice } from "../src/train/steps/names.ts";
import { runExperiment } from "../src/train/run.ts";
import { trainWarmup } from "./gpu_check_report.ts";

export interface TrainStepResult {
  config: string;
  backend: string;
  blasThreads: number | null;
  /** How the updates ran: src/train/steps/fused-mlp.ts or TF.js autodiff. */
  trainStep: "fused" | "autodiff";
  batchSize: number;
  iterations: number;
  /** Iterations timed (after the warm-up). */
  timed: number;
  iterationsPerSecond: number;
  examplesPerSecond: number;
  /** Matrix-product FLOPs the update rule needs (src/models/flops.ts). */
  modelFlopsPerIteration: number;
  /** FLOPs OpenBLAS actually ran per iteration (null on plain wasm). */
  executedFlopsPerIteration: number | null;
  /** Seconds per iteration inside OpenBLAS (null on plain wasm): the rest is everything else. */
  blasSecondsPerIteration: number | null;
  modelGflopsPerSecond: number;
  /** Peak resident set of the whole process (VmHWM), MiB. */
  peakRssMiB: number;
  /**
   * The peak up to the last iteration (its state read-back included, the end's evaluation of a
   * few samples not): what the same update in PyTorch is compared with.
   */
  trainingPeakRssMiB: number;
  /** The wasm backend's memory after the last iteration (null off wasm), MiB. */
  wasmHeapMiB: number | null;
  /**
   * At each tracked iteration (with --track-tensors): the TF.js tensor count and bytes, the
   * resident set (VmRSS, MiB), its anonymous part (RssAnon, MiB: what the process allocated
   * itself, which the kernel's reclaim of file-backed pages does not move) and the wasm memory
   * (MiB, null off wasm).
   */
  tensors: {
    iteration: number;
    count: number;
    bytes: number;
    rssMiB: number;
    anonMiB: number;
    /** V8's live heap and the memory outside it that JS objects hold (typed arrays), MiB. */
    liveJsMiB: number;
    wasmHeapMiB: number | null;
  }[];
}

/** The process's peak resident set (VmHWM), MiB. */
export function peakRssMiB(): number {
  return statusMiB("VmHWM");
}

/** The process's resident set now (VmRSS), MiB. */
export function rssMiB(): number {
  return statusMiB("VmRSS");
}

/** The anonymous part of the resident set now (RssAnon), MiB. */
export function anonMiB(): number {
  return statusMiB("RssAnon");
}

function statusMiB(field: "VmHWM" | "VmRSS" | "RssAnon"): number {
  const status = Deno.readTextFileSync("/proc/self/status");
  const kb = Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? NaN);
  return kb / 1024;
}

const heapMiB = () => {
  const bytes = wasmHeapBytes();
  return bytes === null ? null : bytes / 2 ** 20;
};

export interface TrainStepOptions {
  /** Sample TF.js's tensors and the memory every this many iterations (0: never). */
  trackEvery?: number;
  trainStep?: TrainStepChoice;
  /** The draw worker: the run's default unless set (src/train/run.ts, RunOptions.prefetchDraws). */
  prefetchDraws?: boolean;
  /** Called after each iteration with its number (from 1) and `performance.now()`. */
  onIteration?: (iteration: number, now: number) => void;
}

/** Trains `name`'s model for `iterations` iterations on `backend` and times them. */
export async function measureTrainStep(
  name: string,
  backend: BackendChoice,
  blasThreads: number,
  iterations: number,
  options: TrainStepOptions = {},
): Promise<TrainStepResult> {
  const trackEvery = options.trackEvery ?? 0;
  // one iteration past the timed ones: a run's last iteration reads back, hashes and hands over
  // the whole state (0.7 s for cifar10-conv's 65M-parameter G), a cost of the run, not of an
  // iteration, and one the PyTorch side (benchmarks/pytorch/gan_step.py) does not pay
  const total = iterations + 1;
  const resolved = loadConfig(name, {
    overrides: [
      `training.budget={"iterations":${total}}`,
      `training.logEvery=${total}`,
      `training.checkpointEvery=${total}`,
      `training.fingerprintEvery=${total}`,
      "metrics.samples=100",
      ...(resolved0(name) ? ["metrics.parzen=null", "metrics.classifier=null"] : []),
      ...(resolved0(name) ? ["metrics.nearestTraining=null"] : []),
    ],
  });
  if (!(iterations >= 2)) throw new Error("at least 2 iterations: one warms up");
  const warmup = trainWarmup(iterations);
  const marks: number[] = [];
  const tensors: TrainStepResult["tensors"] = [];
  let blasAtWarmup = blasCounters(), blasAtEnd = blasAtWarmup;
  let trainingPeak = NaN, heapAtEnd: number | null = null;
  const result = await runExperiment(resolved, {
    seed: 1,
    backend,
    blasThreads,
    trainStep: options.trainStep ?? "auto",
    prefetchDraws: options.prefetchDraws,
    onProgress: (p) => {
      marks.push(performance.now());
      options.onIteration?.(p.iteration, marks.at(-1)!);
      if (p.iteration === warmup) blasAtWarmup = blasCounters();
      if (p.iteration === iterations) blasAtEnd = blasCounters();
      if (p.iteration === total) {
        trainingPeak = peakRssMiB();
        heapAtEnd = heapMiB();
      }
      if (trackEvery && p.iteration % trackEvery === 0) {
        // run with --v8-flags=--expose-gc, each sample follows a collection: what is live,
        // not what the collector has yet to free
        (globalThis as { gc?: () => void }).gc?.();
        const m = tf.memory();
        tensors.push({
          iteration: p.iteration,
          count: m.numTensors,
          bytes: m.numBytes,
          rssMiB: rssMiB(),
          anonMiB: anonMiB(),
          liveJsMiB: (Deno.memoryUsage().heapUsed + Deno.memoryUsage().external) / 2 ** 20,
          wasmHeapMiB: heapMiB(),
        });
      }
    },
  });
  // iterations warmup+1 … iterations; the one after them ends the run (see `total`)
  const timed = iterations - warmup;
  const rate = timed / ((marks[iterations - 1] - marks[warmup - 1]) / 1000);
  const executed = blasAtEnd.flops - blasAtWarmup.flops;
  const model = result.modelFlopsPerIteration ?? NaN;
  return {
    config: name,
    backend: result.backend.name,
    blasThreads: result.backend.blas?.threads ?? null,
    trainStep: result.trainStep ?? "autodiff",
    batchSize: resolved.config.training.batchSize,
    iterations,
    timed,
    iterationsPerSecond: rate,
    examplesPerSecond: rate * resolved.config.training.batchSize,
    modelFlopsPerIteration: model,
    executedFlopsPerIteration: result.backend.blas ? executed / timed : null,
    blasSecondsPerIteration: result.backend.blas
      ? (blasAtEnd.seconds - blasAtWarmup.seconds) / timed
      : null,
    modelGflopsPerSecond: (model * rate) / 1e9,
    peakRssMiB: peakRssMiB(),
    trainingPeakRssMiB: trainingPeak,
    wasmHeapMiB: heapAtEnd,
    tensors,
  };
}

/** The arguments train_step.ts and kernel_profile.ts share: CONFIG BACKEND BLAS_THREADS ITERATIONS. */
export interface StepArgs<O extends Record<string, OptionSpec>> {
  config: string;
  backend: BackendChoice;
  blasThreads: number;
  iterations: number;
  values: Values<O>;
}

/**
 * A step script's arguments, with its own flags; null when --help was answered. Throws
 * UsageError for a bad one (runMain turns it into the shared two lines, exit 2).
 */
export function parseStepArgs<const O extends Record<string, OptionSpec>>(
  spec: CommandSpec<O>,
  args: string[],
): StepArgs<O> | null {
  const parsed = parseCommand({
    ...spec,
    positionals: { max: 4, what: "arguments (CONFIG BACKEND BLAS_THREADS ITERATIONS)" },
  }, args);
  if (parsed === null) return null;
  const { positionals, values } = parsed;
  if (positionals.length !== 4) {
    throw new UsageError(
      `give CONFIG BACKEND BLAS_THREADS ITERATIONS, found ${positionals.length} argument(s)`,
    );
  }
  const [config, backend, threads, iterations] = positionals;
  return {
    config,
    backend: oneOf("BACKEND", backend, BACKEND_CHOICES),
    blasThreads: positiveInteger("BLAS_THREADS", threads),
    iterations: positiveInteger("ITERATIONS", iterations),
    values,
  };
}

const SCRIPT = "benchmarks/train_step.ts";
const USAGE = `usage: deno run -A ${SCRIPT} CONFIG BACKEND BLAS_THREADS ITERATIONS
       [--track-tensors K] [--train-step ${TRAIN_STEP_CHOICES.join("|")}] [--prefetch-draws on|off]

One training-throughput measurement in its own process (so its peak RSS is its own): trains
CONFIG's paper model for ITERATIONS iterations with evaluation reduced to a minimum, times the
iterations after a warm-up, and prints one JSON line. Run by deno task perf:report, perf:torch
and perf:memory.

  --track-tensors K   count TF.js tensors every K iterations (memory flat or not)
  --train-step S      ${TRAIN_STEP_CHOICES.join(" | ")} (default auto)
  --prefetch-draws X  on | off: draw the next step's noise in a worker (default: the config's)

exit codes: 0 measured, 1 the run failed, 2 bad flag, argument or config, 3 data or files
`;

async function main(args: string[]): Promise<number> {
  const parsed = parseStepArgs({
    name: SCRIPT,
    usage: USAGE,
    options: {
      "track-tensors": { type: "string" },
      "train-step": { type: "string", default: "auto" },
      "prefetch-draws": { type: "string" },
    },
  }, args);
  if (parsed === null) return 0;
  const { config, backend, blasThreads, iterations, values } = parsed;
  const step = oneOf("--train-step", values["train-step"], TRAIN_STEP_CHOICES);
  const prefetch = values["prefetch-draws"] === undefined
    ? undefined
    : oneOf("--prefetch-draws", values["prefetch-draws"], ["on", "off"]);
  const out = await measureTrainStep(config, backend, blasThreads, iterations, {
    trackEvery: values["track-tensors"] === undefined
      ? 0
      : positiveInteger("--track-tensors", values["track-tensors"]),
    trainStep: step,
    prefetchDraws: prefetch === undefined ? undefined : prefetch === "on",
  });
  console.log(JSON.stringify(out));
  return 0;
}

if (import.meta.main) await runMain(SCRIPT, () => main(Deno.args));

/** Image experiments carry the paper's evaluation extras; a benchmark switches them off. */
function resolved0(name: string): boolean {
  return loadConfig(name).config.metrics.kind === "image-stats";
}
