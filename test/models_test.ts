/** The paper's architectures: parameter counts and every layer's output shape (protocol §2). */
import assert from "node:assert/strict";
import { selectBackend } from "../src/backend/select.ts";
import { tf } from "../src/backend/tf.ts";
import { loadConfig } from "../src/config/load.ts";
import {
  buildNetwork,
  disposeNetwork,
  forward,
  type Network,
  parameterCount,
} from "../src/models/network.ts";
import { Rng } from "../src/rng/streams.ts";
import { dropoutMaskPlan, dropoutMasksFrom } from "../src/train/dropout.ts";
import { pylearn2LearningRate, pylearn2Momentum } from "../src/models/optimizers.ts";
import { logitOfMeans } from "../src/data/real-data.ts";

await selectBackend("wasm");

function build(name: string, dataDim: number): { G: Network; D: Network } {
  const c = loadConfig(name).config;
  const rng = new Rng(1);
  return {
    G: buildNetwork(rng, "G", c.noise.dim, c.generator.layers, c.generator.init, {
      marginalBias: new Float32Array(dataDim).fill(0.1),
    }),
    D: buildNetwork(rng, "D", dataDim, c.discriminator.layers, c.discriminator.init),
  };
}
const shapes = (n: Network) => n.layers.map((l) => l.outShape.join("×"));
/** weights + biases of a dense layer */
const dense = (i: number, o: number) => i * o + o;

Deno.test("mnist-mlp: G 100→1200→1200→784, D maxout 240×5 twice then 1", () => {
  const { G, D } = build("mnist-mlp", 784);
  assert.deepEqual(shapes(G), ["1200", "1200", "784"]);
  assert.deepEqual(shapes(D), ["240", "240", "1"]);
  assert.equal(parameterCount(G), dense(100, 1200) + dense(1200, 1200) + dense(1200, 784));
  assert.equal(parameterCount(D), dense(784, 240 * 5) + dense(240, 240 * 5) + dense(240, 1));
  assert.equal(parameterCount(G), 2_503_984);
  disposeNetwork(G);
  disposeNetwork(D);
});

Deno.test("cifar10-conv: conv D 32×16×16 → 32×7×7 → 192×5×5, deconv 80×10×10 → 3×32×32", () => {
  const { G, D } = build("cifar10-conv", 3072);
  assert.deepEqual(shapes(G), ["8000", "8000", "10×10×80", "32×32×3"]);
  assert.deepEqual(shapes(D), ["32×32×3", "16×16×32", "7×7×32", "5×5×192", "500", "1"]);
  const conv = (k: number, cin: number, cout: number) => k * k * cin * cout + cout; // tied bias
  assert.equal(
    parameterCount(D),
    conv(8, 3, 64) + conv(8, 32, 64) + conv(5, 32, 384) + dense(5 * 5 * 192, 500 * 5) +
      dense(500, 1),
  );
  // the deconvolution's bias is untied: one per output pixel and channel
  assert.equal(
    parameterCount(G),
    dense(100, 8000) + dense(8000, 8000) + 5 * 5 * 3 * 80 + 32 * 32 * 3,
  );
  const out = tf.tidy(() => forward(G, tf.zeros([2, 100])));
  assert.deepEqual(out.shape, [2, 3072], "G's image output leaves as planar vectors");
  const logits = tf.tidy(() => forward(D, out, { logits: true }));
  assert.deepEqual(logits.shape, [2, 1]);
  tf.dispose([out, logits]);
  disposeNetwork(G);
  disposeNetwork(D);
});

Deno.test("cifar10-mlp and mnist-tutorial sizes", () => {
  const c = build("cifar10-mlp", 3072);
  assert.deepEqual(shapes(c.G), ["8000", "8000", "3072"]);
  assert.equal(parameterCount(c.D), dense(3072, 8000) + dense(1600, 8000) + dense(1600, 1));
  disposeNetwork(c.G);
  disposeNetwork(c.D);
  const t = build("mnist-tutorial", 784);
  assert.equal(
    parameterCount(t.G),
    dense(100, 256) + dense(256, 512) + dense(512, 1024) + dense(1024, 784),
  );
  assert.equal(
    parameterCount(t.D),
    dense(784, 1024) + dense(1024, 512) + dense(512, 256) + dense(256, 1),
  );
  disposeNetwork(t.G);
  disposeNetwork(t.D);
});

Deno.test("initialisation: U(±irange) weights, marginal-logit output bias, per-layer override", () => {
  const { G } = build("cifar10-mlp", 3072);
  const w0 = G.layers[0].params[0].variable.dataSync();
  assert.ok(w0.every((v) => Math.abs(v) <= 0.05));
  assert.ok(Math.max(...w0.subarray(0, 10000).map(Math.abs)) > 0.049, "fills the range");
  const w2 = G.layers[2].params[0].variable.dataSync();
  assert.ok(
    w2.every((v) => Math.abs(v) <= 0.5) && Math.max(...w2.subarray(0, 10000).map(Math.abs)) > 0.49,
  );
  assert.ok(G.layers[0].params[1].variable.dataSync().every((b) => b === 0));
  disposeNetwork(G);
  const m = build("mnist-mlp", 784);
  assert.ok(m.G.layers[2].params[1].variable.dataSync().every((b) => b === Math.fround(0.1)));
  disposeNetwork(m.G);
  disposeNetwork(m.D);
  const logits = logitOfMeans(new Float32Array([0.5, 0, 1, 0.25]));
  assert.equal(logits[0], 0);
  assert.ok(Math.abs(logits[1] - Math.log(1e-7 / (1 - 1e-7))) < 1e-4, "clipped at 1e-7");
  assert.ok(Math.abs(logits[3] - Math.log(1 / 3)) < 1e-6);
});

Deno.test("orthogonal init: gain × orthonormal columns (tall) or rows (wide), zero bias, seeded", () => {
  const gain = 1.4;
  const net = (seed: number) =>
    buildNetwork(new Rng(seed), "G", 256, [
      { type: "dense", units: 128, activation: "tanh" }, // tall: 256 × 128
      { type: "dense", units: 300, activation: "linear" }, // wide: 128 × 300
    ], { kind: "orthogonal", gain });
  const G = net(1);
  // the largest entry of (Gram matrix of W's columns or rows, in float64) − gain² I
  const gram = (W: Float32Array, rows: number, cols: number, ofColumns: boolean) => {
    const n = ofColumns ? cols : rows, len = ofColumns ? rows : cols;
    const at = (i: number, k: number) => ofColumns ? W[k * cols + i] : W[i * cols + k];
    let worst = 0;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j <= i; j++) {
        let dot = 0;
        for (let k = 0; k < len; k++) dot += at(i, k) * at(j, k);
        worst = Math.max(worst, Math.abs(dot - (i === j ? gain * gain : 0)));
      }
    }
    return worst;
  };
  const [W0, b0] = G.layers[0].params.map((p) => p.variable.dataSync() as Float32Array);
  const [W1, b1] = G.layers[1].params.map((p) => p.variable.dataSync() as Float32Array);
  assert.ok(gram(W0, 256, 128, true) < 1e-4, `tall: WᵀW − gain²I ${gram(W0, 256, 128, true)}`);
  assert.ok(gram(W1, 128, 300, false) < 1e-4, `wide: WWᵀ − gain²I ${gram(W1, 128, 300, false)}`);
  // a wide W's columns are not orthonormal (300 of them in 128 dimensions cannot be)
  assert.ok(gram(W1, 128, 300, true) > 0.1);
  assert.ok(b0.every((b) => b === 0) && b1.every((b) => b === 0));
  // W/gain is the Q of A = QR for the layer's Gaussian draw A, with R's diagonal positive (the
  // sign convention that makes Q uniformly distributed): QᵀA is upper triangular, diagonal > 0
  const A = new Rng(1).stream("G/h0/init").at(0).normal(256 * 128, 0, 1);
  let below = 0, smallestDiagonal = Infinity;
  for (let i = 0; i < 128; i++) {
    for (let j = 0; j <= i; j++) {
      let r = 0; // (QᵀA)[i, j]
      for (let k = 0; k < 256; k++) r += (W0[k * 128 + i] / gain) * A[k * 128 + j];
      if (j < i) below = Math.max(below, Math.abs(r));
      else smallestDiagonal = Math.min(smallestDiagonal, r);
    }
  }
  assert.ok(below < 1e-3, `QᵀA below its diagonal: ${below}`);
  assert.ok(smallestDiagonal > 0, `R's smallest diagonal entry: ${smallestDiagonal}`);
  assert.deepEqual(net(1).layers[0].params[0].variable.dataSync(), W0, "seeded");
  assert.notDeepEqual(net(2).layers[0].params[0].variable.dataSync(), W0);
  disposeNetwork(G);
});

Deno.test("dropout masks: 0 or 1/keep, the configured keep rates, fresh per step and batch", () => {
  const { D } = build("mnist-mlp", 784);
  const spec = loadConfig("mnist-mlp").config.discriminator.dropout!;
  const rng = new Rng(3);
  const plan = dropoutMaskPlan(D, spec);
  const masks = dropoutMasksFrom(rng, plan, "D/dropout/real", 7, 100);
  assert.deepEqual(masks.map((m) => m?.length), [100 * 784, 100 * 240, 100 * 240]);
  const rate = (m: Float32Array) => m.reduce((n, v) => n + (v > 0 ? 1 : 0), 0) / m.length;
  assert.ok(
    Math.abs(rate(masks[0]!) - 0.8) < 0.01 && masks[0]!.every((v) => v === 0 || v === 1.25),
  );
  assert.ok(Math.abs(rate(masks[1]!) - 0.5) < 0.02 && masks[2]!.every((v) => v === 0 || v === 2));
  assert.deepEqual(dropoutMasksFrom(rng, plan, "D/dropout/real", 7, 100), masks, "seeded");
  assert.notDeepEqual(
    dropoutMasksFrom(rng, plan, "D/dropout/real", 8, 100)[0],
    masks[0],
    "fresh each step",
  );
  assert.notDeepEqual(
    dropoutMasksFrom(rng, plan, "D/dropout/fake", 7, 100)[0],
    masks[0],
    "real ≠ fake",
  );
  disposeNetwork(D);
});

Deno.test("pylearn2 schedules: lr0 / 1.000004^t floored at 1e-6; momentum 0.5 → 0.7 over epochs 1–250", () => {
  const config = loadConfig("mnist-mlp").config.training.optimizers.generator;
  if (config.kind !== "momentum") throw new Error("mnist-mlp uses pylearn2 momentum");
  assert.equal(pylearn2LearningRate(config, 0), 0.1);
  // after 100 epochs of 500 minibatches (docs/paper-protocol.md §1: ≈ 0.0819)
  assert.ok(
    Math.abs(pylearn2LearningRate(config, 50_000) - 0.1 * Math.exp(-50_000 * Math.log(1.000004))) <
      1e-12,
  );
  assert.equal(Number(pylearn2LearningRate(config, 50_000).toFixed(4)), 0.0819);
  assert.equal(pylearn2LearningRate(config, 10_000_000), 1e-6);
  assert.equal(pylearn2Momentum(config, 0), 0.5);
  assert.ok(Math.abs(pylearn2Momentum(config, 1) - (0.5 + 0.2 / 249)) < 1e-15);
  assert.ok(Math.abs(pylearn2Momentum(config, 249) - 0.7) < 1e-15);
  assert.ok(Math.abs(pylearn2Momentum(config, 900) - 0.7) < 1e-15);
});

Deno.test("forward frees each layer's intermediates and the layer before's output as it goes", () => {
  const layers = Array.from({ length: 6 }, () => ({
    type: "dense" as const,
    units: 64,
    activation: "relu" as const,
  }));
  const net = buildNetwork(new Rng(2), "N", 32, layers, { kind: "uniform", irange: 0.3 });
  const x = tf.randomUniform([16, 32]);
  const want = tf.tidy(() => {
    // the same layers by hand, everything kept
    let h: tf.Tensor = x;
    for (const layer of net.layers) {
      h = tf.relu(tf.add(tf.matMul(h, layer.params[0].variable), layer.params[1].variable));
    }
    return h;
  });
  // the most data buffers alive at once, after every kernel
  const engine = tf.engine() as unknown as { runKernel: (...a: unknown[]) => unknown };
  const runKernel = engine.runKernel;
  const base = tf.memory().numDataBuffers;
  let most = 0;
  engine.runKernel = (...a: unknown[]) => {
    const out = runKernel.apply(engine, a);
    most = Math.max(most, tf.memory().numDataBuffers - base);
    return out;
  };
  let y: tf.Tensor;
  try {
    y = forward(net, x);
  } finally {
    engine.runKernel = runKernel;
  }
  // a layer's product, sum and ReLU beside the layer before's output: not all 18 at once
  assert.ok(most <= 4, `${most} buffers at once`);
  assert.equal(tf.memory().numDataBuffers - base, 1, "the output alone is left");
  assert.deepEqual(y.dataSync(), want.dataSync());
  tf.dispose([x, y, want]);
  disposeNetwork(net);
});
