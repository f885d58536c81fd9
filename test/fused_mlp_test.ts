/**
 * The fused MLP step (src/train/fused-mlp.ts) against TF.js autodiff: the same updates and
 * scalars to within float32 rounding, on small networks that exercise every layer type,
 * activation, update rule, loss variant and a short batch; and at the run level, which
 * configs take it, determinism, the recorded step and the bench flag (resuming across steps:
 * test/blas_test.ts).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { openBlas, openBlasUnavailableReason } from "../src/backend/openblas.ts";
import { selectBackend } from "../src/backend/select.ts";
import { tf } from "../src/backend/tf.ts";
import { loadConfig } from "../src/config/load.ts";
import type { LayerConfig, OptimizerConfig } from "../src/config/schema.ts";
import {
  applyMaxColNorm,
  buildNetwork,
  type Network,
  networkParams,
} from "../src/models/network.ts";
import { Rng } from "../src/rng/streams.ts";
import { dropoutMaskPlan, dropoutMasksFrom, type DropoutSpec } from "../src/train/dropout.ts";
import { type FusedInputs, FusedMlpStep, type FusedStepOptions } from "../src/train/fused-mlp.ts";
import { Objectives } from "../src/train/objectives.ts";
import { type Players, simultaneousUpdate } from "../src/train/steps/autodiff.ts";
import { createOptimizer, type Optimizer } from "../src/models/optimizers.ts";
import { runExperiment } from "../src/train/run.ts";
import { MNIST_SHORT, runBench, runDirOf } from "./helpers.ts";

const blas = openBlas();
const ignore = blas === null;
if (ignore) console.warn(`fused-step tests skipped: ${openBlasUnavailableReason()}`);

interface Case {
  name: string;
  g: LayerConfig[];
  d: LayerConfig[];
  dropout: DropoutSpec | null;
  gOpt: OptimizerConfig;
  dOpt: OptimizerConfig;
  step: Omit<FusedStepOptions, "batchSize">;
}

const momentum = (lr: number): OptimizerConfig => ({
  kind: "momentum",
  lr,
  decay: 1.000004,
  minLr: 1e-6,
  momentum: { initial: 0.5, final: 0.7, start: 1, saturate: 3 },
});

const CASES: Case[] = [
  {
    name: "the paper's MNIST model (ReLU/sigmoid G, maxout D, dropout, pylearn2 momentum) " +
      "with TFD's max column norms",
    g: [
      { type: "dense", units: 10, activation: "relu" },
      { type: "dense", units: 9, activation: "relu" },
      { type: "dense", units: 12, activation: "sigmoid" },
    ],
    d: [
      { type: "maxout", units: 4, pieces: 3 },
      { type: "maxout", units: 5, pieces: 2 },
      { type: "dense", units: 1, activation: "sigmoid" },
    ],
    dropout: { input: { keep: 0.8, scale: 1.25 }, hidden: { keep: 0.5, scale: 2 } },
    gOpt: momentum(0.1),
    dOpt: momentum(0.2),
    // columns start near norm 1 (U(±0.5), 6–12 inputs): these limits bind on most of them
    step: {
      dLoss: "mean",
      objective: "non-saturating",
      maxColNorm: { generator: 0.9, discriminator: 0.8 },
    },
  },
  {
    name: "tanh, leaky-ReLU and linear layers, torch SGD with and without momentum, " +
      "summed D loss, minimax G loss, flipped (the canary)",
    g: [
      { type: "dense", units: 7, activation: "tanh" },
      { type: "dense", units: 8, activation: "leaky-relu", alpha: 0.2 },
      { type: "dense", units: 12, activation: "linear" },
    ],
    d: [
      { type: "dense", units: 6, activation: "leaky-relu" },
      { type: "dense", units: 1, activation: "sigmoid" },
    ],
    dropout: { input: null, hidden: { keep: 0.5, scale: 2 } },
    gOpt: { kind: "sgd", lr: 0.05, momentum: 0 },
    dOpt: { kind: "sgd", lr: 0.1, momentum: 0.9 },
    step: { dLoss: "sum", objective: "minimax", flipGLoss: true },
  },
];

const BATCH = 5, NOISE = 6, DATA = 12;

function build(c: Case) {
  // the same seed builds the same initial networks: one pair per path
  const rng = new Rng(11);
  const init = { kind: "uniform", irange: 0.5 } as const;
  const G = buildNetwork(rng, "G", NOISE, c.g, init);
  const D = buildNetwork(rng, "D", DATA, c.d, init);
  const gp = networkParams(G), dp = networkParams(D);
  const gOpt = createOptimizer(c.gOpt, gp.map((p) => p.variable), gp.map((p) => p.name));
  const dOpt = createOptimizer(c.dOpt, dp.map((p) => p.variable), dp.map((p) => p.name));
  return { G, D, gOpt, dOpt };
}

/** Step t's inputs, drawn as a run draws them (`rows` may be short of the batch). */
function inputs(c: Case, D: Network, t: number, rows: number): FusedInputs {
  const rng = new Rng(5);
  const plan = c.dropout ? dropoutMaskPlan(D, c.dropout) : null;
  const masks = (stream: string) => plan ? dropoutMasksFrom(rng, plan, stream, t, rows) : null;
  return {
    rows,
    real: rng.stream("real").at(t).uniform(rows * DATA),
    z: rng.stream("z").at(t).uniform(rows * NOISE, -1, 1),
    realMasks: masks("real"),
    fakeMasks: masks("fake"),
    epoch: t,
  };
}

/** The autodiff update a run trains with (src/train/steps/autodiff.ts), on the same inputs. */
function autodiffStep(
  c: Case,
  net: { G: Network; D: Network; gOpt: Optimizer; dOpt: Optimizer },
  x: FusedInputs,
): Record<string, number> {
  const { G, D } = net;
  const r = x.rows;
  const masks = (m: FusedInputs["realMasks"]) =>
    m?.map((v, i) => v && tf.tensor(v, [r, ...D.layers[i].inShape]));
  const objectives = new Objectives(D, {
    input: { kind: "identity" },
    dLoss: c.step.dLoss,
    objective: c.step.objective,
    flipGLoss: c.step.flipGLoss ?? false,
    gradientPenalty: null,
  });
  const limits = c.step.maxColNorm;
  const players: Players = {
    ...net,
    gVars: networkParams(G).map((p) => p.variable),
    dVars: networkParams(D).map((p) => p.variable),
    beforeDStep() {},
    afterUpdate() {
      if (limits?.generator) applyMaxColNorm(G, limits.generator);
      if (limits?.discriminator) applyMaxColNorm(D, limits.discriminator);
    },
  };
  const scalars = tf.tidy(() =>
    simultaneousUpdate(players, objectives, {
      x: tf.tensor2d(x.real, [r, DATA]),
      z: tf.tensor2d(x.z, [r, NOISE]),
      realMasks: masks(x.realMasks),
      fakeMasks: masks(x.fakeMasks),
      epoch: x.epoch,
      step: 0, // counts only the gradient penalty's draws, which these objectives have none of
    }, true)
  );
  const values = Object.fromEntries(
    Object.entries(scalars).map(([k, t]) => [k, t.dataSync()[0]]),
  );
  tf.dispose(Object.values(scalars));
  assert.deepEqual(Object.keys(values).sort(), [
    "dAccuracy",
    "dFake",
    "dGradNorm",
    "dLoss",
    "dReal",
    "fakeMean",
    "fakeStd",
    "gGradNorm",
    "gLoss",
  ]);
  return values;
}

const state = (n: { G: Network; D: Network; gOpt: Optimizer; dOpt: Optimizer }) =>
  [
    ...[...networkParams(n.G), ...networkParams(n.D)].map((p) => [p.name, p.variable] as const),
    ...n.gOpt.slots(),
    ...n.dOpt.slots(),
  ].map(([name, v]) => ({ name, values: v.dataSync() as Float32Array }));

for (const c of CASES) {
  Deno.test({
    name: `fused step = autodiff within rounding: ${c.name}`,
    ignore,
    async fn() {
      await selectBackend("wasm+openblas");
      const fused = build(c), reference = build(c);
      const step = new FusedMlpStep(blas!, fused.G, fused.D, fused.gOpt, fused.dOpt, {
        batchSize: BATCH,
        ...c.step,
      });
      const before = state(reference);
      // three full batches, then an epoch's short last batch
      for (const [t, rows] of [[0, BATCH], [1, BATCH], [2, BATCH], [3, 3]]) {
        const got = step.step(inputs(c, fused.D, t, rows), true)!;
        const want = autodiffStep(c, reference, inputs(c, reference.D, t, rows));
        for (const [key, value] of Object.entries(want)) {
          const tolerance = 1e-5 * Math.max(1, Math.abs(value));
          assert.ok(
            Math.abs(got[key as keyof typeof got] - value) <= tolerance,
            `step ${t} ${key}: fused ${got[key as keyof typeof got]}, autodiff ${value}`,
          );
        }
      }
      assert.equal(fused.gOpt.steps, 4);
      assert.equal(fused.dOpt.steps, 4);
      // every parameter and velocity: the change over 4 steps agrees to 1e-4 of its size
      const after = state(reference), got = state(fused);
      after.forEach((want, k) => {
        assert.equal(got[k].name, want.name);
        let largest = 0, worst = 0;
        want.values.forEach((v, i) => {
          largest = Math.max(largest, Math.abs(v - before[k].values[i]));
          worst = Math.max(worst, Math.abs(got[k].values[i] - v));
        });
        assert.ok(largest > 0, `${want.name} never changed: the case tests nothing there`);
        assert.ok(worst <= 1e-4 * largest + 1e-7, `${want.name}: off by ${worst} of ${largest}`);
      });
      for (const n of [fused, reference]) {
        tf.dispose([...networkParams(n.G), ...networkParams(n.D)].map((p) => p.variable));
        n.gOpt.dispose();
        n.dOpt.dispose();
      }
    },
  });
}

Deno.test({
  name: "the fused step allocates no tensor: the count is flat over steps",
  ignore,
  async fn() {
    await selectBackend("wasm+openblas");
    const c = CASES[0];
    const net = build(c);
    const step = new FusedMlpStep(blas!, net.G, net.D, net.gOpt, net.dOpt, {
      batchSize: BATCH,
      ...c.step,
    });
    step.step(inputs(c, net.D, 0, BATCH), true);
    const { numTensors, numBytes } = tf.memory();
    for (let t = 1; t < 50; t++) step.step(inputs(c, net.D, t, BATCH), t % 7 === 0);
    assert.equal(tf.memory().numTensors, numTensors);
    assert.equal(tf.memory().numBytes, numBytes);
    tf.dispose([...networkParams(net.G), ...networkParams(net.D)].map((p) => p.variable));
    net.gOpt.dispose();
    net.dOpt.dispose();
  },
});

Deno.test({
  name: "runs: MLP configs take the fused step on wasm+openblas, bit for bit repeatable; " +
    "others say why not",
  ignore,
  async fn() {
    const config = loadConfig("mnist-mlp", { profile: "smoke", overrides: MNIST_SHORT });
    const a = await runExperiment(config, { seed: 4, backend: "wasm+openblas" });
    const b = await runExperiment(config, { seed: 4, backend: "wasm+openblas" });
    assert.equal(a.trainStep, "fused");
    assert.deepEqual(b.fingerprints, a.fingerprints);
    const autodiff = await runExperiment(config, {
      seed: 4,
      backend: "wasm+openblas",
      trainStep: "autodiff",
    });
    assert.equal(autodiff.trainStep, "autodiff");
    assert.notDeepEqual(autodiff.fingerprints, a.fingerprints);
    // the same training to rounding: every recorded scalar agrees to 1e-5
    for (const key of ["dLoss", "gLoss", "dReal", "dFake", "fakeMean", "fakeStd"] as const) {
      a.history[key].forEach((v, i) =>
        assert.ok(Math.abs(v - autodiff.history[key][i]) <= 1e-4 * Math.abs(v), `${key} ${i}`)
      );
    }
    const onWasm = await runExperiment(config, { seed: 4, backend: "wasm" });
    assert.equal(onWasm.trainStep, "autodiff");
    const gaussian = loadConfig("gaussian-moments", {
      profile: "smoke",
      overrides: ['training.budget={"iterations":2}'],
    });
    await assert.rejects(
      runExperiment(gaussian, { seed: 1, backend: "wasm+openblas", trainStep: "fused" }),
      /the fused step cannot train gaussian-moments: it takes alternating updates/,
    );
    await assert.rejects(
      runExperiment(config, { seed: 1, backend: "wasm", trainStep: "fused" }),
      /cannot train mnist-mlp: it runs on wasm\+openblas only \(this run: wasm\)/,
    );
  },
});

Deno.test({
  name: "bench --train-step reaches the run (and its workers) and is validated",
  ignore,
  async fn() {
    const out = Deno.makeTempDirSync();
    const args = [
      "mnist-mlp",
      "--profile",
      "smoke",
      "--out",
      out,
      ...MNIST_SHORT.flatMap((s) => ["--set", s]),
    ];
    // two seeds: each runs in a worker process
    const r = await runBench([
      ...args,
      "--train-step",
      "autodiff",
      "--seeds",
      "1,2",
      "--jobs",
      "2",
    ]);
    assert.equal(r.code, 0, r.stderr);
    for (const seed of [1, 2]) {
      const path = join(runDirOf(out, "mnist-mlp", MNIST_SHORT, seed, "smoke"), "result.json");
      assert.equal(JSON.parse(Deno.readTextFileSync(path)).trainStep, "autodiff");
    }
    const bad = await runBench([...args, "--train-step", "fast"]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--train-step: found "fast"; expected one of auto, fused, autodiff/);
  },
});
