/**
 * Batch normalisation (src/models/batch-norm.ts, a dense layer's `batchNorm`): closed-form
 * values in training and inference mode and the moving averages on a hand-computed batch,
 * the parameter count, the config errors, the fused step's refusal, and a resumed run equal
 * to an uninterrupted one (the averages are checkpointed). The gradient check is in
 * test/gradcheck_test.ts.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { selectBackend } from "../src/backend/select.ts";
import { tf } from "../src/backend/tf.ts";
import { ConfigError } from "../src/config/errors.ts";
import { CONFIG_DIR, loadConfig, resolveConfig } from "../src/config/load.ts";
import type { LayerConfig } from "../src/config/schema.ts";
import {
  buildNetwork,
  disposeNetwork,
  forward,
  type Network,
  networkState,
  parameterCount,
} from "../src/models/network.ts";
import { modelShapes } from "../src/models/shapes.ts";
import { type Checkpoint, decodeCheckpoint, encodeCheckpoint } from "../src/record/checkpoint.ts";
import { Rng } from "../src/rng/streams.ts";
import { runExperiment } from "../src/train/run.ts";
import { fusedStepUnsupported } from "../src/train/steps/fused-mlp.ts";

await selectBackend("wasm");

const EPS = 0.01, RATE = 0.1;

/** One batch-normalised linear layer of 2 units on 2 inputs, W = I, γ = (2, 3), β = (0.5, −1). */
function tinyLayer(): Network {
  const layer: LayerConfig = {
    type: "dense",
    units: 2,
    activation: "linear",
    batchNorm: { epsilon: EPS, rate: RATE },
  };
  const net = buildNetwork(new Rng(1), "G", 2, [layer], { kind: "normal", std: 1 });
  const [W, gamma, beta] = net.layers[0].params.map((p) => p.variable);
  tf.tidy(() => {
    W.assign(tf.tensor2d([[1, 0], [0, 1]]));
    gamma.assign(tf.tensor1d([2, 3]));
    beta.assign(tf.tensor1d([0.5, -1]));
  });
  return net;
}

const run = (net: Network, rows: number[][], training: boolean) =>
  tf.tidy(() => forward(net, tf.tensor2d(rows), { training })).arraySync() as number[][];

function closeRows(got: number[][], want: number[][], what: string) {
  got.forEach((row, i) =>
    row.forEach((v, j) =>
      assert.ok(Math.abs(v - want[i][j]) < 1e-5, `${what} [${i}][${j}]: ${v} vs ${want[i][j]}`)
    )
  );
}

// columns (1, 3, 5) and (2, 6, 10): means 3 and 6, biased variances 8/3 and 32/3
const X = [[1, 2], [3, 6], [5, 10]];
const MEAN = [3, 6], VAR = [8 / 3, 32 / 3], GAMMA = [2, 3], BETA = [0.5, -1];

Deno.test("batch norm, training: γ·(x − μ)/√(σ² + ε) + β with the batch's mean and biased variance", () => {
  const net = tinyLayer();
  const want = X.map((r) =>
    r.map((v, j) => GAMMA[j] * (v - MEAN[j]) / Math.sqrt(VAR[j] + EPS) + BETA[j])
  );
  closeRows(run(net, X, true), want, "training output");
  // e.g. the first entry: 2·(1 − 3)/√(8/3 + 0.01) + 0.5 = −1.94491… (the averages have
  // moved once since, which training mode does not read)
  assert.ok(Math.abs(run(net, X, true)[0][0] - (-1.9449098)) < 1e-5);
  disposeNetwork(net);
});

Deno.test("batch norm: one training pass moves the averages by rate; sampling uses them, row by row", () => {
  const net = tinyLayer();
  const [mean, stdev] = networkState(net).map((p) => [...p.variable.dataSync()]);
  assert.deepEqual(mean, [0, 0], "the moving mean starts at 0");
  assert.deepEqual(stdev, [1, 1], "the moving standard deviation starts at 1");
  // before any training pass: (x − 0)/1 scaled and offset
  closeRows(run(net, X, false), X.map((r) => r.map((v, j) => GAMMA[j] * v + BETA[j])), "initial");
  run(net, X, true);
  const m = MEAN.map((v) => RATE * v);
  const s = VAR.map((v) => (1 - RATE) + RATE * Math.sqrt(v + EPS));
  const [m1, s1] = networkState(net).map((p) => [...p.variable.dataSync()]);
  closeRows([m1, s1], [m, s], "averages after one pass");
  const want = X.map((r) => r.map((v, j) => GAMMA[j] * (v - m[j]) / s[j] + BETA[j]));
  closeRows(run(net, X, false), want, "inference output");
  // a sample does not depend on the batch it is drawn in
  closeRows(run(net, [X[1]], false), [want[1]], "row 1 alone");
  // inference passes leave the averages where they were
  closeRows(networkState(net).map((p) => [...p.variable.dataSync()]), [m, s], "after sampling");
  disposeNetwork(net);
});

Deno.test("batch norm: the shape table counts W, γ and β (no bias), as the built layer has", () => {
  const resolved = loadConfig("grid-gan");
  const shapes = modelShapes(resolved);
  // 2·400 + 2·400, then 3 × (400·400 + 2·400), then 400·2 + 2
  assert.equal(shapes.G.params, 1600 + 3 * 160_800 + 802);
  const G = buildNetwork(new Rng(1), "G", 2, resolved.config.generator.layers, {
    kind: "normal",
    std: 0.02,
  });
  assert.equal(parameterCount(G), shapes.G.params);
  assert.deepEqual(networkState(G).map((p) => p.name).slice(0, 2), [
    "G/h0/movingMean",
    "G/h0/movingStdev",
  ]);
  disposeNetwork(G);
});

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

Deno.test("batch norm config errors name the field: D, a bias beside it, branches, bad numbers, unknown keys", () => {
  const bn = { epsilon: 1e-4, rate: 0.05 };
  const at = (path: string, found: string, message: string) =>
    `configs/x.json: invalid config\n  at $.${path}: found ${found}; ${message}`;
  assert.equal(
    configError("grid-gan", (c) => (c.discriminator.layers[3].batchNorm = bn)),
    at(
      "discriminator.layers[3].batchNorm",
      '{"epsilon":0.0001,"rate":0.05} (object)',
      "batch normalisation is implemented for the generator's layers only: remove batchNorm",
    ),
  );
  assert.equal(
    configError("grid-gan", (c) => (c.generator.layers[1].bias = 0)),
    at(
      "generator.layers[1].bias",
      "0 (number)",
      "a batch-normalised layer has no bias (batchNorm's learned offset takes its place): " +
        "remove bias or batchNorm",
    ),
  );
  assert.equal(
    configError("mnist-cgan", (c) => (c.generator.layers[0].branches[1].layer.batchNorm = bn)),
    at(
      "generator.layers[0].branches[1].layer.batchNorm",
      '{"epsilon":0.0001,"rate":0.05} (object)',
      "batch normalisation is not implemented inside branches: remove batchNorm",
    ),
  );
  assert.equal(
    configError("grid-gan", (c) => (c.generator.layers[0].batchNorm.rate = 0)),
    at("generator.layers[0].batchNorm.rate", "0 (number)", "expected a number > 0"),
  );
  assert.equal(
    configError("grid-gan", (c) => (c.generator.layers[0].batchNorm.rate = 1.5)),
    at("generator.layers[0].batchNorm.rate", "1.5 (number)", "expected a number ≤ 1"),
  );
  assert.equal(
    configError("grid-gan", (c) => (c.generator.layers[2].batchNorm.epsilon = 0)),
    at("generator.layers[2].batchNorm.epsilon", "0 (number)", "expected a number > 0"),
  );
  assert.equal(
    configError("grid-gan", (c) => (c.generator.layers[0].batchNorm.momentum = 0.9)),
    at(
      "generator.layers[0].batchNorm",
      'unknown key "momentum"',
      "remove it; known keys here: epsilon, rate",
    ),
  );
});

Deno.test("the fused step declines a batch-normalised G, naming the field", () => {
  const { config } = loadConfig("grid-gan");
  const net = (name: string, layers: LayerConfig[]) =>
    ({ name, layers: layers.map((c) => ({ config: c })) }) as never;
  const why = fusedStepUnsupported(
    config,
    net("G", config.generator.layers),
    net("D", config.discriminator.layers),
    null as never,
    null as never,
  );
  assert.equal(
    why,
    "it batch-normalises generator.layers[0] (generator.layers[0].batchNorm; the fused step " +
      "has no batch normalisation)",
  );
});

Deno.test("batch norm: a resumed run equals an uninterrupted one (the averages are checkpointed)", async () => {
  const config = loadConfig("grid-gan", {
    overrides: [
      'training.budget={"iterations":8}',
      "training.batchSize=24",
      "training.logEvery=2",
      "training.checkpointEvery=4",
      "metrics.samples=200",
    ],
  });
  const checkpoints: Checkpoint[] = [];
  const direct = await runExperiment(config, {
    seed: 3,
    backend: "wasm",
    prefetchDraws: false,
    onCheckpoint: (cp) => {
      checkpoints.push(decodeCheckpoint(encodeCheckpoint(cp), "memory"));
      return Promise.resolve();
    },
  });
  const mid = checkpoints.find((cp) => cp.header.iteration === 4)!;
  const saved = mid.header.tensors.find((t) => t.name === "G/h0/movingMean")!;
  assert.ok(saved, "the checkpoint holds G/h0/movingMean");
  const values = mid.values.subarray(saved.offset, saved.offset + saved.length);
  assert.ok(values.some((v) => v !== 0), "four training passes moved the average");
  assert.ok(Object.keys(direct.fingerprints.at(-1)!.tensors).includes("G/h3/movingStdev"));
  const resumed = await runExperiment(config, {
    seed: 3,
    backend: "wasm",
    prefetchDraws: false,
    resume: mid,
  });
  assert.deepEqual(resumed.fingerprints, direct.fingerprints);
  assert.equal(JSON.stringify(resumed.metrics), JSON.stringify(direct.metrics));
});

Deno.test("batch norm trains with the alternating update and with unrolling (G's pass is first order)", async () => {
  const bn = { epsilon: 1e-4, rate: 0.05 };
  const layers = JSON.stringify([
    { type: "dense", units: 16, activation: "relu", batchNorm: bn },
    { type: "dense", units: 2, activation: "linear" },
  ]);
  const short = [
    'training.budget={"iterations":4}',
    "training.batchSize=32",
    "training.logEvery=2",
    "metrics.samples=100",
    `generator.layers=${layers}`,
  ];
  const cases = [
    ["ring-gan", []], // alternating
    ["ring-gan", ['training.unroll={"steps":2}']], // alternating, unrolled
    ["ring-unrolled", []], // simultaneous, unrolled
  ] as const;
  for (const [name, extra] of cases) {
    const r = await runExperiment(loadConfig(name, { overrides: [...short, ...extra] }), {
      seed: 1,
      backend: "wasm",
      prefetchDraws: false,
    });
    assert.equal(r.status, "completed", `${name} ${extra}`);
    assert.ok(r.history.gLoss.every(Number.isFinite), `${name} ${extra}: G's losses finite`);
    const hashes = r.fingerprints.map((f) => f.tensors["G/h0/movingMean"]);
    assert.ok(hashes.every(Boolean), `${name} ${extra}: the averages are fingerprinted`);
    assert.notEqual(hashes[0], hashes.at(-1), `${name} ${extra}: the averages move`);
  }
});
