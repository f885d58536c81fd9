/**
 * The stability signals (src/record/stability.ts, the gradient norms of the steps): the
 * oscillation measure and the D-won detector on constructed series with known answers, the
 * band metrics derived from them, old records without the signals, and each step's gradient
 * norms against a closed-form gradient computed here in float64 (autodiff's simultaneous and
 * alternating steps, and the fused step).
 */
import assert from "node:assert/strict";
import { openBlas } from "../src/backend/openblas.ts";
import { selectBackend } from "../src/backend/select.ts";
import { tf } from "../src/backend/tf.ts";
import { buildNetwork, type Network, networkParams } from "../src/models/network.ts";
import { createOptimizer } from "../src/models/optimizers.ts";
import { type CheckedRun, metricValue } from "../src/record/bands.ts";
import { completeHistory, HISTORY_SERIES } from "../src/record/history.ts";
import {
  dWonAt,
  dWonFraction,
  largestFinite,
  lastQuarter,
  oscillation,
} from "../src/record/stability.ts";
import { Rng } from "../src/rng/streams.ts";
import { FusedMlpStep } from "../src/train/steps/fused-mlp.ts";
import { gradientNorm, Objectives } from "../src/train/objectives.ts";
import { discriminatorUpdate, generatorUpdate } from "../src/train/steps/alternating.ts";
import { simultaneousUpdate } from "../src/train/steps/simultaneous.ts";
import type { Players } from "../src/train/steps/step.ts";

const close = (got: number, want: number, what: string) =>
  assert.ok(Math.abs(got - want) <= 1e-5 * Math.max(1, want), `${what}: ${got}, want ${want}`);

Deno.test("oscillation: the sign-change rate of the first differences", () => {
  assert.equal(oscillation([1, 2, 3, 4, 5]), 0); // monotone
  assert.equal(oscillation([5, 4, 3, 2]), 0);
  assert.equal(oscillation([0, 1, 0, 1, 0, 1]), 1); // alternating at every record
  // Δ = 1, 1, −1, −1, 1, 1: of the 5 adjacent pairs, 2 change sign
  assert.equal(oscillation([0, 1, 2, 1, 0, 1, 2]), 2 / 5);
  // a zero difference is no change of sign: Δ = 1, 0, −1
  assert.equal(oscillation([1, 2, 2, 1]), 0);
  assert.equal(oscillation([1, 2]), null); // no pair of differences
  assert.equal(oscillation([1, NaN, 2, 3]), null);
  assert.equal(oscillation([1, null, 2, 3]), null);
  // independent noise: about 2/3 (each pair changes sign with probability 2/3)
  const rng = new Rng(3).stream("noise").at(0).uniform(20_001);
  const rate = oscillation(Array.from(rng))!;
  assert.ok(Math.abs(rate - 2 / 3) < 0.02, `noise: ${rate}`);
});

Deno.test("the D-won detector: accuracy ≥ 0.99 and G's gradient ≤ 1% of its largest", () => {
  assert.equal(dWonAt(0.99, 0.01, 1), 1); // both at their thresholds
  assert.equal(dWonAt(1, 0, 5), 1);
  assert.equal(dWonAt(0.989, 0.001, 1), 0); // D not accurate enough
  assert.equal(dWonAt(1, 0.0101, 1), 0); // G's gradient has not vanished
  // the largest so far includes this one: a first record never counts as vanished
  assert.equal(dWonAt(1, 0.5, 0), 0);
  assert.equal(dWonAt(1, NaN, 1), 0);
  assert.equal(dWonAt(NaN, 0, 1), 0);
  assert.equal(largestFinite([1, NaN, 3, null, 2]), 3);
  assert.equal(dWonFraction([0, 1, 1, 0]), 0.5);
  assert.equal(dWonFraction([NaN, NaN]), null);
  assert.equal(dWonFraction([]), null);
  assert.deepEqual(lastQuarter([1, 2, 3, 4, 5]), [4, 5]);
});

/** A record of 8 iterations whose signals have known band values. */
function record(): CheckedRun {
  return {
    status: "completed",
    metrics: {},
    history: {
      dLoss: [1, 0.9, 0.8, 0.7, 0.6, 0.7, 0.6, 0.7], // last quarter: 0.6, 0.7 → too short
      gLoss: [1, 2, 3, 4, 5, 6, 7, 8],
      dReal: [0.5, 0.6, 0.7, 0.8, 0.9, 0.99, 0.99, 0.99],
      dFake: [0.5, 0.4, 0.3, 0.2, 0.1, 0.01, 0.01, 0.01],
      fakeMean: Array(8).fill(0),
      fakeStd: Array(8).fill(1),
      dGradNorm: [1, 1, 1, 1, 1, 1, 2, 4],
      gGradNorm: [1, 2, 1, 0.5, 0.1, 0.01, 0.02, 0.005],
      dAccuracy: [0.5, 0.6, 0.8, 0.9, 0.95, 1, 0.995, 1],
      dWon: [0, 0, 0, 0, 0, 1, 0, 1],
    },
  };
}

Deno.test("bands read the signals: dWonFraction, oscillation.*, lastQuarter.<signal>", () => {
  const r = record();
  assert.equal(metricValue(r, "dWonFraction"), 2 / 8);
  assert.equal(metricValue(r, "lastQuarter.dGradNorm"), 3); // (2 + 4) / 2
  assert.equal(metricValue(r, "lastQuarter.dWon"), 0.5);
  close(metricValue(r, "lastQuarter.dAccuracy")!, 0.9975, "lastQuarter.dAccuracy");
  assert.equal(metricValue(r, "oscillation.dLoss"), null); // 2 values in the last quarter
  const long: CheckedRun = {
    ...r,
    history: { ...r.history, dLoss: [0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1], gLoss: [] },
  };
  // last quarter of 12: 0, 1, 0 → one pair, alternating
  assert.equal(metricValue(long, "oscillation.dLoss"), 1);
  assert.equal(metricValue(long, "oscillation.gLoss"), null);
  // a record from before the signals: no value, not a crash
  const { dGradNorm: _d, gGradNorm: _g, dAccuracy: _a, dWon: _w, ...old } = r.history;
  const before: CheckedRun = { ...r, history: old };
  assert.equal(metricValue(before, "dWonFraction"), null);
  assert.equal(metricValue(before, "lastQuarter.gGradNorm"), null);
  close(metricValue(before, "lastQuarter.dGap")!, 0.98, "lastQuarter.dGap");
});

Deno.test("an old history gets every series, NaN at each iteration; a new one is kept", () => {
  const old = { step: [1, 2], dLoss: [1, 2], gLoss: [3, 4], dReal: [0.5, 0.5] };
  const h = completeHistory(old);
  assert.deepEqual(Object.keys(h).slice(0, 4), ["step", "dLoss", "gLoss", "dReal"]);
  for (const k of HISTORY_SERIES.slice(3)) assert.equal(h[k].length, 2, k);
  assert.ok(h.dWon.every(Number.isNaN));
  assert.deepEqual(h.dLoss, [1, 2]);
  const full = completeHistory(h);
  assert.deepEqual(JSON.stringify(full), JSON.stringify(h));
});

// ---- gradient norms against a closed form ----

const NOISE = 3, DATA = 2, ROWS = 4;
const Z = [0.3, -1.2, 0.8, 1.5, 0.1, -0.4, -0.7, 0.9, 0.2, 0.6, -1.1, 0.5];
const X = [1.0, 0.2, -0.5, 0.9, 0.4, -1.3, 0.8, 0.7];

interface Linear {
  W: number[]; // [inputs, outputs], row-major
  b: number[];
}

const read = (net: Network): Linear => {
  const [W, b] = networkParams(net).map((p) => Array.from(p.variable.dataSync()));
  return { W, b };
};
const sigmoid = (a: number) => 1 / (1 + Math.exp(-a));
const affine = (x: number[], l: Linear, inputs: number, outputs: number) =>
  Array.from({ length: x.length / inputs * outputs }, (_, o) => {
    const row = Math.floor(o / outputs), col = o % outputs;
    let v = l.b[col];
    for (let k = 0; k < inputs; k++) v += x[row * inputs + k] * l.W[k * outputs + col];
    return v;
  });
const norm = (...parts: number[][]) => Math.sqrt(parts.flat().reduce((s, v) => s + v * v, 0));

/**
 * The closed-form gradients of the non-saturating GAN with the summed D loss, for G(z) =
 * z·Wg + bg and a D of one linear unit: D's loss E softplus(−D(x)) + E softplus(D(G(z)))
 * has ∂/∂logit −σ(−r)/n on real rows and σ(f)/n on generated ones; G's, E softplus(−f), has
 * −σ(−f)/n, sent back through D's weights to G's output.
 */
function closedForm(g: Linear, d: Linear) {
  const fake = affine(Z, g, NOISE, DATA);
  const r = affine(X, d, DATA, 1), f = affine(fake, d, DATA, 1);
  const dW = [0, 0];
  let db = 0;
  for (let i = 0; i < ROWS; i++) {
    const dr = -sigmoid(-r[i]) / ROWS, df = sigmoid(f[i]) / ROWS;
    for (let k = 0; k < DATA; k++) dW[k] += X[i * DATA + k] * dr + fake[i * DATA + k] * df;
    db += dr + df;
  }
  const gW = Array(NOISE * DATA).fill(0), gb = [0, 0];
  for (let i = 0; i < ROWS; i++) {
    const dfi = -sigmoid(-f[i]) / ROWS;
    for (let c = 0; c < DATA; c++) {
      const dOut = dfi * d.W[c];
      gb[c] += dOut;
      for (let k = 0; k < NOISE; k++) gW[k * DATA + c] += Z[i * NOISE + k] * dOut;
    }
  }
  return { dNorm: norm(dW, [db]), gNorm: norm(gW, gb), dW, db, gW, gb };
}

function tinyGan() {
  const rng = new Rng(7);
  const init = { kind: "uniform", irange: 0.8 } as const;
  const G = buildNetwork(rng, "G", NOISE, [{
    type: "dense",
    units: DATA,
    activation: "linear",
  }], init);
  const D = buildNetwork(rng, "D", DATA, [{
    type: "dense",
    units: 1,
    activation: "sigmoid",
  }], init);
  const sgd = { kind: "sgd", lr: 0.5, momentum: 0 } as const;
  const gp = networkParams(G), dp = networkParams(D);
  const gOpt = createOptimizer(sgd, gp.map((p) => p.variable), gp.map((p) => p.name));
  const dOpt = createOptimizer(sgd, dp.map((p) => p.variable), dp.map((p) => p.name));
  const players: Players = {
    G,
    D,
    gVars: gp.map((p) => p.variable),
    dVars: dp.map((p) => p.variable),
    gOpt,
    dOpt,
    beforeDStep() {},
    afterUpdate() {},
  };
  const objectives = new Objectives(D, {
    input: { kind: "identity" },
    dLoss: "sum",
    objective: "non-saturating",
    flipGLoss: false,
    gradientPenalty: null,
    pack: 1,
  });
  const dispose = () => {
    tf.dispose([...gp, ...dp].map((p) => p.variable));
    gOpt.dispose();
    dOpt.dispose();
  };
  return { G, D, players, objectives, gOpt, dOpt, dispose };
}

const value = (t: tf.Tensor) => t.dataSync()[0];

Deno.test("autodiff: the recorded gradient norms equal the closed form (both updates)", async () => {
  await selectBackend("wasm");
  const gan = tinyGan();
  const x = () => tf.tensor2d(X, [ROWS, DATA]), z = () => tf.tensor2d(Z, [ROWS, NOISE]);
  // the simultaneous update: both gradients at the current parameters
  let want = closedForm(read(gan.G), read(gan.D));
  assert.ok(want.dNorm > 0.01 && want.gNorm > 0.01);
  const s = tf.tidy(() =>
    simultaneousUpdate(gan.players, gan.objectives, {
      x: x(),
      z: z(),
      realMasks: undefined,
      fakeMasks: undefined,
      epoch: 0,
      step: 0,
    }, true)
  );
  close(value(s.dGradNorm), want.dNorm, "simultaneous dGradNorm");
  close(value(s.gGradNorm), want.gNorm, "simultaneous gGradNorm");
  // the update moved D: its accuracy on these batches is a share of 8 rows
  assert.equal(value(s.dAccuracy) * 8 % 1, 0);
  tf.dispose(Object.values(s));
  // Algorithm 1: D's step, then G's against the updated D
  want = closedForm(read(gan.G), read(gan.D));
  const d = tf.tidy(() =>
    discriminatorUpdate(gan.players, gan.objectives, {
      x: x(),
      fake: tf.tidy(() => tf.add(tf.matMul(z(), gan.players.gVars[0]), gan.players.gVars[1])),
      realMasks: undefined,
      fakeMasks: undefined,
      epoch: 0,
      step: 0,
    }, true)
  );
  close(value(d.dGradNorm), want.dNorm, "D step dGradNorm");
  want = closedForm(read(gan.G), read(gan.D));
  const g = tf.tidy(() =>
    generatorUpdate(gan.players, gan.objectives, { z: z(), masks: undefined, epoch: 0 }, true)
  );
  close(value(g.gGradNorm), want.gNorm, "G step gGradNorm");
  tf.dispose([...Object.values(d), ...Object.values(g)]);
  gan.dispose();
});

Deno.test("autodiff's simultaneous update applies both gradients at the old parameters; G's freed before D's is taken", async () => {
  await selectBackend("wasm");
  const gan = tinyGan();
  const g0 = read(gan.G), d0 = read(gan.D);
  const want = closedForm(g0, d0);
  // G's gradients as its optimiser gets them, and whether they are freed when D's loss is taken
  let gGrads: tf.Tensor[] = [];
  let gFreedAtD: boolean | null = null;
  const gStep = gan.gOpt.step.bind(gan.gOpt);
  gan.gOpt.step = (grads, epoch) => {
    gGrads = grads;
    gStep(grads, epoch);
  };
  const objectives = {
    generator: gan.objectives.generator.bind(gan.objectives),
    discriminator: (...args: Parameters<Objectives["discriminator"]>) => {
      gFreedAtD = gGrads.length > 0 && gGrads.every((t) => t.isDisposed);
      return gan.objectives.discriminator(...args);
    },
  } as unknown as Objectives;
  const s = tf.tidy(() =>
    simultaneousUpdate(gan.players, objectives, {
      x: tf.tensor2d(X, [ROWS, DATA]),
      z: tf.tensor2d(Z, [ROWS, NOISE]),
      realMasks: undefined,
      fakeMasks: undefined,
      epoch: 0,
      step: 0,
    }, true)
  );
  assert.equal(gFreedAtD, true);
  close(value(s.gGradNorm), want.gNorm, "gGradNorm");
  // plain SGD at lr 0.5: θ − 0.5·∇ with both gradients at (G₀, D₀)
  const g1 = read(gan.G), d1 = read(gan.D);
  const moved = (now: number[], before: number[], grad: number[], what: string) =>
    now.forEach((v, i) => close(v, before[i] - 0.5 * grad[i], `${what}[${i}]`));
  moved(g1.W, g0.W, want.gW, "G W");
  moved(g1.b, g0.b, want.gb, "G b");
  moved(d1.W, d0.W, want.dW, "D W");
  moved(d1.b, d0.b, [want.db], "D b");
  tf.dispose(Object.values(s));
  gan.dispose();
});

Deno.test("gradientNorm: √(Σ g²) over every tensor, no square of a gradient's size on wasm, one at a time elsewhere", async () => {
  for (const backend of ["wasm", "cpu"] as const) {
    await selectBackend(backend);
    const big = new Float32Array(1000);
    big[7] = 3;
    big[999] = 4;
    const grads = { a: tf.tensor2d(big, [10, 100]), b: tf.tensor1d(big.map((v) => v * 2)) };
    const before = tf.memory();
    let n: tf.Tensor | null = null;
    const profile = await tf.profile(() => {
      n = gradientNorm(grads);
      return n;
    });
    // squares are 4,000 bytes: on wasm summed as they are made; elsewhere each freed once
    // summed, not held beside the next or by the caller
    const peak = profile.peakBytes - before.numBytes;
    if (backend === "wasm") assert.ok(peak < 100, `wasm: peak ${peak} bytes above the gradients`);
    else assert.ok(peak >= 4000 && peak < 8000, `cpu: peak ${peak} bytes above the gradients`);
    assert.equal(tf.memory().numTensors, before.numTensors + 1);
    assert.equal(value(n!), Math.fround(Math.sqrt(25 + 100)));
    tf.dispose([n!, grads.a, grads.b]);
  }
  await selectBackend("wasm");
});

const blas = openBlas();

Deno.test({
  name: "fused step: its gradient norms and D accuracy equal the closed form",
  ignore: blas === null,
  async fn() {
    await selectBackend("wasm+openblas");
    const gan = tinyGan();
    const step = new FusedMlpStep(blas!, gan.G, gan.D, gan.gOpt, gan.dOpt, {
      batchSize: ROWS,
      dLoss: "sum",
      objective: "non-saturating",
    });
    for (let t = 0; t < 3; t++) {
      const g = read(gan.G), d = read(gan.D);
      const want = closedForm(g, d);
      const fake = affine(Z, g, NOISE, DATA);
      const right = affine(X, d, DATA, 1).filter((v) => v > 0).length +
        affine(fake, d, DATA, 1).filter((v) => v < 0).length;
      const out = step.step({
        rows: ROWS,
        real: new Float32Array(X),
        z: new Float32Array(Z),
        realMasks: null,
        fakeMasks: null,
        epoch: 0,
      }, true)!;
      close(out.dGradNorm, want.dNorm, `step ${t} dGradNorm`);
      close(out.gGradNorm, want.gNorm, `step ${t} gGradNorm`);
      assert.equal(out.dAccuracy, right / (2 * ROWS), `step ${t} dAccuracy`);
    }
    gan.dispose();
  },
});
