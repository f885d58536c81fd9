/**
 * One training-throughput measurement in its own process (so its peak RSS is its own):
 * `deno run -A benchmarks/train_step.ts <config> <backend> <blasThreads> <iterations>
 * [--track-tensors K] [--train-step auto|fused|autodiff] [--prefetch-draws on|off]`. Trains the config's paper model for `iterations` iterations with
 * evaluation reduced to a minimum, times the iterations after a warm-up, and prints one
 * JSON line (see TrainStepResult). Run by benchmarks/perf.ts.
 */
import { blasCounters } from "../src/backend/wasm-kernels.ts";
import type { BackendChoice } from "../src/backend/info.ts";
import { tf } from "../src/backend/tf.ts";
import { loadConfig } from "../src/config/load.ts";
import type { TrainStepChoice } from "../src/train/steps/names.ts";
import { runExperiment } from "../src/train/run.ts";

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
  /** TF.js tensor count at each tracked iteration (with --track-tensors). */
  tensors: { iteration: number; count: number; bytes: number }[];
}

export function peakRssMiB(): number {
  const status = Deno.readTextFileSync("/proc/self/status");
  const kb = Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? NaN);
  return kb / 1024;
}

if (import.meta.main) {
  const [name, backend, threadsText, iterationsText] = Deno.args;
  const trackAt = Deno.args.indexOf("--track-tensors");
  const trackEvery = trackAt >= 0 ? Number(Deno.args[trackAt + 1]) : 0;
  const stepAt = Deno.args.indexOf("--train-step");
  const trainStep = (stepAt >= 0 ? Deno.args[stepAt + 1] : "auto") as TrainStepChoice;
  // the draw worker: the run's default unless asked (src/train/run.ts, RunOptions.prefetchDraws)
  const prefetchAt = Deno.args.indexOf("--prefetch-draws");
  const prefetchDraws = prefetchAt >= 0 ? Deno.args[prefetchAt + 1] === "on" : undefined;
  const iterations = Number(iterationsText);
  const blasThreads = Number(threadsText);
  const resolved = loadConfig(name, {
    overrides: [
      `training.budget={"iterations":${iterations}}`,
      `training.logEvery=${iterations}`,
      `training.checkpointEvery=${iterations}`,
      `training.fingerprintEvery=${iterations}`,
      "metrics.samples=100",
      ...(resolved0(name) ? ["metrics.parzen=null", "metrics.classifier=null"] : []),
      ...(resolved0(name) ? ["metrics.nearestTraining=null"] : []),
    ],
  });
  if (!(iterations >= 2)) throw new Error("at least 2 iterations: one warms up");
  const warmup = Math.max(1, Math.min(5, Math.floor(iterations / 4)));
  const marks: number[] = [];
  const tensors: TrainStepResult["tensors"] = [];
  let blasAtWarmup = blasCounters(), blasAtEnd = blasAtWarmup;
  const result = await runExperiment(resolved, {
    seed: 1,
    backend: backend as BackendChoice,
    blasThreads,
    trainStep,
    prefetchDraws,
    onProgress: (p) => {
      marks.push(performance.now());
      if (p.iteration === warmup) blasAtWarmup = blasCounters();
      if (p.iteration === iterations) blasAtEnd = blasCounters();
      if (trackEvery && p.iteration % trackEvery === 0) {
        const m = tf.memory();
        tensors.push({ iteration: p.iteration, count: m.numTensors, bytes: m.numBytes });
      }
    },
  });
  // iterations warmup+1 … last; the last includes its state read-back, as in a run
  const timed = iterations - warmup;
  const rate = timed / ((marks[iterations - 1] - marks[warmup - 1]) / 1000);
  const executed = blasAtEnd.flops - blasAtWarmup.flops;
  const model = result.modelFlopsPerIteration ?? NaN;
  const out: TrainStepResult = {
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
    tensors,
  };
  console.log(JSON.stringify(out));
}

/** Image experiments carry the paper's evaluation extras; a benchmark switches them off. */
function resolved0(name: string): boolean {
  return loadConfig(name).config.metrics.kind === "image-stats";
}
