/**
 * Memory over a longer run, in a process of its own (benchmarks/train_step.ts, so the
 * resident set is the run's alone): mnist-tutorial's autodiff step with Adam and the
 * alternating update, sampled every 25 iterations after a garbage collection. And what keeps
 * the resident set flat without one: a step's draws go into arrays kept for their stream
 * (StepInputs) or sent back to the draw worker, not into fresh ones.
 */
import assert from "node:assert/strict";
import { openBlas } from "../src/backend/openblas.ts";
import { selectBackend } from "../src/backend/select.ts";
import type { TrainStepResult } from "../benchmarks/train_step.ts";
import { loadConfig } from "../src/config/load.ts";
import { sampleNoise } from "../src/data/noise.ts";
import { openRealData } from "../src/data/real-data.ts";
import { disposeNetwork } from "../src/models/network.ts";
import { Rng } from "../src/rng/streams.ts";
import { dropoutMasksFrom } from "../src/train/dropout.ts";
import { faultTransforms } from "../src/train/faults.ts";
import { StepInputs } from "../src/train/inputs.ts";
import { buildModels } from "../src/train/models.ts";
import { type DrawJob, DrawPrefetcher, type DrawReply } from "../src/train/prefetch.ts";
import { runDeno } from "./helpers.ts";

const ignore = openBlas() === null;

Deno.test("StepInputs draws each stream into one array at every step, with that step's numbers", async () => {
  await selectBackend("wasm");
  const resolved = loadConfig("mnist-mlp");
  const { config } = resolved;
  // 64 rows a batch: 50,000 = 781 × 64 + 16, so each epoch ends with a short batch
  const real = openRealData(config.data, new Rng(5), 64);
  const { G, D } = buildModels(resolved, new Rng(5), real, undefined);
  try {
    const inputs = new StepInputs(config, new Rng(5), real, G, D, faultTransforms(null));
    const last = real.batchesPerEpoch! - 1;
    const steps = [last - 3, last - 2, last - 1, last, last + 1, last + real.batchesPerEpoch!];
    const drawn = steps.map((t) => {
      const rows = real.rowsAt(t);
      const z = inputs.noise("train/z", t, rows);
      const masks = inputs.dropoutMasks("D/dropout/real", t, rows)!;
      const batch = inputs.realArrays(t);
      // what the allocating draws give at t, compared before the next step draws over them
      const rng = new Rng(5);
      assert.deepEqual(z, sampleNoise(config.noise, rng.stream("train/z").at(t), rows), `z ${t}`);
      assert.deepEqual(masks, dropoutMasksFrom(rng, inputs.maskPlan!, "D/dropout/real", t, rows));
      assert.deepEqual(batch.values, real.batch(t).values, `real batch ${t}`);
      return { rows, arrays: [z, ...masks.filter((m) => m !== null), batch.values] };
    });
    const full = drawn.filter((d) => d.rows === 64), short = drawn.filter((d) => d.rows === 16);
    assert.deepEqual([full.length, short.length], [4, 2]);
    for (const group of [full, short]) {
      for (const d of group) {
        d.arrays.forEach((a, i) =>
          assert.ok(a === group[0].arrays[i], `array ${i}, ${d.rows} rows`)
        );
      }
    }
    assert.ok(full[0].arrays.every((a, i) => a !== short[0].arrays[i]), "one per length");
    // every step drew afresh into the arrays of the one before
    for (const kind of ["noise", "dropout", "real"] as const) {
      assert.equal(inputs.draws.counts[kind].repeats, 0, kind);
    }
  } finally {
    disposeNetwork(G);
    disposeNetwork(D);
  }
});

Deno.test("the draw worker draws into the arrays sent back to it: two steps' worth in all", async () => {
  const noise = { kind: "uniform", dim: 100, low: -1, high: 1 } as const;
  const plan = [{ units: 784, rule: { keep: 0.8, scale: 1.25 } }, null];
  const jobsOf = (t: number): DrawJob[] => [
    { kind: "noise", stream: "train/z", step: t, rows: 100, noise },
    { kind: "masks", stream: "D/dropout/real", step: t, rows: 100, plan },
  ];
  const prefetch = new DrawPrefetcher(9, jobsOf);
  try {
    let spent: DrawReply["results"] | undefined;
    for (let t = 0; t < 8; t++) {
      const results = await prefetch.take(t, spent);
      // the arrays sent back left this thread with the request
      assert.ok(spent?.flat().every((a) => a === null || a.length === 0) ?? true, `step ${t}`);
      const rng = new Rng(9);
      assert.deepEqual(results[0][0], sampleNoise(noise, rng.stream("train/z").at(t), 100));
      assert.deepEqual(results[1], dropoutMasksFrom(rng, plan, "D/dropout/real", t, 100));
      spent = results;
    }
    // the step being trained and the one drawn ahead: a noise array and a mask array each
    assert.equal(prefetch.arraysMade, 4);
  } finally {
    prefetch.close();
  }
});

Deno.test({
  name:
    "mnist-tutorial over 300 iterations: tensors, wasm heap and resident set flat; peak bounded",
  ignore,
  async fn() {
    const r = await runDeno([
      "run",
      "-A",
      "--v8-flags=--expose-gc",
      "benchmarks/train_step.ts",
      "mnist-tutorial",
      "wasm+openblas",
      "1",
      "300",
      ...["--track-tensors", "25", "--prefetch-draws", "off"],
    ]);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout.trim().split("\n").at(-1)!) as TrainStepResult;
    const samples = out.tensors;
    assert.deepEqual(samples.map((s) => s.iteration), [...Array(12)].map((_, i) => 25 * (i + 1)));
    const show = JSON.stringify(samples);
    // every tensor of a step is freed within it
    assert.ok(samples.every((s) => s.count === samples[0].count), show);
    assert.ok(samples.every((s) => s.bytes === samples[0].bytes), show);
    // the last sample follows the state's read-back for the fingerprint: left out
    const settled = samples.filter((s) => s.iteration >= 150 && s.iteration < 300);
    // the heap has reached its working size and never grows again
    assert.ok(settled.every((s) => s.wasmHeapMiB === settled[0].wasmHeapMiB), show);
    // nothing kept per iteration: a 64-row batch (196 KiB) a step would add 24 MiB here. What
    // JavaScript keeps alive is exact after a collection; the resident set is not: the kernel
    // drops file pages at will (DAMON, docs/platform.md) and V8 and malloc keep or return whole
    // pages, which moved even the anonymous part by 60 MiB on CI, so it only bounds native leaks
    // One collection does not always reach everything: a sample once read 10 MiB below its
    // neighbours, and on some machines the samples alternate by about 26 MiB (92, 118, 92, …
    // MiB, on the base commit too). So each pair of neighbouring samples gives its floor (the
    // lower), and the growth per 100 iterations is estimated three ways from the three floors
    // (last − first, and twice each step): the smallest counts. A 196 KiB-a-step leak raises
    // all three by about 19 MiB; one stray sample moves at most two of them.
    const live = settled.map((s) => s.liveJsMiB);
    assert.equal(live.length, 6);
    const [f0, f1, f2] = [0, 2, 4].map((i) => Math.min(live[i], live[i + 1]));
    const js = Math.min(f2 - f0, 2 * (f2 - f1), 2 * (f1 - f0));
    assert.ok(js < 8, `live JavaScript memory grew ${js.toFixed(1)} MiB: ${show}`);
    const growth = settled.at(-1)!.anonMiB - settled[0].anonMiB;
    assert.ok(growth < 96, `resident set grew ${growth.toFixed(1)} MiB: ${show}`);
    // MNIST as 8-bit pixels, no boxed copy of it (each regression: 170 MiB to 2.3 GB more)
    assert.ok(out.trainingPeakRssMiB < 450, `peak ${out.trainingPeakRssMiB.toFixed(0)} MiB`);
  },
});

Deno.test({
  name:
    "mnist-mlp over 300 iterations without a forced collection: resident set flat, peak bounded",
  ignore,
  async fn() {
    // no --expose-gc: V8 collects when it chooses, as in a real run. The draw worker on, so its
    // arrays are covered too (the real batch is still StepInputs', drawn on the main thread)
    const r = await runDeno([
      "run",
      "-A",
      "benchmarks/train_step.ts",
      "mnist-mlp",
      "wasm+openblas",
      "1",
      "300",
      ...["--track-tensors", "25", "--prefetch-draws", "on"],
    ]);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout.trim().split("\n").at(-1)!) as TrainStepResult;
    const anon = out.tensors.map((s) => s.anonMiB);
    const show = JSON.stringify(anon.map((a) => Math.round(a)));
    // fresh arrays for each step's draws waited for V8's collections and the resident set
    // climbed meanwhile; the bound lies between that climb and what is left with the arrays
    // reused (both measured in docs/performance.md, 7 December 2026)
    const growth = Math.max(...anon) - anon[0];
    assert.ok(
      growth < 24,
      `resident set grew ${growth.toFixed(1)} MiB after iteration 25: ${show}`,
    );
    // fresh arrays peaked at 341-369 MiB here, reused ones at 253-258 (docs/performance.md); the
    // bound leaves room for another machine's runtime (PyTorch's 304 is the benchmark's to show)
    assert.ok(out.trainingPeakRssMiB < 320, `peak ${out.trainingPeakRssMiB.toFixed(0)} MiB`);
  },
});
