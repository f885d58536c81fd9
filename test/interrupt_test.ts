/**
 * Ctrl-C during scoring: the long computations after and between training iterations (Parzen,
 * classifier training and scoring, sampling) stop at their next interruption point, and a run
 * stopped while scoring a tracked point scores it when resumed, so the tracked series equals
 * an uninterrupted run's.
 */
import assert from "node:assert/strict";
import { interruptionPoint, isAbortOf } from "../src/backend/interrupt.ts";
import { selectBackend } from "../src/backend/select.ts";
import { loadConfig } from "../src/config/load.ts";
import { parzenEstimate } from "../src/metrics/parzen.ts";
import { type Checkpoint, decodeCheckpoint, encodeCheckpoint } from "../src/record/checkpoint.ts";
import { runExperiment } from "../src/train/run.ts";

await selectBackend("wasm");

Deno.test("an interruption point hands the event loop a turn, then stops once aborted", async () => {
  await interruptionPoint(undefined); // no signal: nothing to do
  const controller = new AbortController();
  let timerRan = false;
  setTimeout(() => {
    timerRan = true;
    controller.abort();
  }, 0);
  // a settled-promise await alone would not run the timer: the interruption point does
  await assert.rejects(interruptionPoint(controller.signal), (e) => {
    assert.equal(timerRan, true);
    assert.equal(isAbortOf(controller.signal, e), true);
    return true;
  });
  assert.equal(isAbortOf(controller.signal, new Error("other")), false);
  assert.equal(isAbortOf(undefined, controller.signal.reason), false);
});

Deno.test("a Parzen estimate stops between batches when a Ctrl-C arrives during it", async () => {
  const dim = 4, rows = 40;
  const data = Float32Array.from({ length: rows * dim }, (_, i) => (i * 0.37) % 1);
  const whole = await parzenEstimate(data, data, data, dim, { batchSize: 10 });
  assert.ok(Number.isFinite(whole.mean));
  const controller = new AbortController();
  setTimeout(() => controller.abort(), 0); // delivered at the first batch's interruption point
  await assert.rejects(
    parzenEstimate(data, data, data, dim, { batchSize: 10, signal: controller.signal }),
    (e) => isAbortOf(controller.signal, e),
  );
});

const SHORT = [
  "training.checkpointEvery=2",
  "training.logEvery=1",
  "metrics.samples=100",
  'metrics.parzen={"samples":100,"validation":50,"trainingSetReference":false}',
  "metrics.classifier=null",
  "metrics.nearestTraining=null",
  "training.milestones=null",
  'metrics.track={"every":{"iterations":2},"parzen":true,"classifier":false}',
  'training.budget={"iterations":6}',
];

Deno.test("a run stopped while scoring a tracked point scores it on resume: same series, same numbers", async (t) => {
  const config = loadConfig("mnist-mlp", { overrides: SHORT });
  const direct = await runExperiment(config, { seed: 2, backend: "wasm", prefetchDraws: false });
  assert.deepEqual(direct.tracked!.map((p) => p.iteration), [2, 4, 6]);
  // mid-run, and at the last iteration (the resumed run then trains nothing, scores, evaluates)
  for (const stop of [4, 6]) {
    await t.step(`stopped at iteration ${stop}`, () => stoppedAndResumed(config, stop, direct));
  }
});

async function stoppedAndResumed(
  config: ReturnType<typeof loadConfig>,
  stop: number,
  direct: Awaited<ReturnType<typeof runExperiment>>,
) {
  const controller = new AbortController();
  const checkpoints: Checkpoint[] = [];
  await assert.rejects(
    runExperiment(config, {
      seed: 2,
      backend: "wasm",
      prefetchDraws: false,
      signal: controller.signal,
      // Ctrl-C as the point at iteration `stop` starts scoring
      onPhase: (phase) => {
        if (phase.endsWith(`iteration ${stop}`)) controller.abort();
      },
      onCheckpoint: (cp) => {
        checkpoints.push(decodeCheckpoint(encodeCheckpoint(cp), "memory"));
        return Promise.resolve();
      },
    }),
    (e) => isAbortOf(controller.signal, e),
  );
  const last = checkpoints.at(-1)!;
  assert.equal(last.header.iteration, stop);
  assert.deepEqual(
    last.header.tracked!.map((p) => p.iteration),
    [2, 4].filter((i) => i < stop),
    "no half-scored point",
  );

  const resumed = await runExperiment(config, {
    seed: 2,
    backend: "wasm",
    prefetchDraws: false,
    resume: last,
  });
  assert.deepEqual(resumed.fingerprints, direct.fingerprints);
  const scores = (r: Awaited<ReturnType<typeof runExperiment>>) =>
    r.tracked!.map((p) => [p.iteration, p.parzen, p.epoch]);
  assert.deepEqual(scores(resumed), scores(direct));
  assert.equal(JSON.stringify(resumed.metrics), JSON.stringify(direct.metrics));
}
