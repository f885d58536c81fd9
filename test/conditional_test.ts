/**
 * The conditional GAN (docs/conditional.md): one-hot labels in closed form, the input widths
 * of G(z, y) and D(x, y), the real rows' labels and G's label stream, config errors with
 * their exact messages, the fused step's refusal, the class-coverage metric against a known
 * answer, and a tiny conditional run that repeats bit for bit.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { selectBackend } from "../src/backend/select.ts";
import { readFloats } from "../src/backend/select.ts";
import { tf } from "../src/backend/tf.ts";
import { ConfigError } from "../src/config/errors.ts";
import { CONFIG_DIR, loadConfig, resolveConfig } from "../src/config/load.ts";
import {
  classMajorLabels,
  cyclicLabels,
  drawLabels,
  oneHot,
  withOneHot,
} from "../src/data/labels.ts";
import { openRealData } from "../src/data/real-data.ts";
import { classCoverage, coverageMetrics } from "../src/metrics/class-coverage.ts";
import { cacheClassifier, mnistClassifierSpec } from "../src/metrics/classifier.ts";
import { buildNetwork, disposeNetwork, forward, networkParams } from "../src/models/network.ts";
import { generate } from "../src/models/generate.ts";
import { modelShapes } from "../src/models/shapes.ts";
import { Rng } from "../src/rng/streams.ts";
import { StepInputs } from "../src/train/inputs.ts";
import { CONDITIONAL_TABLE1 } from "../src/metrics/table1.ts";
import { renderRunPage } from "../src/report/run-page.ts";
import { runExperiment } from "../src/train/run.ts";
import { describeTracked } from "../src/cli/run-task.ts";
import { fusedStepUnsupported } from "../src/train/steps/fused-mlp.ts";

await selectBackend("wasm");

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

const invalid = (...lines: string[]) =>
  ["configs/x.json: invalid config", ...lines.map((l) => `  at ${l}`)].join("\n");

Deno.test("one-hot labels: rows, appended after each row, cyclic and class-major assignments", () => {
  assert.deepEqual(Array.from(oneHot([2, 0], 3)), [0, 0, 1, 1, 0, 0]);
  assert.deepEqual(
    Array.from(withOneHot(new Float32Array([5, 6, 7, 8]), 2, [1, 0], 2)),
    [5, 6, 0, 1, 7, 8, 1, 0],
  );
  assert.deepEqual(Array.from(cyclicLabels(7, 3)), [0, 1, 2, 0, 1, 2, 0]);
  assert.deepEqual(Array.from(classMajorLabels(2, 3)), [0, 0, 1, 1, 2, 2]);
  assert.throws(() => oneHot([3], 3), /label 3 at row 0 is not one of 3 classes/);
  assert.throws(() => withOneHot(new Float32Array(3), 2, [0, 1], 2), /3 values are not 2 rows/);
  // G's labels: uniform over the classes (10,000 draws: each class within 5 SE of 1,000)
  const y = drawLabels(new Rng(1).stream("train/y").at(0), 10000, 10);
  const counts = new Array(10).fill(0);
  y.forEach((c) => counts[c]++);
  const se = Math.sqrt(10000 * 0.1 * 0.9);
  counts.forEach((n) => assert.ok(Math.abs(n - 1000) < 5 * se, `${counts}`));
});

Deno.test("class coverage: per-class accuracy, mean, min and classes covered in closed form", () => {
  // 10 samples per class; class c: its first c samples classified c, the rest (c + 1) mod 10
  const classes = 10, per = 10;
  const labels = classMajorLabels(per, classes);
  const probs = new Float32Array(labels.length * classes);
  labels.forEach((c, r) => {
    const predicted = r % per < c ? c : (c + 1) % classes;
    probs.fill(0.05, r * classes, (r + 1) * classes);
    probs[r * classes + predicted] = 0.55;
  });
  const cov = classCoverage(probs, labels, classes, 0.5);
  assert.deepEqual(cov.perClass, [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]);
  assert.ok(Math.abs(cov.mean - 0.45) < 1e-12);
  assert.equal(cov.min, 0);
  assert.equal(cov.covered, 5, "classes 5–9: a share of exactly the threshold counts");
  assert.equal(classCoverage(probs, labels, classes, 0.51).covered, 4);
  const named = coverageMetrics(cov);
  assert.equal(named.coverageClassesCovered, 5);
  assert.equal(named.coverageClass7, 0.7);
  // a tie goes to the lower class; a label outside the classes is refused
  assert.equal(classCoverage(new Float32Array([0.5, 0.5]), [1], 2, 0.5).perClass[1], 0);
  assert.throws(() => classCoverage(new Float32Array(2), [2], 2, 0.5), /label 2 at row 0/);
});

Deno.test("mnist-cgan: G takes z and y (100 + 10), D takes x and y (784 + 10)", () => {
  const { G, D } = modelShapes(loadConfig("mnist-cgan"));
  assert.equal(G.inputDim, 110);
  assert.equal(D.inputDim, 794);
  // the paper's branches: z → 200 and y → 1000; x → maxout 240×5 and y → maxout 50×5
  assert.equal(G.layers[0].params, 101 * 200 + 11 * 1000);
  assert.deepEqual(G.layers[0].outShape, [1200]);
  assert.equal(D.layers[0].params, 785 * 240 * 5 + 11 * 50 * 5);
  assert.deepEqual(D.layers[0].outShape, [290]);
  const raw = JSON.parse(Deno.readTextFileSync(join(CONFIG_DIR, "mnist-cgan.json")));
  // without the label, G's branches (100 + 10 inputs) do not fit its 100-value input
  const unlabelled = structuredClone(raw);
  delete unlabelled.conditional;
  delete unlabelled.metrics.classCoverage;
  delete unlabelled.profiles.smoke["metrics.classCoverage"];
  assert.throws(
    () => modelShapes(resolveConfig("configs/x.json", unlabelled)),
    (e: Error) => {
      assert.ok(e instanceof ConfigError);
      assert.equal(
        e.message,
        "configs/x.json: a layer does not fit\n  at $.generator.layers[0]: found that branches " +
          "take 110 values (100 + 10) but the input has 100 (G/h0); each layer must fit the " +
          "output of the one before it",
      );
      return true;
    },
  );
  raw.generator.layers[0].branches[0].inputs = 90;
  raw.discriminator.layers[0].branches[0].inputs = 774;
  delete raw.conditional;
  delete raw.metrics.classCoverage;
  delete raw.profiles.smoke["metrics.classCoverage"];
  const plain = modelShapes(resolveConfig("configs/x.json", raw));
  assert.equal(plain.G.inputDim, 100);
  assert.equal(plain.D.inputDim, 784);
});

Deno.test("a branches layer: each branch on its own slice, outputs side by side (by hand)", async () => {
  const net = buildNetwork(new Rng(1), "T", 3, [{
    type: "branches",
    branches: [
      { inputs: 2, layer: { type: "dense", units: 1, activation: "linear" } },
      { inputs: 1, layer: { type: "maxout", units: 1, pieces: 2 } },
    ],
  }], { kind: "uniform", irange: 0.1 });
  const params = networkParams(net);
  assert.deepEqual(params.map((p) => p.name), [
    "T/h0/branch0/W",
    "T/h0/branch0/b",
    "T/h0/branch1/W",
    "T/h0/branch1/b",
  ]);
  const set = (i: number, values: number[]) =>
    params[i].variable.assign(tf.tensor(values, params[i].variable.shape));
  set(0, [2, 3]);
  set(1, [1]);
  set(2, [1, -1]);
  set(3, [0, 0.5]);
  const y = forward(net, tf.tensor2d([[1, 10, 4], [0, 0, -2]]));
  // row 1: 2·1 + 3·10 + 1 = 33, max(4, −4 + 0.5) = 4; row 2: 1, max(−2, 2.5) = 2.5
  assert.deepEqual(Array.from(await readFloats(y)), [33, 4, 1, 2.5]);
  y.dispose();
  disposeNetwork(net);
});

Deno.test("a conditional step's labels: the real rows' own, G's from train/y at the step", async () => {
  const resolved = loadConfig("mnist-cgan");
  const config = {
    ...resolved.config,
    generator: { ...resolved.config.generator },
    discriminator: { ...resolved.config.discriminator },
  };
  // no masks: StepInputs then needs no G or D
  delete config.generator.dropout;
  delete config.discriminator.dropout;
  const rng = new Rng(5);
  const real = openRealData(config.data, rng, 100);
  const inputs = new StepInputs(config, rng, real, null as never, null as never, {
    noiseStep: (s) => s,
    maskStep: (s) => s,
  });
  const step = 503; // the second epoch: a reshuffled order
  const batch = real.batch(step);
  const { x, labels } = inputs.realBatch(step);
  const train = real.dataset!.splits.train.labels!;
  const expected = oneHot(Array.from(batch.indices!, (i) => train[i]), 10);
  assert.deepEqual(await readFloats(labels!), expected);
  const fake = inputs.fakeLabels(step, 100)!;
  const drawn = drawLabels(new Rng(5).stream("train/y").at(step), 100, 10);
  assert.deepEqual(await readFloats(fake), oneHot(drawn, 10));
  assert.notDeepEqual(
    await readFloats(inputs.fakeLabels(step + 1, 100)!),
    oneHot(drawn, 10),
    "fresh labels at every step",
  );
  [x, labels!, fake].forEach((t) => t.dispose());
});

Deno.test("config errors for conditioning name the field, what was found and what is allowed", () => {
  assert.equal(
    configError("mnist-cgan", (c) => (c.conditional = { labels: "index" })),
    invalid('$.conditional.labels: found "index" (string); expected one of "one-hot"'),
  );
  assert.equal(
    configError("mnist-cgan", (c) => (c.data = { kind: "tfd", fold: 0 })),
    invalid(
      '$.data.kind: found "tfd" (string); conditioning needs labelled data: one of mnist, ' +
        "fashion-mnist, cifar10",
    ),
  );
  assert.equal(
    configError("mnist-cgan", (c) => (c.training.update = "alternating")),
    invalid(
      '$.training.update: found "alternating" (string); conditioning is implemented for the ' +
        '"simultaneous" update only',
    ),
  );
  assert.equal(
    configError("mnist-cgan", (c) => {
      c.training.pack = 2;
      delete c.discriminator.dropout;
    }),
    invalid(
      "$.training.pack: found 2 (number); conditioning labels each D row with one example's " +
        "class: pack must be 1",
    ),
  );
  assert.equal(
    configError("mnist-cgan", (c) => (c.discriminator.input = { kind: "moments" })),
    invalid(
      '$.discriminator.input.kind: found "moments" (string); conditioning appends each ' +
        'example\'s label to its D row: the input must be "identity"',
    ),
  );
  assert.equal(
    configError("mnist-mlp", (c) => (c.metrics.classCoverage = { perClass: 10, threshold: 0.5 })),
    invalid(
      '$.metrics.classCoverage: found {"perClass":10,"threshold":0.5} (object); class coverage ' +
        'scores a generator conditioned on labels: add "conditional": {"labels": "one-hot"}, ' +
        "or remove metrics.classCoverage",
    ),
  );
  // (its maxout D is refused by unrolling as well; the conditional refusal is among the errors)
  assert.match(
    configError("mnist-cgan", (c) => (c.training.unroll = { steps: 5 })),
    /\$\.training\.unroll: found \{"steps":5\} \(object\); unrolling is not implemented for conditional runs: remove it/,
  );
  assert.match(
    configError("mnist-cgan", (c) => (c.metrics.classCoverage.threshold = 0)),
    /\$\.metrics\.classCoverage\.threshold: found 0 \(number\)/,
  );
});

Deno.test("the fused step declines a conditional config, saying why", () => {
  const why = fusedStepUnsupported(
    loadConfig("mnist-cgan").config,
    null as never,
    null as never,
    null as never,
    null as never,
  );
  assert.equal(
    why,
    "it is conditional (the fused step does not append labels to G's and D's inputs)",
  );
});

Deno.test("a tiny mnist-cgan run repeats bit for bit with its seed and differs with another", async () => {
  const overrides = [
    'training.budget={"iterations":4}',
    "training.logEvery=2",
    "metrics.samples=100",
    "metrics.parzen=null",
    "metrics.classifier=null",
    "metrics.classCoverage=null",
  ];
  const run = (seed: number, extra: string[] = []) =>
    runExperiment(loadConfig("mnist-cgan", { overrides: [...overrides, ...extra] }), {
      seed,
      backend: "wasm",
    });
  const parzen = 'metrics.parzen={"samples":100,"validation":50,"trainingSetReference":false}';
  const a = await run(1), b = await run(1), c = await run(2, [parzen]);
  assert.equal(a.status, "completed");
  assert.equal(a.trainStep, "autodiff");
  assert.equal(a.fingerprints.length, 2);
  assert.deepEqual(a.fingerprints, b.fingerprints);
  assert.deepEqual(a.metrics, b.metrics);
  assert.notDeepEqual(a.fingerprints, c.fingerprints);
  assert.ok(a.history.dLoss.every(Number.isFinite));
  // G has dropout: Parzen is also scored with G sampled with it, beside the protocol's number
  const m = c.metrics;
  assert.ok([m.parzenMeanWithGDropout, m.parzenSeWithGDropout].every(Number.isFinite), `${m}`);
  assert.notEqual(m.parzenMeanWithGDropout, m.parzenMean);
  assert.ok(!("parzenMeanWithGDropout" in a.metrics)); // no Parzen asked for
  const noGDropout = await run(2, [parzen, "generator.dropout=null"]);
  assert.ok(Number.isFinite(noGDropout.metrics.parzenMean));
  assert.ok(!("parzenMeanWithGDropout" in noGDropout.metrics));
  // Parzen is compared with the conditional paper's row, and the run page says so
  assert.deepEqual(
    [c.parzen!.paper!.mean, c.parzen!.paper!.se],
    [CONDITIONAL_TABLE1.mnist.mean, CONDITIONAL_TABLE1.mnist.se],
  );
  const html = await renderRunPage({
    dir: "/nonexistent",
    result: c,
    snapshots: [],
    images: new Map(),
    missing: [],
  });
  assert.ok(html.includes(`paper, Table 1 (Conditional adversarial nets, Mirza &amp; Osindero)`));
  assert.ok(html.includes("Mirza &amp; Osindero, Conditional Generative Adversarial Nets, 2014"));
  assert.ok(!html.includes("Adversarial nets)"));
});

Deno.test("tracked class coverage changes no training number; the last point equals the final coverage", async () => {
  // an untrained classifier in a cache of the test's own, so that no classifier is trained
  const cache = await Deno.makeTempDir({ prefix: "ganbench-coverage-" });
  const before = Deno.env.get("XDG_CACHE_HOME");
  Deno.env.set("XDG_CACHE_HOME", cache);
  try {
    const resolved = loadConfig("mnist-cgan");
    const real = openRealData(resolved.config.data, new Rng(1), 100);
    await cacheClassifier(real.dataset!, mnistClassifierSpec(), null, 0.1);
    const overrides = [
      'training.budget={"iterations":4}',
      "training.logEvery=2",
      "metrics.samples=100",
      "metrics.parzen=null",
      "metrics.classifier=null",
      'metrics.classCoverage={"perClass":20,"threshold":0.05}',
    ];
    const track = 'metrics.track={"every":{"iterations":2},"parzen":false,"classifier":true}';
    const run = (extra: string[]) =>
      runExperiment(loadConfig("mnist-cgan", { overrides: [...overrides, ...extra] }), {
        seed: 4,
        backend: "wasm",
      });
    const plain = await run([]), tracked = await run([track]);
    assert.deepEqual(tracked.fingerprints, plain.fingerprints);
    assert.equal(JSON.stringify(tracked.metrics), JSON.stringify(plain.metrics));
    assert.deepEqual(tracked.tracked!.map((p) => p.iteration), [2, 4]);
    const last = tracked.tracked!.at(-1)!.coverage!;
    assert.deepEqual(coverageMetrics(last), {
      coverageMean: plain.metrics.coverageMean,
      coverageMin: plain.metrics.coverageMin,
      coverageClassesCovered: plain.metrics.coverageClassesCovered,
      ...Object.fromEntries(
        Array.from(
          { length: 10 },
          (_, k) => [`coverageClass${k}`, plain.metrics[`coverageClass${k}`]],
        ),
      ),
    });
    assert.equal(last.perClass.length, 10);
    // nothing else is scored: the classifier's own scores are not configured
    assert.equal(tracked.tracked![0].classifierScore, null);
    assert.equal(tracked.tracked![0].parzen, null);
  } finally {
    if (before === undefined) Deno.env.delete("XDG_CACHE_HOME");
    else Deno.env.set("XDG_CACHE_HOME", before);
    await Deno.remove(cache, { recursive: true });
  }
});

Deno.test("a tracked point's log line names its coverage and G-dropout Parzen beside Parzen, and leaves out what was not scored", () => {
  const point = {
    iteration: 12500,
    epoch: 25,
    learningRate: { generator: 0.0606, discriminator: 0.0606 },
    wallSeconds: 600,
    parzen: { mean: 101.25, se: 2.5, sigma: 0.1668 },
    parzenDiagnostics: null,
    classifierScore: null,
    classesCovered: null,
    coverage: { perClass: [], mean: 0.8125, min: 0.375, covered: 9 },
    fakePixelStd: 0.3,
    scoreSeconds: 12.25,
  };
  assert.equal(
    describeTracked(point),
    "tracked at epoch 25 (iteration 12500); Parzen 101.3 ± 2.5 (σ 0.167); " +
      "class coverage 0.813 (worst class 0.375), 9 labels in control; lr 0.0606; 12.3 s",
  );
  assert.equal(
    describeTracked({ ...point, parzenWithGDropout: { mean: 160.25, se: 1.5, sigma: 0.2 } }),
    "tracked at epoch 25 (iteration 12500); Parzen 101.3 ± 2.5 (σ 0.167); " +
      "with G's dropout 160.3 ± 1.5; " +
      "class coverage 0.813 (worst class 0.375), 9 labels in control; lr 0.0606; 12.3 s",
  );
  assert.equal(
    describeTracked({ ...point, parzen: null, coverage: null }),
    "tracked at epoch 25 (iteration 12500); lr 0.0606; 12.3 s",
  );
});

Deno.test("generate with masks: each batch's masks on its layers' inputs, as a training step applies them (by hand)", async () => {
  const net = buildNetwork(new Rng(1), "T", 2, [
    { type: "dense", units: 2, activation: "linear" },
    { type: "dense", units: 1, activation: "linear" },
  ], { kind: "uniform", irange: 0.1 });
  const params = networkParams(net);
  const set = (i: number, values: number[]) =>
    params[i].variable.assign(tf.tensor(values, params[i].variable.shape));
  set(0, [1, 0, 0, 1]); // h = x
  set(1, [0, 0]);
  set(2, [1, 10]); // y = h1 + 10·h2
  set(3, [0]);
  const z = new Float32Array([1, 2, 3, 4, 5, 6]); // three rows, two a batch
  const asked: [number, number][] = [];
  const masks = (b: number, rows: number) => {
    asked.push([b, rows]);
    // layer 0's input untouched; layer 1's: batch 0 keeps h1 only (scale 2), batch 1 keeps h2
    return [null, new Float32Array(b === 0 ? [2, 0, 2, 0] : [0, 2])];
  };
  assert.deepEqual(Array.from(await generate(net, z, 2, 2)), [21, 43, 65]);
  assert.deepEqual(Array.from(await generate(net, z, 2, 2, undefined, masks)), [2, 6, 120]);
  assert.deepEqual(asked, [[0, 2], [1, 1]]);
  disposeNetwork(net);
});

Deno.test("tracked Parzen with G's dropout changes no training number; the last point equals the final one", async () => {
  const overrides = [
    'training.budget={"iterations":4}',
    "metrics.samples=100",
    'metrics.parzen={"samples":100,"validation":50,"trainingSetReference":false}',
    "metrics.classifier=null",
    "metrics.classCoverage=null",
  ];
  const track = 'metrics.track={"every":{"iterations":2},"parzen":true,"classifier":false}';
  const run = (extra: string[]) =>
    runExperiment(loadConfig("mnist-cgan", { overrides: [...overrides, ...extra] }), {
      seed: 5,
      backend: "wasm",
    });
  const plain = await run([]), tracked = await run([track]);
  assert.deepEqual(tracked.fingerprints, plain.fingerprints);
  assert.equal(JSON.stringify(tracked.metrics), JSON.stringify(plain.metrics));
  const last = tracked.tracked!.at(-1)!.parzenWithGDropout!;
  assert.deepEqual([last.mean, last.se, last.sigma], [
    plain.metrics.parzenMeanWithGDropout,
    plain.metrics.parzenSeWithGDropout,
    plain.metrics.parzenSigmaWithGDropout,
  ]);
  assert.notEqual(tracked.tracked![0].parzenWithGDropout!.mean, last.mean);
});
