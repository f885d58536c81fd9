import assert from "node:assert/strict";
import { mergeTables, withStats } from "../benchmarks/mixtures_table.ts";

const setting = {
  experiment: "ring-unrolled",
  profile: "paper",
  objective: "minimax",
  data: { kind: "ring" },
  iterations: 25000,
  batchSize: 512,
  backend: "wasm",
  modes: 8,
};
const seed = (
  n: number,
  modesCaptured: number,
  highQualityFraction: number,
  reverseKl?: number,
) => ({
  seed: n,
  status: "completed",
  metrics: {
    modes: 8,
    modesCaptured,
    highQualityFraction,
    ...(reverseKl === undefined ? {} : { reverseKl }),
  },
  wallSeconds: 10 * n,
});

Deno.test("mixtures table --merge: an earlier table's missing seeds join the row, statistics redone", () => {
  const earlier = [
    withStats({ ...setting, perSeed: [seed(1, 8, 0.75, 0.25), seed(2, 0, 0)] }),
    withStats({ ...setting, backend: "wasm+openblas", perSeed: [seed(1, 5, 0.5, 1)] }),
  ];
  const now = [withStats({ ...setting, perSeed: [seed(3, 6, 0.25, 0.75), seed(2, 4, 0.5, 0.5)] })];
  const [row, other] = mergeTables(now, earlier);
  // seed 2 is in both: the new run's numbers win
  assert.deepEqual(row.seeds, [1, 2, 3]);
  assert.deepEqual(row.perSeed.map((p) => p.metrics.modesCaptured), [8, 4, 6]);
  assert.deepEqual(row.modesCaptured, { mean: 6, std: 2 });
  assert.deepEqual(row.highQualityFraction, { mean: 0.5, std: 0.25 });
  assert.deepEqual(row.reverseKl, { mean: 0.5, std: 0.25, seeds: 3 });
  // a row of another setting (backend) is never mixed in, and is kept as it was
  assert.deepEqual(other, earlier[1]);
  // a seed without a high-quality sample has no reverse KL: counted apart
  const sparse = withStats({ ...setting, perSeed: [seed(1, 0, 0), seed(2, 2, 0.5, 1.5)] });
  assert.deepEqual(sparse.reverseKl, { mean: 1.5, std: null, seeds: 1 });
});
