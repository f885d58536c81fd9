/**
 * 2-D mixtures: data centres and spreads, the mode-collapse scores in closed form, the
 * follow-up objectives' losses and gradients against hand-derived derivatives, WGAN-GP's
 * input gradient by finite differences, RMSprop and clipping, config errors, the fused
 * step's refusal, and a tiny seeded run that repeats bit for bit.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { selectBackend } from "../src/backend/select.ts";
import { type Tensor, tf } from "../src/backend/tf.ts";
import { ConfigError } from "../src/config/errors.ts";
import { CONFIG_DIR, loadConfig, resolveConfig } from "../src/config/load.ts";
import { mixtureCentres, sampleMixture } from "../src/data/mixture.ts";
import { scatterSnapshot, scoreMixture } from "../src/metrics/mixture.ts";
import { isScatterSnapshot, panelPicks, scatterSvg } from "../src/report/scatter.ts";
import { Rng } from "../src/rng/streams.ts";
import { fusedStepUnsupported } from "../src/train/steps/fused-mlp.ts";
import { type Objective, OBJECTIVES } from "../src/config/objective-names.ts";
import {
  clipWeights,
  discriminatorObjective,
  generatorObjective,
  gradientPenalty,
  inputGradient,
} from "../src/train/losses.ts";
import { createOptimizer } from "../src/models/optimizers.ts";
import { runExperiment } from "../src/train/run.ts";

await selectBackend("wasm");

const close = (a: number, b: number, tol: number, what: string) =>
  assert.ok(Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)), `${what}: ${a} vs ${b}`);
const rawConfig = (name: string) =>
  JSON.parse(Deno.readTextFileSync(join(CONFIG_DIR, `${name}.json`)));

// ---- data ----

Deno.test("ring-gan: 8 centres on the circle of radius 2 at angles 2πk/8, σ 0.02", () => {
  const { config } = loadConfig("ring-gan");
  assert.deepEqual(config.data, { kind: "ring", modes: 8, radius: 2, std: 0.02 });
  const centres = mixtureCentres(config.data as never);
  assert.equal(centres.length, 8);
  centres.forEach(([x, y], k) => {
    close(x, 2 * Math.cos((Math.PI * k) / 4), 1e-12, `x of mode ${k}`);
    close(y, 2 * Math.sin((Math.PI * k) / 4), 1e-12, `y of mode ${k}`);
  });
  close(centres[2][0], 0, 1e-12, "mode 2 is at (0, 2)");
});

Deno.test("grid-gan: 25 centres at {−4, −2, 0, 2, 4}², σ 0.05", () => {
  const { config } = loadConfig("grid-gan");
  assert.deepEqual(config.data, { kind: "grid", side: 5, spacing: 2, std: 0.05 });
  const got = mixtureCentres(config.data as never).map(([x, y]) => `${x},${y}`).sort();
  const want: string[] = [];
  for (const x of [-4, -2, 0, 2, 4]) for (const y of [-4, -2, 0, 2, 4]) want.push(`${x},${y}`);
  assert.deepEqual(got, want.sort());
});

Deno.test("mixture samples: equal mode shares, per-axis std σ around the nearest centre, seeded", () => {
  const data = { kind: "ring" as const, modes: 8, radius: 2, std: 0.02 };
  const n = 40_000;
  const rng = new Rng(3);
  const x = sampleMixture(data, rng.stream("train/real").at(5), n);
  const centres = mixtureCentres(data);
  const counts = new Array(8).fill(0);
  let ss = 0;
  for (let i = 0; i < n; i++) {
    let best = Infinity, k = -1;
    centres.forEach(([cx, cy], j) => {
      const d = (x[2 * i] - cx) ** 2 + (x[2 * i + 1] - cy) ** 2;
      if (d < best) [best, k] = [d, j];
    });
    counts[k]++;
    ss += best;
  }
  // binomial share 1/8: sd √(n·⅛·⅞) ≈ 66; 5 sd
  for (const c of counts) assert.ok(Math.abs(c - n / 8) < 330, `mode count ${c}`);
  // E‖x − c‖² = 2σ²; the estimate's relative sd is 1/√n
  close(Math.sqrt(ss / (2 * n)), 0.02, 0.02 * 0.02, "per-axis std");
  const again = sampleMixture(data, new Rng(3).stream("train/real").at(5), n);
  assert.deepEqual(again, x, "same seed and step: the same samples");
  const next = sampleMixture(data, new Rng(3).stream("train/real").at(6), 4);
  assert.notDeepEqual(next, x.subarray(0, 8));
});

// ---- metrics ----

Deno.test("mixture scores: high quality within 3σ (strict), modes by threshold, reverse KL", () => {
  const centres: [number, number][] = [[1, 0], [0, 1], [-1, 0], [0, -1]];
  const std = 0.1;
  const points = new Float32Array([
    1,
    0, // mode 0
    1.05,
    0.05, // mode 0
    0.9,
    0, // mode 0
    0.28,
    1, // mode 1, 2.8σ away
    -1.31,
    0, // mode 2, 3.1σ away: not high quality
    0,
    0, // the origin: 10σ from every centre
  ]);
  const s = scoreMixture(points, centres, std, { sigmas: 3, modeThreshold: 1 });
  assert.deepEqual(s.counts, [3, 1, 0, 0]);
  assert.equal(s.modesCaptured, 2);
  assert.equal(s.modes, 4);
  close(s.highQualityFraction, 4 / 6, 1e-15, "high-quality fraction");
  // q = (¾, ¼, 0, 0): Σ q log(4q) = ¾ log 3 + ¼ log 1
  close(s.reverseKl!, 0.75 * Math.log(3), 1e-12, "reverse KL");
  assert.equal(
    scoreMixture(points, centres, std, { sigmas: 3, modeThreshold: 2 }).modesCaptured,
    1,
  );
  assert.equal(
    scoreMixture(points, centres, std, { sigmas: 3, modeThreshold: 4 }).modesCaptured,
    0,
  );
  // 3.2σ admits the fifth point
  assert.deepEqual(scoreMixture(points, centres, std, { sigmas: 3.2, modeThreshold: 1 }).counts, [
    3,
    1,
    1,
    0,
  ]);

  // exactly 3σ away (0.75 = 3 · 0.25, exact in binary): not counted, as PacGAN's `<`
  const edge = scoreMixture(new Float32Array([1.75, 0, 1.5, 0]), [[1, 0]], 0.25, {
    sigmas: 3,
    modeThreshold: 1,
  });
  assert.deepEqual(edge.counts, [1]);

  const uniform = new Float32Array(centres.flat());
  const u = scoreMixture(uniform, centres, std, { sigmas: 3, modeThreshold: 1 });
  assert.equal(u.reverseKl, 0);
  assert.equal(u.modesCaptured, 4);
  const collapsed = scoreMixture(new Float32Array([0, 1, 0, 1]), centres, std, {
    sigmas: 3,
    modeThreshold: 1,
  });
  close(collapsed.reverseKl!, Math.log(4), 1e-12, "one mode: log K");
  const none = scoreMixture(new Float32Array([0, 0]), centres, std, {
    sigmas: 3,
    modeThreshold: 1,
  });
  assert.equal(none.reverseKl, null, "no high-quality sample: no mode distribution");
  assert.equal(none.highQualityFraction, 0);
});

// ---- objectives: loss and gradient in closed form ----

const softplus = (a: number) => Math.max(a, 0) + Math.log1p(Math.exp(-Math.abs(a)));
const sigmoid = (a: number) => 1 / (1 + Math.exp(-a));
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/** Per objective: L_D(r, f), ∂L_D/∂r_i, ∂L_D/∂f_i, L_G(f), ∂L_G/∂f_i (n = batch size). */
const CLOSED: Record<Objective, {
  d: (r: number[], f: number[]) => number;
  dr: (r: number, n: number) => number;
  df: (f: number, n: number) => number;
  g: (f: number[]) => number;
  gf: (f: number, n: number) => number;
}> = {
  "non-saturating": {
    d: (r, f) => mean(r.map((a) => softplus(-a))) + mean(f.map(softplus)),
    dr: (r, n) => -sigmoid(-r) / n,
    df: (f, n) => sigmoid(f) / n,
    g: (f) => mean(f.map((a) => softplus(-a))),
    gf: (f, n) => -sigmoid(-f) / n,
  },
  minimax: {
    d: (r, f) => mean(r.map((a) => softplus(-a))) + mean(f.map(softplus)),
    dr: (r, n) => -sigmoid(-r) / n,
    df: (f, n) => sigmoid(f) / n,
    g: (f) => -mean(f.map(softplus)),
    gf: (f, n) => -sigmoid(f) / n,
  },
  "least-squares": {
    d: (r, f) => 0.5 * mean(r.map((a) => (a - 1) ** 2)) + 0.5 * mean(f.map((a) => a * a)),
    dr: (r, n) => (r - 1) / n,
    df: (f, n) => f / n,
    g: (f) => 0.5 * mean(f.map((a) => (a - 1) ** 2)),
    gf: (f, n) => (f - 1) / n,
  },
  wasserstein: {
    d: (r, f) => mean(f) - mean(r),
    dr: (_, n) => -1 / n,
    df: (_, n) => 1 / n,
    g: (f) => -mean(f),
    gf: (_, n) => -1 / n,
  },
  "wasserstein-gp": {
    d: (r, f) => mean(f) - mean(r),
    dr: (_, n) => -1 / n,
    df: (_, n) => 1 / n,
    g: (f) => -mean(f),
    gf: (_, n) => -1 / n,
  },
  hinge: {
    d: (r, f) => mean(r.map((a) => Math.max(0, 1 - a))) + mean(f.map((a) => Math.max(0, 1 + a))),
    dr: (r, n) => (r < 1 ? -1 / n : 0),
    df: (f, n) => (f > -1 ? 1 / n : 0),
    g: (f) => -mean(f),
    gf: (_, n) => -1 / n,
  },
  kl: {
    d: (r, f) => mean(f.map((a) => Math.exp(a - 1))) - mean(r),
    dr: (_, n) => -1 / n,
    df: (f, n) => Math.exp(f - 1) / n,
    g: (f) => -mean(f),
    gf: (_, n) => -1 / n,
  },
  pearson: {
    d: (r, f) => mean(f.map((a) => a * a / 4 + a)) - mean(r),
    dr: (_, n) => -1 / n,
    df: (f, n) => (f / 2 + 1) / n,
    g: (f) => -mean(f),
    gf: (_, n) => -1 / n,
  },
};

Deno.test("objectives: every loss and its gradient equal the hand-derived closed forms", () => {
  // values on both sides of the hinge's kinks (1 for real, −1 for fake), none at a kink
  const r = [-1.7, -0.3, 0.4, 1.2, 2.5], f = [-2.2, -0.6, 0.1, 0.9, 1.8];
  const n = r.length;
  assert.deepEqual([...OBJECTIVES].sort(), Object.keys(CLOSED).sort());
  for (const objective of OBJECTIVES) {
    const c = CLOSED[objective];
    const rt = tf.tensor2d(r, [n, 1]), ft = tf.tensor2d(f, [n, 1]);
    const dLoss = (a: Tensor, b: Tensor) => discriminatorObjective(objective, a, b, "sum");
    close(dLoss(rt, ft).dataSync()[0], c.d(r, f), 1e-5, `${objective}: D loss`);
    const [gr, gf] = tf.grads(dLoss)([rt, ft]);
    r.forEach((v, i) => close(gr.dataSync()[i], c.dr(v, n), 1e-5, `${objective}: ∂L_D/∂r${i}`));
    f.forEach((v, i) => close(gf.dataSync()[i], c.df(v, n), 1e-5, `${objective}: ∂L_D/∂f${i}`));
    close(generatorObjective(objective, ft).dataSync()[0], c.g(f), 1e-5, `${objective}: G loss`);
    const gg = tf.grad((b: Tensor) => generatorObjective(objective, b))(ft);
    f.forEach((v, i) => close(gg.dataSync()[i], c.gf(v, n), 1e-5, `${objective}: ∂L_G/∂f${i}`));
    tf.dispose([rt, ft, gr, gf, gg]);
  }
  // the BCE objectives' "mean" reduction halves D's loss
  const rt = tf.tensor1d(r), ft = tf.tensor1d(f);
  close(
    discriminatorObjective("minimax", rt, ft, "mean").dataSync()[0],
    CLOSED.minimax.d(r, f) / 2,
    1e-6,
    "mean reduction",
  );
  tf.dispose([rt, ft]);
});

// ---- WGAN-GP ----

/** A small critic x ↦ w2ᵀ act(W1ᵀx + b1) + b2 with fixed random weights. */
function smallCritic(seed: number, act: "tanh" | "relu") {
  const d = new Rng(seed).stream("test/critic").at(0);
  const W1: tf.Variable = tf.variable(tf.tensor2d(d.normal(2 * 6, 0, 0.8), [2, 6]));
  const b1: tf.Variable = tf.variable(tf.tensor1d(d.normal(6, 0, 0.3)));
  const w2: tf.Variable = tf.variable(tf.tensor2d(d.normal(6, 0, 0.8), [6, 1]));
  const critic = (x: Tensor) => tf.add(tf.matMul(tf[act](tf.add(tf.matMul(x, W1), b1)), w2), 0.1);
  return { critic, vars: [W1, b1, w2] };
}

Deno.test("WGAN-GP: ∇ₓD matches central finite differences; the penalty of a linear critic is closed-form", () => {
  const { critic } = smallCritic(7, "tanh");
  const x = [[0.3, -0.7], [1.2, 0.4], [-0.5, 0.9]];
  const grad = inputGradient(critic, tf.tensor2d(x)).arraySync() as number[][];
  const h = 1e-2; // float32: a larger step, and the smooth critic's third derivative is small
  const at = (p: number[]) => (critic(tf.tensor2d([p])).dataSync()[0]);
  x.forEach((p, i) =>
    [0, 1].forEach((j) => {
      const up = [...p], down = [...p];
      up[j] += h;
      down[j] -= h;
      close(grad[i][j], (at(up) - at(down)) / (2 * h), 2e-3, `∂D/∂x${j} at row ${i}`);
    })
  );

  // D(x) = wᵀx + b: ∇ₓD = w for every x̂, so the penalty is λ(‖w‖ − 1)², and its gradient
  // with respect to w (a second-order gradient through tf.grad) is 2λ(‖w‖ − 1)·w/‖w‖
  const w = tf.variable(tf.tensor2d([[0.6], [1.7]]));
  const linear = (v: Tensor) => tf.add(tf.matMul(v, w), 0.5);
  const real = tf.tensor2d([[1, 2], [3, -1], [0, 0]]),
    fake = tf.tensor2d([[-1, 0], [2, 2], [1, 1]]);
  const eps = tf.tensor2d([[0.2], [0.9], [0.5]]);
  const norm = Math.hypot(0.6, 1.7), lambda = 10;
  const { value, grads } = tf.variableGrads(
    () => gradientPenalty(linear, real, fake, eps, lambda) as tf.Scalar,
    [w],
  );
  close(value.dataSync()[0], lambda * (norm - 1) ** 2, 1e-5, "penalty");
  const gw = grads[w.name].dataSync();
  close(gw[0], 2 * lambda * (norm - 1) * 0.6 / norm, 1e-4, "∂penalty/∂w0");
  close(gw[1], 2 * lambda * (norm - 1) * 1.7 / norm, 1e-4, "∂penalty/∂w1");

  // the penalty's gradient with respect to a ReLU critic's weights, by finite differences
  // (TF.js's second-order gradients are wrong through tanh, sigmoid and elu: schema refuses them)
  const { critic: relu, vars } = smallCritic(7, "relu");
  const target = vars[0];
  const penalty = () => gradientPenalty(relu, real, fake, eps, lambda).dataSync()[0];
  const auto = tf.variableGrads(
    () => gradientPenalty(relu, real, fake, eps, lambda) as tf.Scalar,
    vars,
  ).grads[target.name].dataSync();
  const base = target.dataSync().slice();
  for (const k of [0, 3, 7]) {
    const shifted = (delta: number) => {
      const v = base.slice();
      v[k] += delta;
      target.assign(tf.tensor2d(v, [2, 6]));
      return penalty();
    };
    const fd = (shifted(1e-3) - shifted(-1e-3)) / 2e-3;
    target.assign(tf.tensor2d(base, [2, 6]));
    close(auto[k], fd, 2e-2, `∂penalty/∂W1[${k}]`);
  }
  tf.dispose([...vars, w, real, fake, eps, value]);
  assert.ok(Math.abs(auto[0]) + Math.abs(auto[3]) + Math.abs(auto[7]) > 1e-3, "a nonzero gradient");
});

Deno.test("WGAN-GP: where ∇ₓD(x̂) = 0 exactly the penalty's gradient is finite, by closed form and finite differences", () => {
  // D(x) = w2ᵀ relu(W1ᵀx + b1) + 0.1, three units that all read x0: every unit is off for
  // x0 < 0 (∇ₓD = 0 exactly there) and on for x0 > 1 (∇ₓD = W1·w2 there)
  const W1 = tf.variable(tf.tensor2d([[1, 1.5, 2], [0.3, -0.2, 0.1]])); // [in 2, units 3]
  const b1 = tf.variable(tf.tensor1d([0, -0.5, -1]));
  const w2 = tf.variable(tf.tensor2d([[0.7], [-0.4], [0.9]]));
  const vars = [W1, b1, w2];
  const critic = (x: Tensor) => tf.add(tf.matMul(tf.relu(tf.add(tf.matMul(x, W1), b1)), w2), 0.1);
  const lambda = 10;
  const penaltyOf = (real: Tensor, fake: Tensor, eps: Tensor) =>
    tf.variableGrads(() => gradientPenalty(critic, real, fake, eps, lambda) as tf.Scalar, vars);

  // every x̂ in the dead region: the penalty is λ(0 − 1)² = λ and, locally constant in the
  // weights, has gradient 0 (the old √(Σ g²) gave NaN: ∞ from √ at 0, times 0)
  const deadReal = tf.tensor2d([[-1, 0.5], [-3, -2]]), deadFake = tf.tensor2d([[-2, 1], [-0.5, 4]]);
  const eps2 = tf.tensor2d([[0.3], [0.8]]);
  const dead = penaltyOf(deadReal, deadFake, eps2);
  assert.equal(dead.value.dataSync()[0], lambda);
  for (const v of vars) {
    const g = [...dead.grads[v.name].dataSync()];
    assert.deepEqual(g.map(Math.abs), g.map(() => 0), `∂penalty/∂${v.name}: ${g}`);
  }

  // a batch with one dead row and two live ones: the same gradient as finite differences
  // (the dead row adds λ/3 to the penalty and nothing to its gradient)
  const real = tf.tensor2d([[-2, 0.5], [2, 1], [3, -1]]),
    fake = tf.tensor2d([[-1, -1], [1.5, 0], [2, 2]]);
  const eps3 = tf.tensor2d([[0.4], [0.5], [0.9]]);
  const mixed = penaltyOf(real, fake, eps3);
  const auto = mixed.grads[W1.name].dataSync();
  assert.ok(auto.every(Number.isFinite), `finite: ${[...auto]}`);
  const base = W1.dataSync().slice();
  const at = (k: number, delta: number) => {
    const v = base.slice();
    v[k] += delta;
    W1.assign(tf.tensor2d(v, [2, 3]));
    return gradientPenalty(critic, real, fake, eps3, lambda).dataSync()[0];
  };
  for (const k of [0, 1, 2, 4]) {
    const fd = (at(k, 1e-3) - at(k, -1e-3)) / 2e-3;
    W1.assign(tf.tensor2d(base, [2, 3]));
    close(auto[k], fd, 2e-2, `∂penalty/∂W1[${k}]`);
  }
  assert.ok(auto.some((g) => Math.abs(g) > 1e-2), "the live rows give a nonzero gradient");
  tf.dispose([...vars, deadReal, deadFake, eps2, real, fake, eps3, dead.value, mixed.value]);
  tf.dispose([...Object.values(dead.grads), ...Object.values(mixed.grads)]);
});

// ---- optimisers and clipping ----

Deno.test("RMSprop: two steps as torch.optim.RMSprop computes them", () => {
  const p = tf.variable(tf.tensor1d([1, -2]));
  const opt = createOptimizer({ kind: "rmsprop", lr: 0.01, alpha: 0.9, epsilon: 1e-8 }, [p], ["p"]);
  const g1 = [0.5, -4], g2 = [1, 2];
  opt.step([tf.tensor1d(g1)], 0);
  opt.step([tf.tensor1d(g2)], 0);
  const want = [1, -2].map((theta, i) => {
    const v1 = 0.1 * g1[i] ** 2;
    const t1 = theta - (0.01 * g1[i]) / (Math.sqrt(v1) + 1e-8);
    const v2 = 0.9 * v1 + 0.1 * g2[i] ** 2;
    return t1 - (0.01 * g2[i]) / (Math.sqrt(v2) + 1e-8);
  });
  const got = p.dataSync();
  want.forEach((w, i) => close(got[i], w, 1e-6, `θ${i}`));
  assert.equal(opt.steps, 2);
  assert.deepEqual(opt.slots().map(([n]) => n), ["p/rmsprop_v"]);
  assert.equal(opt.linearRule(0), null);
  opt.dispose();
  p.dispose();
});

Deno.test("weight clipping: every value into [−c, c], the rest unchanged", () => {
  const v = tf.variable(tf.tensor1d([-0.5, -0.01, 0.003, 0.02]));
  clipWeights([v], 0.01);
  assert.deepEqual(Array.from(v.dataSync()), [-0.01, -0.01, 0.003, 0.01].map(Math.fround));
  v.dispose();
});

// ---- configs ----

// Mutations reach into arbitrary depths of the JSON; typing them buys nothing here.
// deno-lint-ignore no-explicit-any
type Json = Record<string, any>;

function configError(edit: (c: Json) => void): string {
  const raw = rawConfig("ring-gan");
  edit(raw);
  try {
    resolveConfig("configs/x.json", raw);
  } catch (e) {
    assert.ok(e instanceof ConfigError, String(e));
    return e.message;
  }
  throw new Error("the config was accepted");
}

Deno.test("config errors name the field: WGAN without or with zero clipping, sigmoid critic, bad penalty", () => {
  const wgan = (c: Json) => {
    c.training.objective = "wasserstein";
    c.training.weightClip = 0.01;
  };
  assert.match(
    configError((c) => {
      wgan(c);
      delete c.training.weightClip;
    }),
    /training\.weightClip.*the "wasserstein" objective needs a weight clipping bound/s,
  );
  assert.match(
    configError((c) => (wgan(c), c.training.weightClip = 0)),
    /\$\.training\.weightClip: found 0/,
  );
  assert.match(
    configError((c) => (wgan(c), c.discriminator.layers[1].activation = "sigmoid")),
    /\$\.discriminator\.layers\[1\]\.activation.*must be dense with a "linear" activation, found "sigmoid"/s,
  );
  assert.match(
    configError((c) => (c.training.objective = "wasserstein-gp", c.training.gradientPenalty = -10)),
    /\$\.training\.gradientPenalty: found -10/,
  );
  assert.match(
    configError((c) => (
      c.training.objective = "wasserstein-gp",
        c.training.gradientPenalty = 10,
        c.discriminator.layers[0].activation = "tanh"
    )),
    /\$\.discriminator\.layers\[0\]\.activation.*second-order gradients/s,
  );
  assert.match(
    configError((c) => (c.training.gradientPenalty = 10)),
    /only the "wasserstein-gp" objective uses gradientPenalty; this config's is "non-saturating"/,
  );
  assert.match(
    configError((
      c,
    ) => (c.metrics = {
      kind: "gaussian-1d",
      samples: 10,
      histogram: { bins: 2, low: 0, high: 1 },
    })),
    /ring data are scored by "mixture-2d" metrics/,
  );
});

Deno.test("the fused step declines the new objectives, naming the objective", () => {
  const { config } = loadConfig("ring-gan", { overrides: ['training.objective="hinge"'] });
  const why = fusedStepUnsupported(
    config,
    null as never,
    null as never,
    null as never,
    null as never,
  );
  assert.equal(
    why,
    'its objective is "hinge" (the fused step computes the BCE objectives only: non-saturating, minimax)',
  );
});

// ---- a tiny seeded run ----

Deno.test("a tiny WGAN-GP ring run repeats bit for bit and scores its samples", async () => {
  const overrides = [
    'training.objective="wasserstein-gp"',
    "training.gradientPenalty=10",
    "training.dSteps=2",
    'training.budget={"iterations":12}',
    "training.batchSize=32",
    "training.logEvery=4",
    "noise.dim=8",
    "metrics.samples=200",
  ];
  const run = () =>
    runExperiment(loadConfig("ring-gan", { overrides }), { seed: 5, backend: "wasm" });
  const a = await run(), b = await run();
  assert.equal(a.status, "completed");
  assert.deepEqual(a.fingerprints, b.fingerprints);
  assert.deepEqual(a.metrics, b.metrics);
  assert.equal(a.metrics.modes, 8);
  assert.ok(a.metrics.modesCaptured >= 0 && a.metrics.modesCaptured <= 8);
  assert.ok(a.history.dLoss.every(Number.isFinite));
  const other = await runExperiment(loadConfig("ring-gan", { overrides }), {
    seed: 6,
    backend: "wasm",
  });
  assert.notDeepEqual(other.fingerprints, a.fingerprints, "another seed, other numbers");
});

// ---- the run page's scatters ----

Deno.test("scatter: one disc per centre, one dot per point on the plot, the scores in the caption", () => {
  const centres: [number, number][] = [[2, 0], [0, 2], [-2, 0], [0, -2]];
  const snap = scatterSnapshot(
    40,
    new Float32Array([2, 0, 2.01, 0.01, 0, 2, 50, 50]),
    centres,
    0.02,
    { sigmas: 3, modeThreshold: 1, samples: 3 },
  );
  assert.deepEqual(snap.scores.counts, [2, 1, 0, 0], "scored on the first 3 samples only");
  assert.equal(snap.points.length, 8);
  const svg = scatterSvg(snap, 3);
  assert.equal((svg.match(/fill="none" stroke=/g) ?? []).length, 4, "a 3σ disc per centre");
  assert.equal((svg.match(/r="1.2"/g) ?? []).length, 3, "the point at (50, 50) is off the plot");
  assert.match(
    svg,
    /after 40 iterations: 2 of 4 modes, 100 % high quality, 1 point off the plot/,
  );
  assert.deepEqual(panelPicks(25), [0, 5, 10, 14, 19, 24]);
  assert.deepEqual(panelPicks(3), [0, 1, 2]);
  assert.ok(isScatterSnapshot(snap));
  assert.ok(
    !isScatterSnapshot({ iteration: 1, generated: [] }),
    "a 1-D density snapshot is not one",
  );
});
