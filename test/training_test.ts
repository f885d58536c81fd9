/** Training on the paper's models: batching, exact resume, memory, divergence, the CLI's resume. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { selectBackend } from "../src/backend/select.ts";
import { tf } from "../src/backend/tf.ts";
import { loadConfig } from "../src/config/load.ts";
import { Rng } from "../src/rng/streams.ts";
import { allFinite } from "../src/models/tensor-state.ts";
import { type Checkpoint, decodeCheckpoint, encodeCheckpoint } from "../src/record/checkpoint.ts";
import { openRealData } from "../src/data/real-data.ts";
import { runExperiment } from "../src/train/run.ts";
import { sampleNoise } from "../src/data/noise.ts";
import { dropoutMasksFrom } from "../src/train/dropout.ts";
import { type DrawJob, DrawPrefetcher } from "../src/train/prefetch.ts";
import { tfdFixture } from "./fixtures.ts";
import { benchArgs, runBench, runDirOf, setsOf } from "./helpers.ts";

await selectBackend("wasm");

/** An onCheckpoint callback that keeps every checkpoint in `list`. */
const collect = (list: Checkpoint[]) => (cp: Checkpoint) => {
  list.push(cp);
  return Promise.resolve();
};

Deno.test("epochs: every training image once per epoch, seeded reshuffles, smaller last batch kept", () => {
  const real = openRealData({ kind: "mnist", scale: "unit" }, new Rng(4), 64);
  assert.equal(real.batchesPerEpoch, Math.ceil(50_000 / 64));
  const seen = new Uint8Array(50_000);
  for (let t = 0; t < real.batchesPerEpoch!; t++) {
    const b = real.batch(t);
    assert.equal(b.epoch, 0);
    for (const i of b.indices!) seen[i]++;
    assert.equal(real.rowsAt(t), b.rows, "rowsAt tells a batch's rows without drawing it");
    if (t === real.batchesPerEpoch! - 1) assert.equal(b.rows, 50_000 % 64);
  }
  assert.ok(seen.every((n) => n === 1));
  const next = real.batch(real.batchesPerEpoch!);
  assert.equal(next.epoch, 1);
  assert.notDeepEqual(next.indices, real.batch(0).indices, "reshuffled");
  const again = openRealData({ kind: "mnist", scale: "unit" }, new Rng(4), 64);
  assert.deepEqual(again.batch(3).values, real.batch(3).values, "seeded");
  const symmetric = openRealData({ kind: "mnist", scale: "symmetric" }, new Rng(4), 64);
  const b = symmetric.batch(0).values, u = real.batch(0).values;
  assert.ok(b.every((v, i) => Math.abs(v - (2 * u[i] - 1)) < 1e-6));
});

/** Evaluation extras that cost minutes at paper settings (Parzen, classifier, nearest images). */
const NO_EXTRA_METRICS = [
  "metrics.parzen=null",
  "metrics.classifier=null",
  "metrics.nearestTraining=null",
  // the paper profile tracks Parzen and the classifier through training: off with them
  "metrics.track=null",
];

const TINY_MNIST = [
  'training.budget={"iterations":9}',
  "training.checkpointEvery=3",
  "training.logEvery=1",
  "metrics.samples=200",
  ...NO_EXTRA_METRICS,
];

Deno.test("a run stopped mid-way and resumed equals the uninterrupted run, bit for bit", async () => {
  const config = loadConfig("mnist-mlp", { overrides: TINY_MNIST });
  const whole: Checkpoint[] = [];
  const a = await runExperiment(config, {
    seed: 2,
    backend: "wasm",
    onCheckpoint: collect(whole),
  });
  assert.deepEqual(whole.map((c) => c.header.iteration), [3, 6, 9]);

  const controller = new AbortController();
  const partial: Checkpoint[] = [];
  await assert.rejects(
    runExperiment(config, {
      seed: 2,
      backend: "wasm",
      signal: controller.signal,
      onCheckpoint: collect(partial),
      onProgress: (p) => p.iteration === 5 && controller.abort(),
    }),
    (e: Error) => e.name === "AbortError",
  );
  const stopped = partial.at(-1)!;
  assert.equal(stopped.header.iteration, 5, "Ctrl-C saves the iteration it stopped at");
  // through the file format, as a real resume reads it
  const reread = decodeCheckpoint(encodeCheckpoint(stopped), "memory");
  const resumed: Checkpoint[] = [];
  const b = await runExperiment(config, {
    seed: 2,
    backend: "wasm",
    resume: reread,
    onCheckpoint: collect(resumed),
  });
  assert.equal(b.resumedFrom, 5);
  assert.equal(JSON.stringify(b.history), JSON.stringify(a.history));
  assert.equal(JSON.stringify(b.metrics), JSON.stringify(a.metrics));
  assert.equal(JSON.stringify(b.fingerprints), JSON.stringify(a.fingerprints));
  assert.equal(a.fingerprints.length, 9);
  const end = (list: Checkpoint[]) => list.at(-1)!;
  assert.equal(end(resumed).header.iteration, 9);
  assert.deepEqual(
    new Uint8Array(end(resumed).values.buffer),
    new Uint8Array(end(whole).values.buffer),
  );
  assert.deepEqual(end(resumed).header.optimizerSteps, { generator: 9, discriminator: 9 });
});

Deno.test("resuming from another config's checkpoint is refused", async () => {
  const config = loadConfig("mnist-mlp", { overrides: TINY_MNIST });
  const cps: Checkpoint[] = [];
  await runExperiment(config, {
    seed: 2,
    backend: "wasm",
    onCheckpoint: collect(cps),
  });
  const other = loadConfig("mnist-mlp", { overrides: [...TINY_MNIST, "training.batchSize=50"] });
  await assert.rejects(
    runExperiment(other, { seed: 2, backend: "wasm", resume: cps[0] }),
    /another config or seed/,
  );
  await assert.rejects(
    runExperiment(config, { seed: 3, backend: "wasm", resume: cps[0] }),
    /another config or seed/,
  );
});

Deno.test("tensor count stays flat over 1,000 steps of the paper's update (dropout, momentum)", async () => {
  const config = loadConfig("mnist-mlp", {
    overrides: [
      "generator.layers[0].units=16",
      "generator.layers[1].units=16",
      "discriminator.layers[0].units=8",
      "discriminator.layers[1].units=8",
      "training.batchSize=20",
      'training.budget={"iterations":1000}',
      "training.logEvery=100",
      "metrics.samples=100",
      ...NO_EXTRA_METRICS,
    ],
  });
  const before = tf.memory().numTensors;
  const counts: number[] = [];
  const bytes: number[] = [];
  await runExperiment(config, {
    seed: 1,
    backend: "wasm",
    onProgress: (p) => {
      if (p.iteration % 100 === 0) {
        counts.push(tf.memory().numTensors);
        bytes.push(tf.memory().numBytes);
      }
    },
  });
  assert.equal(counts.length, 10);
  assert.ok(counts.every((n) => n === counts[0]), `tensor counts drifted: ${counts}`);
  assert.ok(bytes.every((n) => n === bytes[0]), `tensor bytes drifted: ${bytes}`);
  assert.equal(tf.memory().numTensors, before);
});

Deno.test("divergence keeps the last healthy checkpoint", async () => {
  const config = loadConfig("gaussian-moments", {
    overrides: [
      "training.budget.iterations=12",
      "training.dSteps=3",
      "training.gSteps=2",
      "training.logEvery=1",
      "training.checkpointEvery=1",
      // the second generator update overflows float32
      "training.optimizers.generator.lr=1e25",
      "metrics.samples=100",
    ],
  });
  const cps: Checkpoint[] = [];
  const r = await runExperiment(config, {
    seed: 1,
    backend: "wasm",
    onCheckpoint: collect(cps),
  });
  assert.equal(r.status, "diverged");
  assert.equal(r.divergedAt, 2);
  assert.deepEqual(cps.map((c) => c.header.iteration), [1]);
  assert.ok(allFinite(cps[0].values));
});

Deno.test("CLI: Ctrl-C saves a checkpoint; --resume finishes it identically; a changed config is refused", async () => {
  const out = Deno.makeTempDirSync(), ref = Deno.makeTempDirSync();
  const sets = [
    'training.budget={"iterations":40}',
    "training.checkpointEvery=4",
    "training.logEvery=4",
    "metrics.samples=200",
    ...NO_EXTRA_METRICS,
  ].flatMap((s) => ["--set", s]);
  const args = ["mnist-mlp", "--backend", "wasm", ...sets];

  const child = new Deno.Command(Deno.execPath(), {
    args: benchArgs([...args, "--out", out]),
    cwd: join(import.meta.dirname!, ".."),
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  // wait for the progress line at 30% (12 of 40 iterations), then interrupt
  const decoder = new TextDecoder();
  let stderr = "";
  const reader = child.stderr.getReader();
  while (!/\] (1[2-9]|[23]\d)\/40/.test(stderr)) {
    const { value, done } = await reader.read();
    if (done) break;
    stderr += decoder.decode(value);
  }
  child.kill("SIGINT");
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    stderr += decoder.decode(value);
  }
  const status = await child.status;
  await child.stdout.cancel();
  assert.equal(status.code, 130, stderr);
  assert.match(stderr, /interrupted: mnist-mlp seed 1 stopped; checkpoint at iteration \d+/);
  assert.match(stderr, /--resume/);
  const runDir = runDirOf(out, "mnist-mlp", setsOf(args));
  assert.throws(() => Deno.statSync(join(runDir, "result.json")), Deno.errors.NotFound);

  const changed = await runBench([
    ...args,
    "--out",
    out,
    "--resume",
    "--set",
    "training.batchSize=50",
  ]);
  // another --set change is another variant with its own folder: nothing there to resume
  assert.equal(changed.code, 2);
  assert.match(changed.stderr, /mnist-mlp\+[0-9a-f]{8}\/seed-1 has no checkpoint/);
  assert.ok(!changed.stderr.includes(runDir), changed.stderr);

  const resumed = await runBench([...args, "--out", out, "--resume"]);
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.match(resumed.stderr, /resuming at iteration \d+/);
  const whole = await runBench([...args, "--out", ref]);
  assert.equal(whole.code, 0, whole.stderr);
  const read = (dir: string) =>
    JSON.parse(
      Deno.readTextFileSync(join(runDirOf(dir, "mnist-mlp", setsOf(args)), "result.json")),
    );
  const [x, y] = [read(out), read(ref)];
  assert.equal(JSON.stringify(x.history), JSON.stringify(y.history));
  assert.equal(JSON.stringify(x.metrics), JSON.stringify(y.metrics));
  assert.ok(x.resumedFrom > 0 && y.resumedFrom === null);

  const missing = await runBench([...args, "--out", Deno.makeTempDirSync(), "--resume"]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /has no checkpoint/);
  Deno.removeSync(out, { recursive: true });
  Deno.removeSync(ref, { recursive: true });
});

Deno.test("TFD's stacked stage starts from the pretraining stage's final generator", async () => {
  const dir = Deno.makeTempDirSync();
  const tfd = join(dir, "TFD_48x48.mat");
  const n = 120;
  const codes = Array.from(
    { length: n },
    (_, k) => k < 80 ? [0, 0, 0, 0, 0] : [0, 1, 2, 3, 4].map((f) => 1 + ((k + f) % 3)),
  );
  Deno.writeFileSync(tfd, tfdFixture(n, 48, codes));
  const small = [
    'training.budget={"iterations":2}',
    "training.batchSize=20",
    "training.checkpointEvery=1",
    "training.logEvery=1",
    "metrics.samples=50",
    "discriminator.layers[0].units=10",
    "discriminator.layers[1].units=10",
    ...NO_EXTRA_METRICS,
  ];
  const pre = loadConfig("tfd-mlp-pretrain", {
    overrides: [...small, "generator.layers[0].units=30", "generator.layers[1].units=40"],
  });
  const first: Checkpoint[] = [];
  await runExperiment(pre, {
    seed: 1,
    backend: "wasm",
    data: { tfd },
    onCheckpoint: collect(first),
  });

  const stacked = loadConfig("tfd-mlp", {
    overrides: [
      ...small,
      "generator.layers[0].units=12",
      "generator.layers[2].units=30",
      "generator.layers[3].units=40",
      // a vanishing step, so the first checkpoint still shows the loaded weights
      "training.optimizers.generator.lr=1e-30",
      "training.optimizers.generator.minLr=0",
    ],
  });
  const second: Checkpoint[] = [];
  const r = await runExperiment(stacked, {
    seed: 1,
    backend: "wasm",
    data: { tfd },
    pretrained: first.at(-1),
    onCheckpoint: collect(second),
  });
  assert.deepEqual(r.pretrainedFrom, {
    experiment: "tfd-mlp-pretrain",
    configHash: pre.configHash,
    iteration: 2,
  });
  const tensor = (cp: Checkpoint, name: string) => {
    const t = cp.header.tensors.find((x) => x.name === name)!;
    return cp.values.subarray(t.offset, t.offset + t.length);
  };
  for (const j of [0, 1, 2]) {
    for (const kind of ["W", "b"]) {
      const before = tensor(first.at(-1)!, `G/h${j}/${kind}`),
        after = tensor(second[0], `G/h${j + 2}/${kind}`);
      assert.equal(before.length, after.length);
      // max column norm rescales by norm / (norm + 1e-7) after each update, as pylearn2 did
      assert.ok(
        before.every((v, i) => Math.abs(v - after[i]) <= 1e-5 * Math.max(1, Math.abs(v))),
        `G/h${j}/${kind}`,
      );
    }
  }
  Deno.removeSync(dir, { recursive: true });
});

Deno.test("CLI: without TFD both TFD stages are skipped with the reason, and that is not a failure", async () => {
  const out = Deno.makeTempDirSync();
  const r = await runBench([
    "tfd-mlp",
    "--profile",
    "smoke",
    "--out",
    out,
    "--tfd",
    "/nonexistent/TFD_48x48.mat",
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /tfd-mlp-pretrain seed 1: skipped: .*not publicly distributed/);
  assert.match(r.stdout, /tfd-mlp seed 1: skipped: needs tfd-mlp-pretrain, which was skipped/);
  const skipped = JSON.parse(Deno.readTextFileSync(join(out, "tfd-mlp", "seed-1", "skipped.json")));
  assert.equal(skipped.experiment, "tfd-mlp");
  assert.match(skipped.reason, /not publicly distributed/);
  Deno.removeSync(out, { recursive: true });
});

Deno.test("CLI: --eval-only --resume scores a checkpoint without training; the final one reproduces the metrics", async () => {
  const out = Deno.makeTempDirSync();
  const sets = [
    "training.budget.iterations=12",
    "training.checkpointEvery=5",
    "metrics.samples=500",
  ]
    .flatMap((s) => ["--set", s]);
  const args = ["gaussian-moments", "--backend", "wasm", "--out", out, ...sets];
  assert.equal((await runBench(args)).code, 0);
  const path = join(runDirOf(out, "gaussian-moments", setsOf(sets)), "result.json");
  const trained = JSON.parse(Deno.readTextFileSync(path));
  const evaluated = await runBench([...args, "--resume", "--eval-only"]);
  assert.equal(evaluated.code, 0, evaluated.stderr);
  assert.match(evaluated.stderr, /evaluating the checkpoint of iteration 12/);
  const again = JSON.parse(Deno.readTextFileSync(path));
  assert.equal(again.evaluatedAtIteration, 12);
  assert.equal(JSON.stringify(again.metrics), JSON.stringify(trained.metrics));
  const refused = await runBench([...args, "--eval-only"]);
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /--eval-only scores a saved checkpoint: add --resume/);
  Deno.removeSync(out, { recursive: true });
});

Deno.test("an MNIST run reports Parzen beside Table 1, with the σ curve", async () => {
  const config = loadConfig("mnist-mlp", {
    profile: "smoke",
    overrides: [
      "training.budget.iterations=5",
      "metrics.parzen.samples=300",
      "metrics.parzen.validation=100",
    ],
  });
  const r = await runExperiment(config, { seed: 1, backend: "wasm" });
  const p = r.parzen!;
  assert.equal(p.centreCount, 300);
  assert.equal(p.validationCount, 100);
  assert.equal(p.testCount, 10_000);
  assert.equal(p.sigmaCurve.length, 10);
  assert.equal(
    p.sigma,
    p.sigmaCurve.reduce((a, b) => (b.validationLL > a.validationLL ? b : a)).sigma,
  );
  assert.equal(r.metrics.parzenMean, p.mean);
  assert.deepEqual({ mean: p.paper!.mean, se: p.paper!.se }, { mean: 225, se: 2 });
  assert.equal(p.paper!.delta, p.mean - 225);
  assert.equal(p.trainingSetReference, null);
});

Deno.test("drawing the simultaneous update's noise and masks ahead in a worker changes no number", async () => {
  const config = loadConfig("mnist-mlp", {
    profile: "smoke",
    overrides: [...NO_EXTRA_METRICS, 'training.budget={"iterations":6}', "training.logEvery=1"],
  });
  const ahead = await runExperiment(config, { seed: 3, backend: "wasm" });
  const inline = await runExperiment(config, { seed: 3, backend: "wasm", prefetchDraws: false });
  assert.deepEqual(ahead.fingerprints, inline.fingerprints);
  assert.deepEqual(ahead.history, inline.history);
  assert.deepEqual(ahead.draws, inline.draws);
});

Deno.test("the draw worker returns exactly the inline draws, for an epoch's short last batch too", async () => {
  const real = openRealData({ kind: "mnist", scale: "unit" }, new Rng(4), 64);
  const last = real.batchesPerEpoch! - 1; // 50,000 = 781 × 64 + 16
  assert.equal(real.rowsAt(last), 16);
  const noise = { kind: "uniform", dim: 100, low: -1, high: 1 } as const;
  const plan = [
    { units: 784, rule: { keep: 0.8, scale: 1.25 } },
    null,
    { units: 240, rule: { keep: 0.5, scale: 2 } },
  ];
  const jobsOf = (t: number): DrawJob[] => [
    { kind: "noise", stream: "train/z", step: t, rows: real.rowsAt(t), noise },
    { kind: "masks", stream: "D/dropout/real", step: t, rows: real.rowsAt(t), plan },
  ];
  const prefetch = new DrawPrefetcher(9, jobsOf);
  try {
    for (const t of [last, last + 1]) {
      const [[z], masks] = await prefetch.take(t);
      const rng = new Rng(9);
      assert.deepEqual(z, sampleNoise(noise, rng.stream("train/z").at(t), real.rowsAt(t)));
      assert.deepEqual(masks, dropoutMasksFrom(rng, plan, "D/dropout/real", t, real.rowsAt(t)));
    }
  } finally {
    prefetch.close();
  }
});
