/** The long-run forecast: a straight line in the learning rate, checked on held-out points. */
import assert from "node:assert/strict";
import { fitLine, forecastOf, lrAt, type ScoredPoint } from "../benchmarks/lr_forecast.ts";

// mnist-mlp's schedule: lr = 0.1 / 1.000004^t, 500 iterations an epoch
const lr = (epoch: number) => 0.1 / 1.000004 ** (500 * epoch);
const epochs = [250, 275, 300, 325, 350, 375, 400, 425, 450, 475];

Deno.test("fitLine: least squares, exact on a line and the closed form on three points", () => {
  assert.deepEqual(fitLine([0, 1, 2], [1, 3, 5]), { a: 1, b: 2 });
  // (0, 0), (1, 1), (2, 1): slope 1/2, intercept 1/6
  const { a, b } = fitLine([0, 1, 2], [0, 1, 1]);
  assert.ok(Math.abs(b - 0.5) < 1e-15 && Math.abs(a - 1 / 6) < 1e-15, `${a}, ${b}`);
  assert.throws(() => fitLine([1], [1]), /a line needs 2 points, got 1/);
  assert.throws(() => fitLine([1, 1], [1, 2]), /every point has the same learning rate/);
});

Deno.test("lrAt: the exponential through two tracked points gives the schedule's rate", () => {
  const p = { epoch: 250, lr: lr(250), score: 0 }, q = { epoch: 575, lr: lr(575), score: 0 };
  for (const e of [1000, 2000]) {
    assert.ok(Math.abs(lrAt(e, p, q) / lr(e) - 1) < 1e-12, `epoch ${e}`);
  }
});

Deno.test("forecastOf: a score linear in lr is fitted exactly, held out exactly, extended exactly", () => {
  // score = 250 − 1000·lr, and points before `from` that the fit must leave out
  const points: ScoredPoint[] = [
    { epoch: 100, lr: lr(100), score: 0 },
    ...epochs.map((epoch) => ({ epoch, lr: lr(epoch), score: 250 - 1000 * lr(epoch) })),
  ];
  const f = forecastOf(points, 250, [1000, 2000]);
  assert.equal(f.points, 10);
  assert.deepEqual([f.firstEpoch, f.lastEpoch], [250, 475]);
  assert.ok(Math.abs(f.intercept - 250) < 1e-9 && Math.abs(f.slope + 1000) < 1e-7);
  assert.ok(f.rms < 1e-9);
  assert.equal(f.holdOut!.fitted, 6);
  assert.equal(f.holdOut!.predicted, 4);
  assert.ok(f.holdOut!.maxError < 1e-9);
  for (const p of f.at) {
    assert.ok(Math.abs(p.score - (250 - 1000 * lr(p.epoch))) < 1e-7, `epoch ${p.epoch}`);
  }
});

Deno.test("forecastOf: a score linear in epochs instead shows in the hold-out error", () => {
  // rising 8 per 100 epochs while lr decays: the lr line bends away from it
  const points = epochs.map((epoch) => ({ epoch, lr: lr(epoch), score: 180 + 0.08 * epoch }));
  const f = forecastOf(points, 250, [1000]);
  // measured above the lr line's prediction on the held-out later points
  assert.ok(f.holdOut!.meanError > 0.05, `${f.holdOut!.meanError}`);
  assert.ok(f.rms > 0.01);
});
