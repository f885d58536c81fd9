/**
 * Unrolled GAN (src/train/unroll.ts, docs/mixtures.md §Unrolling): G's unrolled gradient on a
 * tiny model against central differences of the whole surrogate computed here in float64
 * (D's gradient by hand, Adam from the optimiser's own state), K = 0 equal to the ordinary
 * gradient, θ_D^1 equal to D's actual Adam step, no tensor left behind per step, the config
 * errors and the fused step's refusal, and tiny runs of both updates.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { selectBackend } from "../src/backend/select.ts";
import { tf } from "../src/backend/tf.ts";
import { ConfigError } from "../src/config/errors.ts";
import { CONFIG_DIR, loadConfig, resolveConfig } from "../src/config/load.ts";
import type { Objective } from "../src/config/objective-names.ts";
import { buildNetwork, networkParams } from "../src/models/network.ts";
import { createOptimizer } from "../src/models/optimizers.ts";
import { Rng } from "../src/rng/streams.ts";
import { Objectives } from "../src/train/objectives.ts";
import { runExperiment } from "../src/train/run.ts";
import { generatorUpdate } from "../src/train/steps/alternating.ts";
import { fusedStepUnsupported } from "../src/train/steps/fused-mlp.ts";
import { simultaneousUpdate } from "../src/train/steps/simultaneous.ts";
import type { Players } from "../src/train/steps/step.ts";
import { unrolledDiscriminator, unrolledGeneratorLoss } from "../src/train/unroll.ts";

await selectBackend("wasm");

// 1-D data, 1-D noise: G(z) = a·z + e; D(x) = Σ_j v_j relu(W_j x + b_j) + c, H hidden units
const H = 3, ROWS = 6;
const X = [1.9, 2.1, -2.05, -1.95, 2.0, -2.0];
const Z = [0.3, -1.2, 0.8, 0.05, -0.4, 1.5];
const G0 = { a: 0.7, e: 0.4 };
const D0 = { W: [1.2, -0.8, 0.5], b: [0.3, 0.6, -0.2], v: [0.9, -1.1, 0.7], c: 0.05 };
const ADAM = { kind: "adam", lr: 0.5, beta1: 0.5, beta2: 0.999, epsilon: 1e-8 } as const;

const sigmoid = (u: number) => 1 / (1 + Math.exp(-u));
const softplus = (u: number) => (u > 0 ? u + Math.log1p(Math.exp(-u)) : Math.log1p(Math.exp(u)));
const mean = (xs: number[]) => xs.reduce((s, v) => s + v, 0) / xs.length;

/** D's parameters flat, in networkParams order: W (1×H), b (H), v (H×1), c (1). */
type Flat = number[];

function dOut(p: Flat, x: number): number {
  let out = p[3 * H];
  for (let j = 0; j < H; j++) out += p[2 * H + j] * Math.max(0, p[j] * x + p[H + j]);
  return out;
}

/** ∂L_D/∂θ_D by hand: L_D = E softplus(−D(x)) + E softplus(D(G(z))) (dLoss "sum"). */
function dGrad(p: Flat, real: number[], fake: number[]): Flat {
  const g = new Array(p.length).fill(0);
  const add = (u: number, delta: number) => {
    g[3 * H] += delta;
    for (let j = 0; j < H; j++) {
      const pre = p[j] * u + p[H + j];
      if (pre <= 0) continue;
      g[2 * H + j] += delta * pre;
      g[j] += delta * p[2 * H + j] * u;
      g[H + j] += delta * p[2 * H + j];
    }
  };
  real.forEach((u) => add(u, -sigmoid(-dOut(p, u)) / real.length));
  fake.forEach((u) => add(u, sigmoid(dOut(p, u)) / fake.length));
  return g;
}

/**
 * The surrogate in float64: K Adam steps of D from moments (m, v) after `t0` updates, then
 * G's loss at θ_D^K (minimax: the value function, real term included).
 */
function surrogate(
  g: { a: number; e: number },
  start: { p: Flat; m: Flat; v: Flat; t0: number },
  K: number,
  objective: "non-saturating" | "minimax",
): number {
  const fake = Z.map((z) => g.a * z + g.e);
  let p = [...start.p], m = [...start.m], v = [...start.v];
  const { lr, beta1, beta2, epsilon } = ADAM;
  for (let k = 0; k < K; k++) {
    const grad = dGrad(p, X, fake);
    const t = start.t0 + 1 + k, c1 = 1 - beta1 ** t, c2 = 1 - beta2 ** t;
    m = m.map((mi, i) => beta1 * mi + (1 - beta1) * grad[i]);
    v = v.map((vi, i) => beta2 * vi + (1 - beta2) * grad[i] ** 2);
    p = p.map((pi, i) => pi - (lr * m[i] / c1) / (Math.sqrt(v[i] / c2) + epsilon));
  }
  const f = fake.map((u) => dOut(p, u));
  if (objective === "non-saturating") return mean(f.map((u) => softplus(-u)));
  return -mean(f.map((u) => softplus(u))) - mean(X.map((u) => softplus(-dOut(p, u))));
}

/** Central differences of the surrogate over G's (a, e). */
function referenceGradient(
  start: Parameters<typeof surrogate>[1],
  K: number,
  objective: "non-saturating" | "minimax",
): [number, number] {
  const h = 1e-6;
  const at = (da: number, de: number) =>
    surrogate({ a: G0.a + da, e: G0.e + de }, start, K, objective);
  return [(at(h, 0) - at(-h, 0)) / (2 * h), (at(0, h) - at(0, -h)) / (2 * h)];
}

/** G's gradient at θ_D^K(G0) held constant: no derivative through the unrolled steps. */
function constantDGradient(
  start: Parameters<typeof surrogate>[1],
  K: number,
  objective: "non-saturating" | "minimax",
): [number, number] {
  // θ_D^K at G0: the surrogate's D after K steps, as the start of a 0-step surrogate
  const fake = Z.map((z) => G0.a * z + G0.e);
  let p = [...start.p], m = [...start.m], v = [...start.v];
  const { lr, beta1, beta2, epsilon } = ADAM;
  for (let k = 0; k < K; k++) {
    const grad = dGrad(p, X, fake);
    const t = start.t0 + 1 + k, c1 = 1 - beta1 ** t, c2 = 1 - beta2 ** t;
    m = m.map((mi, i) => beta1 * mi + (1 - beta1) * grad[i]);
    v = v.map((vi, i) => beta2 * vi + (1 - beta2) * grad[i] ** 2);
    p = p.map((pi, i) => pi - (lr * m[i] / c1) / (Math.sqrt(v[i] / c2) + epsilon));
  }
  return referenceGradient({ p, m, v, t0: start.t0 + K }, 0, objective);
}

/** The tiny GAN in TF.js, D's Adam taken `warm` ordinary steps first (state: moments ≠ 0). */
function tinyGan(objective: Objective, warm = 2, d0 = D0) {
  const rng = new Rng(11);
  const init = { kind: "fan-in-uniform" } as const;
  const G = buildNetwork(rng, "G", 1, [{ type: "dense", units: 1, activation: "linear" }], init);
  const D = buildNetwork(rng, "D", 1, [
    { type: "dense", units: H, activation: "relu" },
    { type: "dense", units: 1, activation: "linear" },
  ], init);
  const gp = networkParams(G), dp = networkParams(D);
  const [a, e] = gp.map((p) => p.variable);
  a.assign(tf.tensor2d([G0.a], [1, 1]));
  e.assign(tf.tensor1d([G0.e]));
  const [W, b, v, c] = dp.map((p) => p.variable);
  W.assign(tf.tensor2d(d0.W, [1, H]));
  b.assign(tf.tensor1d(d0.b));
  v.assign(tf.tensor2d(d0.v, [H, 1]));
  c.assign(tf.tensor1d([d0.c]));
  const gOpt = createOptimizer(ADAM, gp.map((p) => p.variable), gp.map((p) => p.name));
  const dOpt = createOptimizer(ADAM, dp.map((p) => p.variable), dp.map((p) => p.name));
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
    objective,
    flipGLoss: false,
    gradientPenalty: null,
    pack: 1,
  });
  // warm D's Adam with ordinary steps on other batches, so the unroll starts from real state
  for (let s = 0; s < warm; s++) {
    tf.tidy(() => {
      const x = tf.tensor2d(X.map((u) => u * (1 + 0.1 * (s + 1))), [ROWS, 1]);
      const fake = tf.tensor2d(Z.map((z) => -z), [ROWS, 1]);
      const grads = tf.grads((...ps: tf.Tensor[]) =>
        objectives.at(ps).discriminator(x, fake, undefined, undefined, s)
      )(players.dVars);
      dOpt.step(grads, 0);
    });
  }
  const flat = (vars: tf.Variable[]) => vars.flatMap((t) => Array.from(t.dataSync()));
  const slots = new Map(dOpt.slots());
  const names = dp.map((p) => p.name);
  const start = {
    p: flat(players.dVars),
    m: flat(names.map((n) => slots.get(`${n}/adam_m`)!)),
    v: flat(names.map((n) => slots.get(`${n}/adam_v`)!)),
    t0: dOpt.steps,
  };
  const dispose = () => {
    tf.dispose([...gp, ...dp].map((p) => p.variable));
    gOpt.dispose();
    dOpt.dispose();
  };
  return { players, objectives, start, dispose };
}

/** TF.js's unrolled gradient of G's (a, e) and the surrogate's value. */
function unrolledGradient(gan: ReturnType<typeof tinyGan>, K: number): [number, number, number] {
  return tf.tidy(() => {
    const x = tf.tensor2d(X, [ROWS, 1]), z = tf.tensor2d(Z, [ROWS, 1]);
    const { value, grads } = tf.variableGrads(() => {
      const fake = tf.add(tf.matMul(z, gan.players.gVars[0]), gan.players.gVars[1]);
      return unrolledGeneratorLoss(gan.players, gan.objectives, {
        x,
        fake,
        realMasks: undefined,
        fakeMasks: undefined,
        gMasks: undefined,
        step: 0,
      }, K);
    }, gan.players.gVars);
    const [ga, ge] = gan.players.gVars.map((v) => grads[v.name].dataSync()[0]);
    return [ga, ge, value.dataSync()[0]];
  });
}

const near = (got: number, want: number, tol: number, what: string) =>
  assert.ok(
    Math.abs(got - want) <= tol * Math.max(1, Math.abs(want)),
    `${what}: ${got}, want ${want}`,
  );

for (const objective of ["non-saturating", "minimax"] as const) {
  Deno.test(`unrolled G gradient (${objective}, K = 3 Adam steps from warm state) = central differences of the float64 surrogate`, () => {
    const gan = tinyGan(objective);
    const K = 3;
    const [ga, ge, value] = unrolledGradient(gan, K);
    near(value, surrogate(G0, gan.start, K, objective), 1e-5, "surrogate value");
    const [ra, re] = referenceGradient(gan.start, K, objective);
    near(ga, ra, 2e-4, "∂/∂a");
    near(ge, re, 2e-4, "∂/∂e");
    // the unrolling matters here: G's ordinary gradient at the current D, and G's gradient at
    // θ_D^K taken as a constant, are both far from the unrolled one
    const [oa, oe] = referenceGradient(gan.start, 0, objective);
    assert.ok(Math.abs(oa - ra) + Math.abs(oe - re) > 0.05, `K = 0: ${oa}, ${oe}`);
    const [ca, ce] = constantDGradient(gan.start, K, objective);
    assert.ok(Math.abs(ca - ra) + Math.abs(ce - re) > 0.05, `θ_D^K held: ${ca}, ${ce}`);
    gan.dispose();
  });
}

Deno.test("a dead ReLU unit (Adam's second moment exactly 0) leaves the unrolled gradient finite and exact", () => {
  // unit 2 never fires (0.5·u − 10 < 0 for every real and generated u), and D's Adam starts
  // fresh, so that unit's weights have gradient 0 and second moment 0 at every unrolled step:
  // √v at 0 has an infinite derivative, which tf.sqrt turns into NaN
  const dead = { ...D0, W: [1.2, -0.8, 0.5], b: [0.3, 0.6, -10] };
  const gan = tinyGan("non-saturating", 0, dead);
  const [ga, ge] = unrolledGradient(gan, 3);
  assert.ok(Number.isFinite(ga) && Number.isFinite(ge), `${ga}, ${ge}`);
  const [ra, re] = referenceGradient(gan.start, 3, "non-saturating");
  near(ga, ra, 2e-4, "∂/∂a");
  near(ge, re, 2e-4, "∂/∂e");
  gan.dispose();
});

Deno.test("K = 0: the surrogate's gradient is G's ordinary gradient, bit for bit", () => {
  for (const objective of ["non-saturating", "minimax"] as const) {
    const gan = tinyGan(objective);
    const [ga, ge] = unrolledGradient(gan, 0);
    const ordinary = tf.tidy(() => {
      const z = tf.tensor2d(Z, [ROWS, 1]);
      const { grads } = tf.variableGrads(
        () =>
          gan.objectives.generator(
            tf.add(tf.matMul(z, gan.players.gVars[0]), gan.players.gVars[1]),
            undefined,
          ),
        gan.players.gVars,
      );
      return gan.players.gVars.map((v) => grads[v.name].dataSync()[0]);
    });
    assert.deepEqual([ga, ge], ordinary, objective);
    const [ra, re] = referenceGradient(gan.start, 0, objective);
    near(ga, ra, 1e-4, `${objective} ∂/∂a`);
    near(ge, re, 1e-4, `${objective} ∂/∂e`);
    gan.dispose();
  }
});

Deno.test("θ_D^1 is D's actual Adam step on the same batch; nothing of D is written", () => {
  const gan = tinyGan("non-saturating");
  const before = gan.players.dVars.map((v) => Array.from(v.dataSync()));
  const one = tf.tidy(() => {
    const x = tf.tensor2d(X, [ROWS, 1]);
    const fake = tf.tensor2d(Z.map((z) => G0.a * z + G0.e), [ROWS, 1]);
    const dK = unrolledDiscriminator(gan.players, gan.objectives, {
      x,
      fake,
      realMasks: undefined,
      fakeMasks: undefined,
      step: 0,
    }, 1);
    return dK.map((t) => Array.from(t.dataSync()));
  });
  assert.deepEqual(gan.players.dVars.map((v) => Array.from(v.dataSync())), before);
  assert.equal(gan.players.dOpt.steps, gan.start.t0, "the optimiser's step count is untouched");
  tf.tidy(() => {
    const x = tf.tensor2d(X, [ROWS, 1]);
    const fake = tf.tensor2d(Z.map((z) => G0.a * z + G0.e), [ROWS, 1]);
    const grads = tf.grads((...ps: tf.Tensor[]) =>
      gan.objectives.at(ps).discriminator(x, fake, undefined, undefined, 0)
    )(gan.players.dVars);
    gan.players.dOpt.step(grads, 0);
  });
  const after = gan.players.dVars.map((v) => Array.from(v.dataSync()));
  after.forEach((values, i) =>
    values.forEach((want, j) => near(one[i][j], want, 1e-7, `D param ${i}[${j}]`))
  );
  gan.dispose();
});

Deno.test("an unrolled step leaves no tensor behind (simultaneous and alternating G updates)", () => {
  const gan = tinyGan("minimax");
  const x = tf.tensor2d(X, [ROWS, 1]), z = tf.tensor2d(Z, [ROWS, 1]);
  const simultaneous = () =>
    tf.tidy(() => {
      simultaneousUpdate(
        gan.players,
        gan.objectives,
        {
          x,
          z,
          realMasks: undefined,
          fakeMasks: undefined,
          epoch: 0,
          step: 0,
        },
        false,
        4,
      );
    });
  const alternating = () =>
    tf.tidy(() => {
      generatorUpdate(gan.players, gan.objectives, { z, masks: undefined, epoch: 0 }, false, {
        steps: 4,
        x,
        realMasks: undefined,
        step: 0,
      });
    });
  for (const update of [simultaneous, alternating]) {
    update(); // the first G step creates nothing lasting either, but warm up anyway
    const count = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) update();
    assert.equal(tf.memory().numTensors, count);
  }
  tf.dispose([x, z]);
  gan.dispose();
});

// Mutations reach into arbitrary depths of the JSON; typing them buys nothing here.
// deno-lint-ignore no-explicit-any
type Json = Record<string, any>;

function configError(name: string, edit: (c: Json) => void): string {
  const raw = JSON.parse(Deno.readTextFileSync(join(CONFIG_DIR, `${name}.json`)));
  edit(raw);
  try {
    resolveConfig("configs/x.json", raw);
  } catch (e) {
    assert.ok(e instanceof ConfigError, String(e));
    return e.message;
  }
  throw new Error("the config was accepted");
}

Deno.test("config errors name training.unroll and what unrolling cannot take", () => {
  const issue = (path: string, found: string, allowed: string) =>
    `configs/x.json: invalid config\n  at ${path}: found ${found}; ${allowed}`;
  const unroll2 = (c: Json) => (c.training.unroll = { steps: 2 });
  assert.equal(
    configError("ring-gan", (c) => (c.training.unroll = { steps: 0 })),
    issue("$.training.unroll.steps", "0 (number)", "expected a number ≥ 1"),
  );
  assert.equal(
    configError("ring-gan", (c) => (c.training.unroll = { steps: 2.5 })),
    issue("$.training.unroll.steps", "2.5 (number)", "expected an integer"),
  );
  assert.equal(
    configError("ring-gan", (c) => (c.training.unroll = { steps: 2, k: 1 })),
    issue("$.training.unroll", 'unknown key "k"', "remove it; known keys here: steps"),
  );
  const secondOrder = "unrolling differentiates D's gradient, which TF.js computes correctly " +
    'only through dense layers: allowed "relu", "linear" (and a last "sigmoid" with a BCE ' +
    "objective)";
  assert.equal(
    configError("ring-gan", (c) => {
      unroll2(c);
      c.discriminator.layers[0].activation = "tanh";
    }),
    issue("$.discriminator.layers[0].activation", '"tanh" (string)', secondOrder),
  );
  assert.equal(
    configError("grid-gan", unroll2), // maxout D
    [
      "configs/x.json: invalid config",
      ...[0, 1, 2].map((i) =>
        `  at $.discriminator.layers[${i}].type: found "maxout" (string); ${secondOrder}`
      ),
    ].join("\n"),
  );
  assert.equal(
    configError("ring-fgan-kl", unroll2),
    issue(
      "$.training.objective",
      '"kl" (string)',
      'unrolling differentiates D\'s gradient, which TF.js gets wrong through the "kl" ' +
        "objective's exp; allowed: non-saturating, minimax, least-squares, wasserstein, " +
        "hinge, pearson",
    ),
  );
  const outside = (field: string) =>
    `unrolling is not implemented with ${field} (it acts on D outside its optimiser's ` +
    "update): remove one of them";
  assert.equal(
    configError("ring-wgan", unroll2),
    issue("$.training.weightClip", "0.01 (number)", outside("weightClip")),
  );
  assert.equal(
    configError("ring-wgan-gp", unroll2),
    issue("$.training.gradientPenalty", "10 (number)", outside("gradientPenalty")),
  );
  assert.equal(
    configError("ring-gan", (c) => {
      unroll2(c);
      c.discriminator.maxColNorm = 1;
    }),
    issue("$.discriminator.maxColNorm", "1 (number)", outside("discriminator.maxColNorm")),
  );
  assert.equal(
    configError("ring-gan", (c) => {
      unroll2(c);
      c.training.optimizers.discriminator = {
        kind: "momentum",
        lr: 0.1,
        decay: 1.000004,
        minLr: 0.000001,
        momentum: { initial: 0.5, final: 0.7, start: 1, saturate: 250 },
      };
    }),
    issue(
      "$.training.optimizers.discriminator.kind",
      '"momentum" (string)',
      'unrolling steps D\'s optimiser as tensor operations: allowed "adam", "sgd", "rmsprop"',
    ),
  );
  // what unrolling does take: ring-gan's D with a sigmoid output under a BCE objective
  const raw = JSON.parse(Deno.readTextFileSync(join(CONFIG_DIR, "ring-gan.json")));
  unroll2(raw);
  raw.discriminator.layers[1].activation = "sigmoid";
  assert.equal(resolveConfig("configs/x.json", raw).config.training.unroll?.steps, 2);
});

Deno.test("the fused step declines unrolling, naming training.unroll", () => {
  const { config } = loadConfig("ring-unrolled");
  const why = fusedStepUnsupported(
    config,
    null as never,
    null as never,
    null as never,
    null as never,
  );
  assert.equal(
    why,
    "it unrolls D (training.unroll.steps 5; the fused step takes G's gradient at the current D only)",
  );
});

Deno.test("tiny ring-unrolled runs, simultaneous and alternating: finite, and repeat bit for bit", async () => {
  const overrides = [
    'training.budget={"iterations":6}',
    "training.batchSize=32",
    "training.logEvery=3",
    "metrics.samples=200",
  ];
  const run = (extra: string[]) =>
    runExperiment(loadConfig("ring-unrolled", { overrides: [...overrides, ...extra] }), {
      seed: 2,
      backend: "wasm",
    });
  for (const extra of [[], ["training.update=alternating"]]) {
    const a = await run(extra), b = await run(extra);
    assert.equal(a.status, "completed", extra.join(" "));
    assert.ok(a.history.gLoss.every(Number.isFinite), extra.join(" "));
    assert.deepEqual(a.fingerprints, b.fingerprints, extra.join(" "));
    const one = await run([...extra, "training.unroll.steps=1"]);
    assert.notDeepEqual(one.fingerprints, a.fingerprints, "K changes G's updates");
  }
});
