/**
 * Dropout in G (generator.dropout, docs/conditional.md §2): masks of 0 or `scale` at the keep
 * rate, seeded, fresh per step and apart from D's; the simultaneous step's one set of G masks
 * drawn ahead as inline; the gradient through a masked layer in closed form; no masks when
 * sampling for evaluation; config errors naming the field; the fused step's refusal; runs of
 * both updates that repeat, resume and count G's masks with D's.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { openBlas } from "../src/backend/openblas.ts";
import { readFloats, selectBackend } from "../src/backend/select.ts";
import { tf } from "../src/backend/tf.ts";
import { errorLine, EXIT, exitCodeOf } from "../src/cli/exit.ts";
import { ConfigError } from "../src/config/errors.ts";
import { CONFIG_DIR, loadConfig, resolveConfig } from "../src/config/load.ts";
import { sampleNoise } from "../src/data/noise.ts";
import { openRealData } from "../src/data/real-data.ts";
import { summarize } from "../src/metrics/distribution1d.ts";
import { buildNetwork, disposeNetwork, forward, networkParams } from "../src/models/network.ts";
import { type Checkpoint, decodeCheckpoint, encodeCheckpoint } from "../src/record/checkpoint.ts";
import { Rng } from "../src/rng/streams.ts";
import { dropoutMaskPlan, dropoutMasksFrom } from "../src/train/dropout.ts";
import { evaluate } from "../src/train/evaluate.ts";
import { StepInputs } from "../src/train/inputs.ts";
import { buildModels } from "../src/train/models.ts";
import { DrawPrefetcher } from "../src/train/prefetch.ts";
import { runExperiment } from "../src/train/run.ts";
import { fusedStepUnsupported } from "../src/train/steps/fused-mlp.ts";

await selectBackend("wasm");

// deno-lint-ignore no-explicit-any
type Json = Record<string, any>;

const HIDDEN = '{"input":null,"hidden":{"keep":0.5,"scale":2}}';
const same = (s: number) => s;

/** The share of entries that are kept (nonzero). */
const keptShare = (m: Float32Array) => m.reduce((n, v) => n + (v > 0 ? 1 : 0), 0) / m.length;
/** The share of positions where two masks agree. */
const agreement = (a: Float32Array, b: Float32Array) =>
  a.reduce((n, v, i) => n + (v === b[i] ? 1 : 0), 0) / a.length;
/** A Bernoulli(p) share of n draws lies within 5 standard errors of p (fails about 6e-7). */
const withinFiveSe = (share: number, p: number, n: number, what: string) => {
  const se = Math.sqrt((p * (1 - p)) / n);
  assert.ok(Math.abs(share - p) < 5 * se, `${what}: ${share}, expected ${p} ± ${5 * se}`);
};

/** mnist-cgan's G (its marginal bias zeroed: the test needs no MNIST pixel means). */
function cganGenerator(rng: Rng) {
  const { config } = loadConfig("mnist-cgan");
  return buildNetwork(rng, "G", 110, config.generator.layers, config.generator.init, {
    marginalBias: new Float32Array(784),
  });
}

Deno.test("G's masks: 0 or scale at the keep rate, on the hidden layers' inputs, seeded, fresh per step and apart from D's", () => {
  const rng = new Rng(3);
  const G = cganGenerator(rng);
  const spec = loadConfig("mnist-cgan").config.generator.dropout!;
  assert.deepEqual(spec, { input: null, hidden: { keep: 0.5, scale: 2 } });
  const plan = dropoutMaskPlan(G, spec);
  // the branches layer takes [z; y] unmasked; the 1200- and 784-unit layers their 1200 inputs
  assert.deepEqual(plan.map((p) => p?.units ?? null), [null, 1200, 1200]);
  const rows = 100;
  const masks = dropoutMasksFrom(rng, plan, "G/dropout", 7, rows);
  for (const i of [1, 2]) {
    const m = masks[i]!;
    assert.equal(m.length, rows * 1200);
    assert.ok(m.every((v) => v === 0 || v === 2), `G/h${i}: 0 or 2 only`);
    withinFiveSe(keptShare(m), 0.5, m.length, `G/h${i} kept share`);
  }
  assert.equal(masks[0], null);
  assert.deepEqual(dropoutMasksFrom(rng, plan, "G/dropout", 7, rows), masks, "seeded");
  const next = dropoutMasksFrom(rng, plan, "G/dropout", 8, rows);
  const fake = dropoutMasksFrom(rng, plan, "D/dropout/fake", 7, rows);
  const n = rows * 1200;
  // independent masks agree where both keep or both drop: half the positions
  withinFiveSe(agreement(masks[1]!, next[1]!), 0.5, n, "step 7 vs step 8");
  withinFiveSe(agreement(masks[1]!, masks[2]!), 0.5, n, "layer 1 vs layer 2");
  withinFiveSe(agreement(masks[1]!, fake[1]!), 0.5, n, "G/dropout vs D/dropout/fake");
  // the input rule applies to the first layer with parameters
  const input = dropoutMaskPlan(G, { input: { keep: 0.8, scale: 1.25 }, hidden: null });
  assert.deepEqual(input.map((p) => p?.units ?? null), [110, null, null]);
  const first = dropoutMasksFrom(rng, input, "G/dropout", 0, rows)[0]!;
  assert.ok(first.every((v) => v === 0 || v === 1.25));
  withinFiveSe(keptShare(first), 0.8, first.length, "input kept share");
  disposeNetwork(G);
});

Deno.test("a step's G masks: one set for the simultaneous update, drawn ahead as inline; one per G pass in the alternating", async () => {
  const resolved = loadConfig("mnist-cgan");
  const real = openRealData(resolved.config.data, new Rng(5), 100);
  const { G, D } = buildModels(resolved, new Rng(5), real, undefined);
  const gPlan = dropoutMaskPlan(G, resolved.config.generator.dropout!);
  const withoutD = {
    ...resolved.config,
    discriminator: { ...resolved.config.discriminator, dropout: undefined },
  };
  const withoutG = {
    ...resolved.config,
    generator: { ...resolved.config.generator, dropout: null },
  };
  try {
    // G's job comes after D's; without D's masks it is the first after the noise
    for (const [config, jobs] of [[resolved.config, 4], [withoutD, 2], [withoutG, 3]] as const) {
      const inputs = new StepInputs(config, new Rng(5), real, G, D, {
        noiseStep: same,
        maskStep: same,
      });
      const t = 499; // the epoch's last batch
      assert.equal(inputs.simultaneousDraws(t).length, jobs);
      const prefetch = new DrawPrefetcher(5, (s) => inputs.simultaneousDraws(s));
      try {
        const ahead = inputs.simultaneousInputs(t, 100, await prefetch.take(t));
        const inline = inputs.simultaneousInputs(t, 100);
        assert.deepEqual(ahead, inline);
        const want = config.generator.dropout
          ? dropoutMasksFrom(new Rng(5), gPlan, "G/dropout", t, 100)
          : null;
        assert.deepEqual(inline.generatorMasks, want);
        assert.equal(inline.realMasks === null, config === withoutD);
      } finally {
        prefetch.close();
      }
    }
    const inputs = new StepInputs(resolved.config, new Rng(5), real, G, D, {
      noiseStep: same,
      maskStep: same,
    });
    // Algorithm 1: the D step's G pass and the G step's each take their own
    const d = inputs.generatorMasks("G/dropout/d", 3, 100)!;
    const g = inputs.generatorMasks("G/dropout/g", 3, 100)!;
    assert.deepEqual(d, dropoutMasksFrom(new Rng(5), gPlan, "G/dropout/d", 3, 100));
    withinFiveSe(agreement(d[1]!, g[1]!), 0.5, 120000, "G/dropout/d vs G/dropout/g");
    const tensors = inputs.generatorMaskTensors(d, 100)!;
    assert.deepEqual(tensors.map((m) => m?.shape ?? null), [null, [100, 1200], [100, 1200]]);
    tf.dispose(tensors.filter((m) => m !== null));
  } finally {
    disposeNetwork(G);
    disposeNetwork(D);
  }
});

Deno.test("the gradient through a masked G layer is the masked closed form", async () => {
  // x → dense 3 (linear) → ⊙ mask → dense 1 (linear); L = Σ_rows y
  const rows = 4;
  const G = buildNetwork(new Rng(2), "G", 2, [
    { type: "dense", units: 3, activation: "linear" },
    { type: "dense", units: 1, activation: "linear" },
  ], { kind: "uniform", irange: 0.5 });
  const plan = dropoutMaskPlan(G, { input: null, hidden: { keep: 0.5, scale: 2 } });
  const m = dropoutMasksFrom(new Rng(2), plan, "G/dropout", 0, rows)[1]!;
  assert.ok(m.includes(0) && m.includes(2), `a mask with dropped and kept units: ${m}`);
  const X = [0.3, -1.2, 0.8, 0.5, -0.4, 2.0, 1.1, 0.1];
  const [W1, b1, W2] = networkParams(G).map((p) => p.variable.dataSync());
  const vars = networkParams(G).map((p) => p.variable);
  const { grads } = tf.variableGrads(() =>
    tf.sum(
      forward(G, tf.tensor2d(X, [rows, 2]), {
        training: true,
        masks: [null, tf.tensor2d(m, [rows, 3])],
      }),
    ) as tf.Scalar, vars);
  // ∂L/∂W2_j = Σ_r m_rj·h_rj, ∂L/∂b2 = rows, ∂L/∂W1_ij = Σ_r x_ri·m_rj·W2_j, ∂L/∂b1_j = Σ_r m_rj·W2_j
  const want = { W1: [0, 0, 0, 0, 0, 0], b1: [0, 0, 0], W2: [0, 0, 0], b2: [rows] };
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < 3; j++) {
      const h = X[2 * r] * W1[j] + X[2 * r + 1] * W1[3 + j] + b1[j];
      want.W2[j] += m[3 * r + j] * h;
      want.b1[j] += m[3 * r + j] * W2[j];
      for (let i = 0; i < 2; i++) want.W1[3 * i + j] += X[2 * r + i] * m[3 * r + j] * W2[j];
    }
  }
  const got = {
    W1: await readFloats(grads[vars[0].name]),
    b1: await readFloats(grads[vars[1].name]),
    W2: await readFloats(grads[vars[2].name]),
    b2: await readFloats(grads[vars[3].name]),
  };
  for (const key of ["W1", "b1", "W2", "b2"] as const) {
    want[key].forEach((w, k) =>
      assert.ok(
        Math.abs(got[key][k] - w) <= 1e-5 * (1 + Math.abs(w)),
        `${key}[${k}]: ${got[key][k]}, want ${w}`,
      )
    );
  }
  // without the mask b1's gradient is rows·W2: the mask changed it
  assert.ok(want.b1.some((v, j) => Math.abs(v - rows * W2[j]) > 1e-3));
  tf.dispose(Object.values(grads));
  disposeNetwork(G);
});

Deno.test("evaluation samples G without masks: the same metrics with and without generator.dropout", async () => {
  // one generate batch (1,000 rows), so the hand-made forward pass below is the same product
  const overrides = ["metrics.samples=1000"];
  const withDropout = loadConfig("gaussian-moments", {
    overrides: [...overrides, `generator.dropout=${HIDDEN}`],
  });
  const without = loadConfig("gaussian-moments", { overrides });
  const { config } = withDropout;
  const real = openRealData(config.data, new Rng(4), config.training.batchSize);
  const { G, D } = buildModels(withDropout, new Rng(4), real, undefined);
  try {
    const a = await evaluate(withDropout, G, new Rng(4), real);
    const b = await evaluate(without, G, new Rng(4), real);
    assert.deepEqual(a.metrics, b.metrics);
    // the unmasked network's samples of eval/z, by hand
    const n = 1000;
    const z = sampleNoise(config.noise, new Rng(4).stream("eval/z").at(0), n);
    const plain = tf.tidy(() => forward(G, tf.tensor2d(z, [n, config.noise.dim])));
    const expected = summarize(await readFloats(plain));
    plain.dispose();
    assert.equal(a.metrics.fakeMean, expected.mean);
    assert.equal(a.metrics.fakeStd, expected.std);
    // masks would change them: dropout is not a no-op on this G
    const plan = dropoutMaskPlan(G, config.generator.dropout!);
    const masks = dropoutMasksFrom(new Rng(4), plan, "G/dropout", 0, n);
    const masked = tf.tidy(() =>
      forward(G, tf.tensor2d(z, [n, config.noise.dim]), {
        masks: masks.map((m, i) => m && tf.tensor2d(m, [n, G.layers[i].inShape[0]])),
      })
    );
    const dropped = summarize(await readFloats(masked));
    masked.dispose();
    assert.ok(Math.abs(dropped.std - expected.std) > 1e-3 * expected.std, `${dropped.std}`);
  } finally {
    disposeNetwork(G);
    disposeNetwork(D);
  }
});

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

Deno.test("config errors for generator.dropout name the field; input may be left out", () => {
  const at = (line: string) => `configs/x.json: invalid config\n  at ${line}`;
  assert.equal(
    configError("mnist-cgan", (c) => (c.generator.dropout.hidden.keep = 0)),
    at("$.generator.dropout.hidden.keep: found 0 (number); expected a number > 0"),
  );
  assert.equal(
    configError("mnist-cgan", (c) => (c.generator.dropout.hidden.keep = 1.5)),
    at("$.generator.dropout.hidden.keep: found 1.5 (number); expected a number ≤ 1"),
  );
  assert.equal(
    configError("mnist-cgan", (c) => (c.generator.dropout.hidden.scale = 0)),
    at("$.generator.dropout.hidden.scale: found 0 (number); expected a number > 0"),
  );
  assert.equal(
    configError("mnist-cgan", (c) => (c.generator.dropout.rate = 0.5)),
    at('$.generator.dropout: found unknown key "rate"; remove it; known keys here: input, hidden'),
  );
  const short = JSON.parse(Deno.readTextFileSync(join(CONFIG_DIR, "mnist-cgan.json")));
  short.generator.dropout = { hidden: { keep: 0.5, scale: 2 } };
  const G = cganGenerator(new Rng(1));
  const plan = dropoutMaskPlan(G, resolveConfig("configs/x.json", short).config.generator.dropout!);
  assert.deepEqual(plan.map((p) => p?.units ?? null), [null, 1200, 1200]);
  disposeNetwork(G);
});

Deno.test("the fused step declines a G with dropout, naming the field", async () => {
  const { config } = loadConfig("mnist-mlp", { overrides: [`generator.dropout=${HIDDEN}`] });
  const why = fusedStepUnsupported(
    config,
    null as never,
    null as never,
    null as never,
    null as never,
  );
  assert.equal(why, "it drops G's units (generator.dropout; the fused step has dropout in D only)");
  if (!openBlas()) return; // the refusal of an explicit --train-step fused needs OpenBLAS
  const tiny = loadConfig("mnist-mlp", {
    profile: "smoke",
    overrides: [
      `generator.dropout=${HIDDEN}`,
      'training.budget={"iterations":2}',
      "metrics.parzen=null",
      "metrics.classifier=null",
    ],
  });
  const refused = await runExperiment(tiny, {
    seed: 1,
    backend: "wasm+openblas",
    trainStep: "fused",
  }).then(() => null, (e) => e);
  assert.equal(
    refused?.message,
    "the fused step cannot train mnist-mlp: it drops G's units (generator.dropout; the fused " +
      "step has dropout in D only)",
  );
  assert.equal(exitCodeOf(refused), EXIT.usage);
  assert.equal(errorLine(refused), refused.message);
});

const TINY_CGAN = [
  'training.budget={"iterations":4}',
  "training.logEvery=1",
  "metrics.samples=100",
  "metrics.parzen=null",
  "metrics.classifier=null",
  "metrics.classCoverage=null",
];

Deno.test("mnist-cgan with G's dropout: repeats bit for bit, resumes bit for bit, differs without it, counts G's masks", async () => {
  const config = loadConfig("mnist-cgan", { overrides: TINY_CGAN });
  const a = await runExperiment(config, { seed: 1, backend: "wasm" });
  const b = await runExperiment(config, { seed: 1, backend: "wasm", prefetchDraws: false });
  assert.equal(a.trainStep, "autodiff");
  assert.deepEqual(b.fingerprints, a.fingerprints, "drawn ahead or inline: the same");
  assert.deepEqual(b.history, a.history);
  // per step: D's 2 masked layers for the real and the generated batch, G's 2 once
  assert.deepEqual(a.draws!.dropout, { draws: 4 * (2 + 2 + 2), repeats: 0 });
  const without = await runExperiment(
    loadConfig("mnist-cgan", { overrides: [...TINY_CGAN, "generator.dropout=null"] }),
    { seed: 1, backend: "wasm" },
  );
  assert.deepEqual(without.draws!.dropout, { draws: 4 * (2 + 2), repeats: 0 });
  assert.equal(without.fingerprints[0].step, a.fingerprints[0].step);
  assert.notDeepEqual(without.fingerprints[0].hash, a.fingerprints[0].hash, "G's masks train G");
  // stopped after iteration 2 and resumed through the checkpoint file
  const controller = new AbortController();
  const saved: Checkpoint[] = [];
  await assert.rejects(
    runExperiment(config, {
      seed: 1,
      backend: "wasm",
      signal: controller.signal,
      onCheckpoint: (cp) => {
        saved.push(cp);
        return Promise.resolve();
      },
      onProgress: (p) => p.iteration === 2 && controller.abort(),
    }),
    (e: Error) => e.name === "AbortError",
  );
  const stopped = decodeCheckpoint(encodeCheckpoint(saved.at(-1)!), "memory");
  assert.equal(stopped.header.iteration, 2);
  const resumed = await runExperiment(config, { seed: 1, backend: "wasm", resume: stopped });
  assert.equal(resumed.resumedFrom, 2);
  assert.equal(JSON.stringify(resumed.fingerprints), JSON.stringify(a.fingerprints));
  assert.equal(JSON.stringify(resumed.history), JSON.stringify(a.history));
  assert.equal(JSON.stringify(resumed.metrics), JSON.stringify(a.metrics));
  assert.deepEqual(resumed.draws, a.draws);
});

Deno.test("the alternating update with G's dropout: one set per G pass, repeated under freeze-dropout", async () => {
  const overrides = [
    'training.budget={"iterations":5}',
    "training.logEvery=1",
    "metrics.samples=500",
    `generator.dropout=${HIDDEN}`,
  ];
  const config = loadConfig("ring-gan", { overrides });
  assert.equal(config.config.training.update, "alternating");
  assert.equal(config.config.discriminator.dropout, undefined, "G's masks are the only ones");
  const a = await runExperiment(config, { seed: 2, backend: "wasm" });
  const b = await runExperiment(config, { seed: 2, backend: "wasm" });
  assert.deepEqual(b.fingerprints, a.fingerprints);
  // per iteration: the D step's G pass and the G step's, each 2 masked layers
  assert.deepEqual(a.draws!.dropout, { draws: 5 * 2 * 2, repeats: 0 });
  const plain = await runExperiment(loadConfig("ring-gan", { overrides: overrides.slice(0, 3) }), {
    seed: 2,
    backend: "wasm",
  });
  assert.deepEqual(plain.draws!.dropout, { draws: 0, repeats: 0 });
  assert.notDeepEqual(plain.fingerprints[0].hash, a.fingerprints[0].hash);
  // the canary: every step reuses step 0's masks, and the monitor sees G's repeat
  const frozen = await runExperiment(config, { seed: 2, backend: "wasm", fault: "freeze-dropout" });
  assert.deepEqual(frozen.draws!.dropout, { draws: 20, repeats: 4 * 2 * 2 });
});
