/**
 * One Parzen measurement in its own process: `deno run -A benchmarks/parzen_step.ts
 * <backend> <blasThreads>` times one σ on 10,000 test points × 10,000 centres × 784
 * dimensions (the paper's MNIST evaluation; the best of two) and prints one JSON line.
 * Run by benchmarks/perf.ts.
 */
import type { BackendChoice } from "../src/backend/info.ts";
import { selectBackend } from "../src/backend/select.ts";
import { parzenLogLikelihoods } from "../src/metrics/parzen.ts";
import { Rng } from "../src/rng/streams.ts";
import { peakRssMiB } from "./train_step.ts";

const DIM = 784, N = 10_000;

export interface ParzenStepResult {
  backend: string;
  blasThreads: number | null;
  seconds: number;
  /** FLOPs of the cross-term product, which dominates: 2·N·N·dim. */
  gflopsPerSecond: number;
  peakRssMiB: number;
}

if (import.meta.main) {
  const info = await selectBackend(Deno.args[0] as BackendChoice, {
    blasThreads: Number(Deno.args[1] ?? 1),
  });
  const centres = new Rng(1).stream("bench").at(0).uniform(N * DIM);
  const points = new Rng(2).stream("bench").at(0).uniform(N * DIM);
  let best = Infinity;
  for (let r = 0; r < 2; r++) {
    const t = performance.now();
    await parzenLogLikelihoods(centres, points, DIM, [0.2]);
    best = Math.min(best, (performance.now() - t) / 1000);
  }
  const out: ParzenStepResult = {
    backend: info.name,
    blasThreads: info.blas?.threads ?? null,
    seconds: best,
    gflopsPerSecond: (2 * N * N * DIM) / best / 1e9,
    peakRssMiB: peakRssMiB(),
  };
  console.log(JSON.stringify(out));
}
