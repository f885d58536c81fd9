/**
 * The fused MLP step (src/train/steps/fused.ts) against the autodiff simultaneous step a run
 * trains with (src/train/steps/simultaneous.ts), both driven through the TrainStep interface
 * from the same draws: the same updates and scalars to within float32 rounding, on small
 * networks that exercise every layer type, activation, update rule, loss variant and a short
 * batch; and at the run level, which configs take it, determinism, the recorded step and the
 * bench flag (resuming across steps: test/blas_test.ts).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { openBlas, openBlasUnavailableReason } from "../src/backend/openblas.ts";
import { selectBackend } from "../src/backend/select.ts";
import { errorLine, EXIT, exitCodeOf } from "../src/cli/exit.ts";
import { tf } from "../src/backend/tf.ts";
import { loadConfig, type ResolvedConfig } from "../src/config/load.ts";
import type { LayerConfig, OptimizerConfig } from "../src/config/schema.ts";
import type { RealData } from "../src/data/real-data.ts";
import { buildNetwork, type Network, networkParams } from "../src/models/network.ts";
import { createOptimizer, type Optimizer } from "../src/models/optimizers.ts";
import { Rng } from "../src/rng/streams.ts";
import type { DropoutSpec } from "../src/train/dropout.ts";
import { faultTransforms } from "../src/train/faults.ts";
import { StepInputs } from "../src/train/inputs.ts";
import { objectivesOf } from "../src/train/objectives.ts";
import { AutodiffAlternatingStep } from "../src/train/steps/alternating.ts";
import { FusedAlternatingStep } from "../src/train/steps/fused-alternating.ts";
import { FusedSimultaneousStep } from "../src/train/steps/fused.ts";
import type { FusedStepOptions } from "../src/train/steps/fused-mlp.ts";
import { AutodiffSimultaneousStep } from "../src/train/steps/simultaneous.ts";
import { playersOf, type TrainStep } from "../src/train/steps/step.ts";
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
  /** Algorithm 1's alternating update with k D steps per G step (default: simultaneous). */
  alternating?: { dSteps: number };
}

const adam = (lr: number): OptimizerConfig => ({
  kind: "adam",
  lr,
  beta1: 0.5,
  beta2: 0.999,
  epsilon: 1e-8,
});

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
  {
    name: "mnist-tutorial's model: alternating updates (k = 1), Adam, leaky-ReLU(0.2), tanh " +
      "output, hidden dropout, summed D loss",
    g: [
      { type: "dense", units: 9, activation: "leaky-relu", alpha: 0.2 },
      { type: "dense", units: 12, activation: "tanh" },
    ],
    d: [
      { type: "dense", units: 8, activation: "leaky-relu", alpha: 0.2 },
      { type: "dense", units: 6, activation: "leaky-relu", alpha: 0.2 },
      { type: "dense", units: 1, activation: "sigmoid" },
    ],
    dropout: { input: null, hidden: { keep: 0.5, scale: 2 } },
    gOpt: adam(0.01),
    dOpt: adam(0.02),
    step: { dLoss: "sum", objective: "non-saturating" },
    alternating: { dSteps: 1 },
  },
  {
    name: "alternating updates with k = 2 D steps, momentum D, Adam G, mean D loss, minimax",
    g: [
      { type: "dense", units: 9, activation: "relu" },
      { type: "dense", units: 12, activation: "sigmoid" },
    ],
    d: [
      { type: "maxout", units: 4, pieces: 3 },
      { type: "dense", units: 1, activation: "sigmoid" },
    ],
    dropout: { input: { keep: 0.8, scale: 1.25 }, hidden: { keep: 0.5, scale: 2 } },
    gOpt: adam(0.01),
    dOpt: momentum(0.2),
    step: { dLoss: "mean", objective: "minimax" },
    alternating: { dSteps: 2 },
  },
];

const BATCH = 5, NOISE = 6, DATA = 12;
/** Rows of batches 0–3: three full batches, then an epoch's short last batch. */
const ROWS = [BATCH, BATCH, BATCH, 3];

/** A run's config with the case's networks, optimisers, losses and limits. */
function configOf(c: Case): ResolvedConfig["config"] {
  const base = loadConfig("mnist-mlp", { profile: "smoke" }).config;
  return {
    ...base,
    noise: { kind: "uniform", dim: NOISE, low: -1, high: 1 },
    generator: { ...base.generator, layers: c.g, maxColNorm: c.step.maxColNorm?.generator },
    discriminator: {
      ...base.discriminator,
      layers: c.d,
      dropout: c.dropout ?? undefined,
      maxColNorm: c.step.maxColNorm?.discriminator,
    },
    training: {
      ...base.training,
      update: c.alternating ? "alternating" : "simultaneous",
      dSteps: c.alternating?.dSteps ?? 1,
      gSteps: 1,
      batchSize: BATCH,
      dLoss: c.step.dLoss,
      objective: c.step.objective,
      optimizers: { generator: c.gOpt, discriminator: c.dOpt },
    },
  };
}

/** Real batches of DATA values in [0, 1), ROWS[t] rows, batch t in epoch t (momentum ramps). */
function realData(rng: Rng): RealData {
  const none = () => {
    throw new Error("not used by a training step");
  };
  return {
    dim: DATA,
    imageShape: null,
    batchesPerEpoch: null,
    batch: (t) => ({
      values: rng.stream("real").at(t).uniform(ROWS[t] * DATA),
      rows: ROWS[t],
      epoch: t,
      indices: null,
    }),
    rowsAt: (t) => ROWS[t],
    pixelMeans: none,
    trainImages: none,
    trainRowsInto: none,
    heldOut: null,
    toUnit: null,
    provenance: null,
    dataset: null,
  };
}

interface Built {
  G: Network;
  D: Network;
  gOpt: Optimizer;
  dOpt: Optimizer;
  step: TrainStep;
}

/** The case's networks (the same seed: the same initial weights) and a step of `kind` on them. */
function build(c: Case, kind: "fused" | "autodiff"): Built {
  const rng = new Rng(11);
  const init = { kind: "uniform", irange: 0.5 } as const;
  const G = buildNetwork(rng, "G", NOISE, c.g, init);
  const D = buildNetwork(rng, "D", DATA, c.d, init);
  const gp = networkParams(G), dp = networkParams(D);
  const gOpt = createOptimizer(c.gOpt, gp.map((p) => p.variable), gp.map((p) => p.name));
  const dOpt = createOptimizer(c.dOpt, dp.map((p) => p.variable), dp.map((p) => p.name));
  const config = configOf(c);
  // the draws: one seed for both steps, as a run's
  const draws = new Rng(5);
  const flipGLoss = c.step.flipGLoss ?? false;
  const real = realData(draws);
  const parts = {
    config,
    real,
    inputs: new StepInputs(config, draws, real, G, D, faultTransforms(null)),
    players: playersOf(config, G, D, gOpt, dOpt),
    objectives: objectivesOf(config, D, draws, flipGLoss),
    flipGLoss,
  };
  const step = c.alternating
    ? (kind === "fused"
      ? new FusedAlternatingStep(parts, blas!)
      : new AutodiffAlternatingStep(parts))
    : (kind === "fused"
      ? new FusedSimultaneousStep(parts, blas!)
      : new AutodiffSimultaneousStep(parts));
  return { G, D, gOpt, dOpt, step };
}

/** Iteration t's recorded scalars, read back. */
async function runStep(step: TrainStep, t: number): Promise<Record<string, number>> {
  const scalars = await step.run(t, true);
  const values = Object.fromEntries(
    Object.entries(scalars).map(([k, v]) => [k, v.dataSync()[0]]),
  );
  tf.dispose(Object.values(scalars));
  return values;
}

function dispose(n: Built) {
  n.step.close();
  tf.dispose([...networkParams(n.G), ...networkParams(n.D)].map((p) => p.variable));
  n.gOpt.dispose();
  n.dOpt.dispose();
}

const state = (n: { G: Network; D: Network; gOpt: Optimizer; dOpt: Optimizer }) =>
  [
    ...[...networkParams(n.G), ...networkParams(n.D)].map((p) => [p.name, p.variable] as const),
    ...n.gOpt.slots(),
    ...n.dOpt.slots(),
  ].map(([name, v]) => ({ name, values: v.dataSync() as Float32Array }));

const SCALARS = [
  "dAccuracy",
  "dFake",
  "dGradNorm",
  "dLoss",
  "dReal",
  "fakeMean",
  "fakeStd",
  "gGradNorm",
  "gLoss",
];

for (const c of CASES) {
  Deno.test({
    name: `fused step = autodiff step within rounding: ${c.name}`,
    ignore,
    async fn() {
      await selectBackend("wasm+openblas");
      const fused = build(c, "fused"), reference = build(c, "autodiff");
      assert.equal(fused.step.name, "fused");
      assert.equal(reference.step.name, "autodiff");
      const before = state(reference);
      const iterations = ROWS.length / (c.alternating?.dSteps ?? 1);
      for (let t = 0; t < iterations; t++) {
        const got = await runStep(fused.step, t);
        const want = await runStep(reference.step, t);
        assert.deepEqual(Object.keys(got).sort(), SCALARS);
        assert.deepEqual(Object.keys(want).sort(), SCALARS);
        for (const [key, value] of Object.entries(want)) {
          const tolerance = 1e-5 * Math.max(1, Math.abs(value));
          assert.ok(
            Math.abs(got[key] - value) <= tolerance,
            `step ${t} ${key}: fused ${got[key]}, autodiff ${value}`,
          );
        }
      }
      assert.equal(fused.gOpt.steps, iterations);
      assert.equal(fused.dOpt.steps, ROWS.length);
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
      dispose(fused);
      dispose(reference);
    },
  });
}

for (const c of [CASES[0], CASES[2]]) {
  Deno.test({
    name: "the fused step allocates no tensor beyond its recorded scalars: the count is flat " +
      `(${c.alternating ? "alternating" : "simultaneous"})`,
    ignore,
    async fn() {
      await selectBackend("wasm+openblas");
      const net = build(c, "fused");
      await runStep(net.step, 0);
      const { numTensors, numBytes } = tf.memory();
      for (let t = 1; t < 50; t++) {
        const scalars = await net.step.run(t % ROWS.length, t % 7 === 0);
        assert.equal(Object.keys(scalars).length, t % 7 === 0 ? SCALARS.length : 0);
        tf.dispose(Object.values(scalars));
      }
      assert.equal(tf.memory().numTensors, numTensors);
      assert.equal(tf.memory().numBytes, numBytes);
      dispose(net);
    },
  });
}

Deno.test({
  name: "runs: MLP configs (simultaneous or alternating) take the fused step on wasm+openblas, " +
    "bit for bit repeatable; others say why not",
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
    // Algorithm 1's alternating update (mnist-tutorial: Adam, leaky ReLU, tanh, dropout)
    const tutorial = loadConfig("mnist-tutorial", { profile: "smoke", overrides: MNIST_SHORT });
    const alternating = await runExperiment(tutorial, { seed: 4, backend: "wasm+openblas" });
    assert.equal(alternating.trainStep, "fused");
    const alternatingAutodiff = await runExperiment(tutorial, {
      seed: 4,
      backend: "wasm+openblas",
      trainStep: "autodiff",
    });
    for (const key of ["dLoss", "gLoss", "dReal", "dFake", "fakeMean", "fakeStd"] as const) {
      alternating.history[key].forEach((v, i) =>
        assert.ok(
          Math.abs(v - alternatingAutodiff.history[key][i]) <= 1e-4 * Math.abs(v),
          `mnist-tutorial ${key} ${i}: fused ${v}, autodiff ${alternatingAutodiff.history[key][i]}`,
        )
      );
    }
    const onWasm = await runExperiment(config, { seed: 4, backend: "wasm" });
    assert.equal(onWasm.trainStep, "autodiff");
    const gaussian = loadConfig("gaussian-moments", {
      profile: "smoke",
      overrides: ['training.budget={"iterations":2}'],
    });
    const refused = await runExperiment(gaussian, {
      seed: 1,
      backend: "wasm+openblas",
      trainStep: "fused",
    }).then(() => null, (e) => e);
    assert.match(
      refused.message,
      /^the fused step cannot train gaussian-moments: its discriminator input is "moments"$/,
    );
    // a choice the user can change: exit 2 and one line, not an internal error
    assert.equal(exitCodeOf(refused), EXIT.usage);
    assert.equal(errorLine(refused), refused.message);
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
