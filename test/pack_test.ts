/**
 * PacGAN's packing (docs/mixtures.md §Packing): the packed D input in closed form, D's loss
 * on packs by hand, m = 1 unchanged, the configs' D input width, config errors naming
 * `training.pack`, the fused step's refusal, and a tiny packed run that repeats bit for bit.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { selectBackend } from "../src/backend/select.ts";
import { tf } from "../src/backend/tf.ts";
import { ConfigError } from "../src/config/errors.ts";
import { CONFIG_DIR, loadConfig, resolveConfig } from "../src/config/load.ts";
import { buildNetwork, disposeNetwork, networkParams } from "../src/models/network.ts";
import { packRows } from "../src/models/pack.ts";
import { modelShapes } from "../src/models/shapes.ts";
import { Rng } from "../src/rng/streams.ts";
import { Objectives } from "../src/train/objectives.ts";
import { runExperiment } from "../src/train/run.ts";
import { fusedStepUnsupported } from "../src/train/steps/fused-mlp.ts";

await selectBackend("wasm");

const softplus = (v: number) => Math.log1p(Math.exp(v));

Deno.test("packRows: m consecutive rows side by side; m = 1 is the batch itself", () => {
  const x = tf.tensor2d([[1, 2], [3, 4], [5, 6], [7, 8], [9, 10], [11, 12]]);
  assert.equal(packRows(x, 1), x, "m = 1 adds no op: the same tensor");
  const two = packRows(x, 2), three = packRows(x, 3);
  assert.deepEqual(two.arraySync(), [[1, 2, 3, 4], [5, 6, 7, 8], [9, 10, 11, 12]]);
  assert.deepEqual(three.arraySync(), [[1, 2, 3, 4, 5, 6], [7, 8, 9, 10, 11, 12]]);
  assert.throws(
    () => packRows(x, 4),
    /training\.pack 4 does not divide a batch of 6 rows into whole packs/,
  );
  tf.dispose([x, two, three]);
});

Deno.test("a packing D scores each pack once: logits and the BCE loss by hand", () => {
  // a linear one-unit D on packs of 2 samples of 2-D data: logit = w·[x_a, x_b] + b
  const D = buildNetwork(new Rng(1), "D", 4, [{
    type: "dense",
    units: 1,
    activation: "linear",
  }], { kind: "fan-in-uniform" });
  const w = [0.5, -1, 0.25, 2], bias = 0.1;
  const [W, b] = networkParams(D).map((p) => p.variable);
  W.assign(tf.tensor2d(w, [4, 1]));
  b.assign(tf.tensor1d([bias]));
  const objectives = new Objectives(D, {
    input: { kind: "identity" },
    dLoss: "sum",
    objective: "non-saturating",
    flipGLoss: false,
    gradientPenalty: null,
    pack: 2,
  });
  const real = [[1, 0], [0, 1], [2, -1], [-1, 3]];
  const fake = [[0.5, 0.5], [-2, 1], [1, 1], [0, 0]];
  const logit = (rows: number[][], j: number) =>
    [...rows[2 * j], ...rows[2 * j + 1]].reduce((s, v, i) => s + v * w[i], bias);
  const r = [0, 1].map((j) => logit(real, j)), f = [0, 1].map((j) => logit(fake, j));
  const x = tf.tensor2d(real), g = tf.tensor2d(fake);
  const logits = objectives.discriminate(x, undefined);
  assert.deepEqual(logits.shape, [2, 1], "4 samples in packs of 2: 2 logits");
  Array.from(logits.dataSync()).forEach((v, j) => assert.ok(Math.abs(v - r[j]) < 1e-6));
  const loss = objectives.discriminator(x, g, undefined, undefined, 0);
  const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;
  const expected = mean(r.map((v) => softplus(-v))) + mean(f.map(softplus));
  assert.ok(Math.abs(loss.dataSync()[0] - expected) < 1e-5, `${loss.dataSync()[0]} vs ${expected}`);
  const gLoss = objectives.generator(g, undefined);
  assert.ok(Math.abs(gLoss.dataSync()[0] - mean(f.map((v) => softplus(-v)))) < 1e-5);
  tf.dispose([x, g, logits, loss, gLoss]);
  disposeNetwork(D);
});

Deno.test("WGAN-GP on packs: one ε and one gradient norm per pack, λ(‖w‖ − 1)² for a linear critic", () => {
  // the gradient of a linear critic at any packed x̂ is its weight vector w over all 2·m
  // inputs, so the penalty is λ(‖w‖ − 1)² whatever ε; per unpacked row it would use halves of w
  const D = buildNetwork(new Rng(1), "D", 4, [{
    type: "dense",
    units: 1,
    activation: "linear",
  }], { kind: "fan-in-uniform" });
  const w = [0.5, -1, 0.25, 2];
  const [W, b] = networkParams(D).map((p) => p.variable);
  W.assign(tf.tensor2d(w, [4, 1]));
  b.assign(tf.tensor1d([0]));
  const lambda = 10;
  const objectives = new Objectives(D, {
    input: { kind: "identity" },
    dLoss: "sum",
    objective: "wasserstein-gp",
    flipGLoss: false,
    gradientPenalty: { lambda, eps: new Rng(7).stream("train/gp-eps") },
    pack: 2,
  });
  const real = [[1, 0], [0, 1], [2, -1], [-1, 3]];
  const fake = [[0.5, 0.5], [-2, 1], [1, 1], [0, 0]];
  const logit = (rows: number[][], j: number) =>
    [...rows[2 * j], ...rows[2 * j + 1]].reduce((s, v, i) => s + v * w[i], 0);
  const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;
  const critic = mean([0, 1].map((j) => logit(fake, j))) - mean([0, 1].map((j) => logit(real, j)));
  const norm = Math.hypot(...w);
  const expected = critic + lambda * (norm - 1) ** 2;
  const x = tf.tensor2d(real), g = tf.tensor2d(fake);
  const loss = objectives.discriminator(x, g, undefined, undefined, 0);
  assert.ok(Math.abs(loss.dataSync()[0] - expected) < 1e-4, `${loss.dataSync()[0]} vs ${expected}`);
  tf.dispose([x, g, loss]);
  disposeNetwork(D);
});

Deno.test("the PacGAN grid configs: D's first layer takes m concatenated 2-D samples, G unchanged", () => {
  const base = modelShapes(loadConfig("grid-gan"));
  for (const m of [2, 3, 4]) {
    const resolved = loadConfig(`grid-pacgan${m}`);
    assert.equal(resolved.config.training.pack, m);
    const shapes = modelShapes(resolved);
    assert.equal(shapes.D.inputDim, 2 * m);
    assert.deepEqual(shapes.G, base.G);
  }
  assert.equal(base.D.inputDim, 2);
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

Deno.test("config errors name training.pack: not an integer ≥ 1, a batch not divisible, dropout", () => {
  assert.match(
    configError("ring-gan", (c) => (c.training.pack = 0)),
    /\$\.training\.pack: found 0/,
  );
  assert.match(
    configError("ring-gan", (c) => (c.training.pack = 1.5)),
    /\$\.training\.pack: found 1\.5/,
  );
  assert.match(
    configError("ring-gan", (c) => (c.training.pack = 3)), // batch 512
    /\$\.training\.pack.*batchSize must be divisible by pack/s,
  );
  assert.match(
    configError("mnist-mlp", (c) => (c.training.pack = 2)),
    /\$\.training\.pack.*not implemented with discriminator\.dropout/s,
  );
  assert.match(
    configError("gaussian-moments", (c) => (c.training.pack = 2)),
    /\$\.training\.pack.*this D's input is "moments".*packing needs "identity"/s,
  );
});

Deno.test("the fused step declines packing, naming training.pack", () => {
  const { config } = loadConfig("grid-pacgan2");
  const why = fusedStepUnsupported(
    config,
    null as never,
    null as never,
    null as never,
    null as never,
  );
  assert.equal(
    why,
    "it packs D's inputs (training.pack 2; the fused step scores one sample per D row)",
  );
});

Deno.test("pack 1 is today's run bit for bit; a tiny packed run repeats and differs", async () => {
  const overrides = [
    'training.budget={"iterations":8}',
    "training.batchSize=24",
    "training.logEvery=4",
    "metrics.samples=200",
  ];
  const run = (extra: string[]) =>
    runExperiment(loadConfig("grid-gan", { overrides: [...overrides, ...extra] }), {
      seed: 3,
      backend: "wasm",
    });
  const today = await run([]), one = await run(["training.pack=1"]);
  assert.deepEqual(one.fingerprints, today.fingerprints);
  assert.deepEqual(one.metrics, today.metrics);
  const a = await run(["training.pack=3"]), b = await run(["training.pack=3"]);
  assert.equal(a.status, "completed");
  assert.deepEqual(a.fingerprints, b.fingerprints);
  assert.notDeepEqual(a.fingerprints, today.fingerprints, "packing changes D, so the numbers");
  assert.ok(a.history.dLoss.every(Number.isFinite));
});
