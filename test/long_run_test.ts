import assert from "node:assert/strict";
import {
  forecastTable,
  overwriteProblem,
  seedsTable,
  trackedTable,
} from "../benchmarks/long_run.ts";

const uniform = { kind: "uniform", dim: 100, low: -1, high: 1 };
const normal = { kind: "normal", dim: 100, std: 1 };

function summary(
  seed: number,
  configHash: string,
  noise: unknown,
  means: [number, number][],
  blasCore?: string,
) {
  return {
    experiment: "mnist-mlp",
    seed,
    configHash,
    noise,
    computePath: blasCore ? { name: "wasm+openblas", blasCore } : null,
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

Deno.test("long-run --seeds: runs side by side, mean ± sample std over each config's runs", () => {
  const table = seedsTable([
    summary(1, "a", uniform, [[25, 1], [50, 100], [100, 110]]),
    summary(2, "a", uniform, [[50, 104], [100, 116]]),
    summary(3, "a", uniform, [[50, 102]]),
    summary(1, "b", normal, [[50, 90]]),
    // seed 1 again on another kernel family: a run of its own, named by its kernels
    summary(1, "a", uniform, [[50, 98]], "SkylakeX"),
    // a finished run's summary (from result.json) names its kernels in the backend record
    {
      ...summary(2, "a", uniform, [[50, 96]]),
      computePath: { name: "wasm+openblas", blas: { core: "SkylakeX" } },
    },
  ], 50);
  assert.deepStrictEqual(table.split("\n"), [
    "| epoch | seed 1, uniform z | seed 2, uniform z | seed 3, uniform z | seed 1, N(0, 1) z " +
    "| seed 1, uniform z, SkylakeX | seed 2, uniform z, SkylakeX | mean ± std over runs, uniform z |",
    "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    // 100, 104, 102, 98, 96: mean 100, sample std √10; at epoch 100 only two runs: 113 ± √18.
    "| 50 | 100.0 ± 2.0 | 104.0 ± 2.0 | 102.0 ± 2.0 | 90.0 ± 2.0 | 98.0 ± 2.0 | 96.0 ± 2.0 | 100.0 ± 3.2 (5) |",
    "| 100 | 110.0 ± 2.0 | 116.0 ± 2.0 |  |  |  |  | 113.0 ± 4.2 (2) |",
  ]);
});

Deno.test("long-run --forecast: one row per estimate, the fit, its hold-out check, the line", () => {
  // lr halves every 100 epochs; protocol = 200 − 100·lr exactly, fine grid 1 nat above it
  const s = summary(1, "a", uniform, []);
  s.tracked = [200, 300, 400, 500].map((epoch) => {
    const lr = 0.1 * 0.5 ** ((epoch - 200) / 100);
    return {
      epoch,
      parzen: { mean: 200 - 100 * lr, se: 2, sigma: 0.2 },
      parzenDiagnostics: { fine: { mean: 201 - 100 * lr, sigma: 0.19 } },
      classifierScore: null,
      classesCovered: null,
      learningRate: { generator: lr },
      scoreSeconds: 1,
    } as unknown as (typeof s.tracked)[number];
  });
  assert.deepStrictEqual(forecastTable([s], 250, [600]).split("\n"), [
    "| run, estimate | points (epochs) | fit: Parzen = | rms residual | " +
    "hold-out error: mean, largest (points) | epoch 600 |",
    "| --- | ---: | ---: | ---: | ---: | ---: |",
    // epoch 200 is before --from; at 600 lr = 0.1/16, so 200 − 0.625
    "| seed 1, uniform z, protocol | 3 (300–500) | 200.0 − 100·lr | 0.00 |  | 199.4 |",
    "| seed 1, uniform z, fine grid | 3 (300–500) | 201.0 − 100·lr | 0.00 |  | 200.4 |",
  ]);
});

Deno.test("long-run: a folder that is no run, and --to outside benchmarks/results, are one-line errors", async () => {
  const run = (args: string[]) =>
    new Deno.Command(Deno.execPath(), {
      args: ["task", "-q", "long-run", ...args],
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).output();
  const dir = Deno.makeTempDirSync();
  const noRun = await run([`${dir}/seed-1`]);
  assert.equal(noRun.code, 1);
  assert.equal(
    new TextDecoder().decode(noRun.stderr),
    `long-run: ${dir}/seed-1: neither result.json nor checkpoints/latest.ckpt\n`,
  );
  const outside = await run([`${dir}/seed-1`, "--to", `${dir}/out`]);
  assert.equal(outside.code, 2);
  assert.equal(
    new TextDecoder().decode(outside.stderr),
    `long-run: --to ${dir}/out: the task writes only under benchmarks/results\n`,
  );
  Deno.removeSync(dir, { recursive: true });
});

Deno.test("long-run --table: a conditional run's class coverage gets its two columns, G's dropout Parzen one, others none", () => {
  const plain = summary(1, "a", uniform, [[25, 150.25]]);
  const head = "| epoch | Parzen (nats) | σ | fine-grid Parzen | classifier score | classes |";
  assert.equal(
    trackedTable(plain as never),
    [
      `${head} lr | scoring (s) |`,
      "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
      "| 25 | 150.3 ± 2.0 | 0.200 |  (σ ) |  |  | 0.1000 | 1.0 |",
    ].join("\n"),
  );
  const conditional = summary(1, "a", uniform, [[25, 150.25], [50, 151]]);
  Object.assign(conditional.tracked[1], { coverage: { mean: 0.8125, min: 0.5, covered: 9 } });
  assert.equal(
    trackedTable(conditional as never),
    [
      `${head} class coverage | labels in control | lr | scoring (s) |`,
      "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
      "| 25 | 150.3 ± 2.0 | 0.200 |  (σ ) |  |  |  |  | 0.1000 | 1.0 |",
      "| 50 | 151.0 ± 2.0 | 0.200 |  (σ ) |  |  | 0.813 | 9 | 0.1000 | 1.0 |",
    ].join("\n"),
  );
  // a point scored with G sampled with its dropout adds that column after the fine grid's
  Object.assign(conditional.tracked[0], { parzenWithGDropout: { mean: 160.25, se: 1.5 } });
  assert.equal(
    trackedTable(conditional as never),
    [
      "| epoch | Parzen (nats) | σ | fine-grid Parzen | Parzen, G with its dropout | classifier score " +
      "| classes | class coverage | labels in control | lr | scoring (s) |",
      "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
      "| 25 | 150.3 ± 2.0 | 0.200 |  (σ ) | 160.3 ± 1.5 |  |  |  |  | 0.1000 | 1.0 |",
      "| 50 | 151.0 ± 2.0 | 0.200 |  (σ ) |  ±  |  |  | 0.813 | 9 | 0.1000 | 1.0 |",
    ].join("\n"),
  );
});

Deno.test("long-run keeps a summary of another run, or of the same run further along", () => {
  const run = (startedAt: string, iterationsDone: number) => ({
    segments: [{ fromIteration: 0, toIteration: iterationsDone, startedAt }],
    iterationsDone,
  });
  const path = "benchmarks/results/mnist-mlp-long-seed-1.json";
  const first = run("2026-12-02T12:36:41.136Z", 170_000);
  assert.equal(overwriteProblem(path, null, first), null);
  // the same run, summarised again further along: written
  assert.equal(overwriteProblem(path, first, run("2026-12-02T12:36:41.136Z", 180_000)), null);
  assert.equal(overwriteProblem(path, first, first), null);
  assert.equal(
    overwriteProblem(path, first, run("2026-12-07T22:39:02.000Z", 61_435)),
    `${path} holds another run's summary (started 2026-12-02T12:36:41.136Z, 170000 iterations); ` +
      "this run started 2026-12-07T22:39:02.000Z: write it elsewhere with --to DIR",
  );
  assert.equal(
    overwriteProblem(path, first, run("2026-12-02T12:36:41.136Z", 90_000)),
    `${path} is further along (170000 iterations) than this run folder (90000): ` +
      "an older copy of the run?",
  );
});
