import assert from "node:assert/strict";
import { seedsTable } from "../benchmarks/long_run.ts";

const uniform = { kind: "uniform", dim: 100, low: -1, high: 1 };
const normal = { kind: "normal", dim: 100, std: 1 };

function summary(seed: number, configHash: string, noise: unknown, means: [number, number][]) {
  return {
    experiment: "mnist-mlp",
    seed,
    configHash,
    noise,
    computePath: null,
    status: "training",
    iterationsDone: 0,
    budget: null,
    segments: [],
    tracked: means.map(([epoch, mean]) => ({
      epoch,
      parzen: { mean, se: 2, sigma: 0.2 },
      parzenDiagnostics: null,
      classifierScore: null,
      classesCovered: null,
      learningRate: { generator: 0.1 },
      scoreSeconds: 1,
    })),
    fingerprints: {},
    metrics: null,
    summarizedAt: "",
    source: "",
  };
}

Deno.test("long-run --seeds: runs side by side, mean ± sample std over each config's seeds", () => {
  const table = seedsTable([
    summary(1, "a", uniform, [[25, 1], [50, 100], [100, 110]]),
    summary(2, "a", uniform, [[50, 104], [100, 116]]),
    summary(3, "a", uniform, [[50, 102]]),
    summary(1, "b", normal, [[50, 90]]),
  ], 50);
  assert.deepStrictEqual(table.split("\n"), [
    "| epoch | seed 1, uniform z | seed 2, uniform z | seed 3, uniform z | seed 1, N(0, 1) z " +
    "| mean ± std over seeds, uniform z |",
    "| ---: | ---: | ---: | ---: | ---: | ---: |",
    // 100, 104, 102: mean 102, sample std 2; at epoch 100 only two seeds: 113 ± √18.
    "| 50 | 100.0 ± 2.0 | 104.0 ± 2.0 | 102.0 ± 2.0 | 90.0 ± 2.0 | 102.0 ± 2.0 (3) |",
    "| 100 | 110.0 ± 2.0 | 116.0 ± 2.0 |  |  | 113.0 ± 4.2 (2) |",
  ]);
});
