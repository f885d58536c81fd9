/**
 * Long runs: extending a run's budget on resume equals a run started with the larger budget;
 * tracked scores change no training number; milestones can be scored later; a checkpoint
 * with any flipped bit is refused.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { selectBackend } from "../src/backend/select.ts";
import { ConfigError } from "../src/config/errors.ts";
import { loadConfig } from "../src/config/load.ts";
import {
  type Checkpoint,
  CheckpointError,
  decodeCheckpoint,
  encodeCheckpoint,
} from "../src/record/checkpoint.ts";
import { runExperiment } from "../src/train/run.ts";
import { runBench, runDirOf, setsOf } from "./helpers.ts";

await selectBackend("wasm");

const collect = (list: Checkpoint[]) => (cp: Checkpoint) => {
  list.push(cp);
  return Promise.resolve();
};

/** A few iterations of mnist-mlp with a small Parzen protocol (100 centres, 50 validation rows). */
const SHORT = [
  "training.checkpointEvery=3",
  "training.logEvery=1",
  "metrics.samples=100",
  'metrics.parzen={"samples":100,"validation":50,"trainingSetReference":false}',
  "metrics.classifier=null",
  "metrics.nearestTraining=null",
  "training.milestones=null",
  "metrics.track=null",
];
const budget = (n: number) => `training.budget={"iterations":${n}}`;
const TRACK = 'metrics.track={"every":{"iterations":2},"parzen":true,"classifier":false}';

Deno.test("extending a run from budget 4 to 8 equals a run started with budget 8, bit for bit", async () => {
  const long = loadConfig("mnist-mlp", { overrides: [...SHORT, TRACK, budget(8)] });
  const direct = await runExperiment(long, { seed: 3, backend: "wasm" });

  const short = loadConfig("mnist-mlp", { overrides: [...SHORT, TRACK, budget(4)] });
  const first: Checkpoint[] = [];
  const part = await runExperiment(short, {
    seed: 3,
    backend: "wasm",
    onCheckpoint: collect(first),
  });
  assert.equal(part.iterations, 4);
  const cp = decodeCheckpoint(encodeCheckpoint(first.at(-1)!), "memory");
  assert.equal(cp.header.iteration, 4);
  const extended = await runExperiment(long, { seed: 3, backend: "wasm", resume: cp });

  assert.equal(extended.iterations, 8);
  assert.deepEqual(extended.fingerprints, direct.fingerprints);
  assert.equal(JSON.stringify(extended.history), JSON.stringify(direct.history));
  assert.equal(JSON.stringify(extended.metrics), JSON.stringify(direct.metrics));
  assert.deepEqual(extended.draws, direct.draws, "the draw counters carry over too");
  const scores = (r: typeof direct) => r.tracked!.map((p) => [p.iteration, p.parzen]);
  assert.deepEqual(scores(extended), scores(direct));
  assert.deepEqual(direct.tracked!.map((p) => p.iteration), [2, 4, 6, 8]);
  assert.deepEqual(
    extended.segments!.map((s) => [s.fromIteration, s.toIteration, s.budget.iterations]),
    [[0, 4, 4], [4, 8, 8]],
  );

  await assert.rejects(
    runExperiment(loadConfig("mnist-mlp", { overrides: [...SHORT, TRACK, budget(3)] }), {
      seed: 3,
      backend: "wasm",
      resume: cp,
    }),
    /training.budget: 3 iterations is fewer than the 4 this run has done/,
  );
});

Deno.test("tracking scores change no training number; the last point equals the final Parzen", async () => {
  const plain = await runExperiment(loadConfig("mnist-mlp", { overrides: [...SHORT, budget(4)] }), {
    seed: 5,
    backend: "wasm",
  });
  const tracked = await runExperiment(
    loadConfig("mnist-mlp", { overrides: [...SHORT, TRACK, budget(4)] }),
    { seed: 5, backend: "wasm" },
  );
  assert.deepEqual(tracked.fingerprints, plain.fingerprints);
  assert.equal(JSON.stringify(tracked.metrics), JSON.stringify(plain.metrics));
  assert.equal(plain.tracked, undefined);
  const last = tracked.tracked!.at(-1)!;
  assert.equal(last.iteration, 4);
  assert.deepEqual(last.parzen, {
    mean: plain.metrics.parzenMean,
    se: plain.metrics.parzenSe,
    sigma: plain.metrics.parzenSigma,
  });
  assert.ok(Math.abs(last.learningRate.generator - 0.1 / 1.000004 ** 4) < 1e-12);
  assert.equal(last.epoch, 4 / 500);
  assert.ok(
    last.parzenDiagnostics!.fine.sigma >= 0.13 && last.parzenDiagnostics!.fine.sigma <= 0.26,
  );
});

Deno.test("bad tracking and budget input gets a one-line reason naming the field", () => {
  const message = (overrides: string[], name = "mnist-mlp") => {
    try {
      loadConfig(name, { overrides });
    } catch (e) {
      assert.ok(e instanceof ConfigError);
      return e.message;
    }
    assert.fail("accepted");
  };
  assert.match(
    message([...SHORT, 'metrics.track={"every":{"epochs":0},"parzen":true,"classifier":false}']),
    /\$\.metrics\.track\.every\.epochs: found 0 \(number\); expected a number ≥ 1/,
  );
  assert.match(
    message([...SHORT, 'metrics.track={"every":{"epochs":-5},"parzen":true,"classifier":false}']),
    /\$\.metrics\.track\.every\.epochs: found -5 \(number\); expected a number ≥ 1/,
  );
  assert.match(
    message([...SHORT, 'metrics.track={"every":{"epochs":5},"parzen":false,"classifier":false}']),
    /\$\.metrics\.track: .*asks for neither parzen nor classifier/,
  );
  assert.match(
    message(
      ['metrics.track={"every":{"iterations":5},"parzen":true,"classifier":false}'],
      "gaussian-moments",
    ),
    /\$\.metrics\.track: .*1-D experiments do not have/,
  );
});

Deno.test("a flipped bit anywhere in a checkpoint, or a cut one, is refused in one line", async () => {
  const cps: Checkpoint[] = [];
  await runExperiment(loadConfig("mnist-mlp", { overrides: [...SHORT, budget(3)] }), {
    seed: 1,
    backend: "wasm",
    onCheckpoint: collect(cps),
  });
  const bytes = encodeCheckpoint(cps[0]);
  const headerEnd = 4 + new DataView(bytes.buffer).getUint32(0, true);
  // a byte in the header, in the first and last weight, and in the digest itself
  for (const at of [headerEnd - 10, headerEnd + 1, bytes.length - 40, bytes.length - 1]) {
    const bad = bytes.slice();
    bad[at] ^= 0x04;
    assert.throws(
      () => decodeCheckpoint(bad, "latest.ckpt"),
      (e: Error) =>
        e instanceof CheckpointError && !e.message.includes("\n") &&
        e.message.startsWith("latest.ckpt: not a usable checkpoint ("),
      `byte ${at}`,
    );
  }
  assert.throws(
    () => decodeCheckpoint(bytes.subarray(0, bytes.length - 100), "cut.ckpt"),
    /cut.ckpt: not a usable checkpoint \(\d+ bytes of values, expected \d+ \(truncated\?\)\)/,
  );
  assert.throws(() => decodeCheckpoint(new Uint8Array(0), "empty.ckpt"), /0 bytes: too short/);
  // a file from before digests (format 1: no trailer) is still read
  const header = new TextEncoder().encode(JSON.stringify({ ...cps[0].header, format: 1 }));
  const v1 = concat(
    new Uint8Array(new Uint32Array([header.length]).buffer),
    header,
    new Uint8Array(cps[0].values.buffer, cps[0].values.byteOffset, cps[0].values.byteLength),
  );
  assert.deepEqual(decodeCheckpoint(v1, "old.ckpt").values, cps[0].values);
});

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

Deno.test("CLI: --resume extends to a raised budget, refuses other changes and a lower budget; milestones are scored apart", async () => {
  const out = Deno.makeTempDirSync();
  const args = (
    n: number,
    extra: string[] = [],
  ) => [
    "mnist-mlp",
    "--out",
    out,
    "--backend",
    "wasm",
    ...[...SHORT, budget(n), ...extra].flatMap((s) => ["--set", s]),
  ];
  const milestones = 'training.milestones={"every":{"iterations":2},"keep":"generator"}';
  assert.equal((await runBench(args(4, [milestones]))).code, 0);
  // a --set variant: its own folder, the same for every budget
  const dir = runDirOf(out, "mnist-mlp", setsOf(args(4, [milestones])));
  assert.equal(dir, runDirOf(out, "mnist-mlp", setsOf(args(6, [milestones]))));
  assert.match(dir, /mnist-mlp\+[0-9a-f]{8}\/seed-1$/);
  const atFour = JSON.parse(Deno.readTextFileSync(join(dir, "result.json")));
  Deno.removeSync(join(dir, "config.json"));

  // another change than the budget is another variant, in another folder: nothing to resume
  const other = await runBench([...args(6, [milestones, "training.batchSize=50"]), "--resume"]);
  assert.equal(other.code, 2);
  assert.match(other.stderr, /mnist-mlp\+[0-9a-f]{8}\/seed-1 has no checkpoint/);
  assert.ok(!other.stderr.includes(dir), other.stderr);

  const lower = await runBench([...args(3, [milestones]), "--resume"]);
  assert.equal(lower.code, 2);
  assert.match(
    lower.stderr,
    /training.budget: 3 iterations is fewer than the 4 the run in .* has done/,
  );

  const extend = await runBench([...args(6, [milestones]), "--resume"]);
  assert.equal(extend.code, 0, extend.stderr);
  assert.match(extend.stderr, /extending the run \(a new budget\) from iteration 4/);
  const result = JSON.parse(Deno.readTextFileSync(join(dir, "result.json")));
  assert.equal(result.iterations, 6);
  assert.deepEqual(result.milestones, [2, 4, 6]);
  const written = JSON.parse(Deno.readTextFileSync(join(dir, "config.json")));
  assert.equal(written.configHash, result.configHash, "config.json now holds the extended config");

  const scored = await runBench([
    ...args(6, [milestones]),
    "--resume",
    "--eval-only",
    "--milestone",
    "4",
  ]);
  assert.equal(scored.code, 0, scored.stderr);
  const at4 = JSON.parse(Deno.readTextFileSync(join(dir, "evaluations", "iter-0000004.json")));
  assert.equal(at4.evaluatedAtIteration, 4);
  assert.equal(
    JSON.stringify(at4.metrics),
    JSON.stringify(atFour.metrics),
    "the generator kept at 4 scores as the run did when it ended at 4",
  );
  const first = JSON.parse(Deno.readTextFileSync(join(dir, "result.json")));
  assert.equal(first.evaluatedAtIteration, 6, "the run's own result is untouched");
  Deno.removeSync(out, { recursive: true });
});
