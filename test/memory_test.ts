/**
 * Memory over a longer run, in a process of its own (benchmarks/train_step.ts, so the
 * resident set is the run's alone): mnist-tutorial's autodiff step with Adam and the
 * alternating update, sampled every 25 iterations after a garbage collection.
 */
import assert from "node:assert/strict";
import { openBlas } from "../src/backend/openblas.ts";
import type { TrainStepResult } from "../benchmarks/train_step.ts";
import { runDeno } from "./helpers.ts";

const ignore = openBlas() === null;

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
