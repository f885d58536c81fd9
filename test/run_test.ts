/** The training loop end to end, on shortened runs: determinism, memory, divergence, backends. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { queryWebGpuAdapter } from "../src/backend/select.ts";
import { tf } from "../src/backend/tf.ts";
import { loadConfig } from "../src/config/load.ts";
import { runExperiment } from "../src/train/run.ts";
import { runBench, runDirOf } from "./helpers.ts";

const SHORT = [
  "training.budget.iterations=12",
  "training.dSteps=3",
  "training.gSteps=2",
  "training.logEvery=2",
  "metrics.samples=2000",
];
const short = (extra: string[] = [], name = "gaussian-moments") =>
  loadConfig(name, { overrides: [...SHORT, ...extra] });

Deno.test("same config + seed + backend: byte-identical history and metrics; another seed differs", async () => {
  const config = short();
  const a = await runExperiment(config, { seed: 5, backend: "wasm" });
  const b = await runExperiment(config, { seed: 5, backend: "wasm" });
  const c = await runExperiment(config, { seed: 6, backend: "wasm" });
  assert.equal(a.status, "completed");
  assert.deepEqual(a.history.step, [2, 4, 6, 8, 10, 12]);
  assert.equal(JSON.stringify(a.history), JSON.stringify(b.history));
  assert.equal(JSON.stringify(a.metrics), JSON.stringify(b.metrics));
  assert.equal(JSON.stringify(a.histogram), JSON.stringify(b.histogram));
  assert.notEqual(JSON.stringify(a.history), JSON.stringify(c.history));
  assert.notEqual(JSON.stringify(a.metrics), JSON.stringify(c.metrics));
  for (const key of ["dLoss", "gLoss", "dReal", "dFake"] as const) {
    assert.equal(a.history[key].length, 6);
    assert.ok(a.history[key].every(Number.isFinite), key);
  }
  assert.ok(a.history.dReal.every((p) => p > 0 && p < 1));
});

Deno.test("the blog variant (Adam, data-and-diffs input) is deterministic too", async () => {
  const config = short(["metrics.samples=500"], "gaussian-moments-blog");
  const a = await runExperiment(config, { seed: 2, backend: "wasm" });
  const b = await runExperiment(config, { seed: 2, backend: "wasm" });
  assert.equal(JSON.stringify([a.history, a.metrics]), JSON.stringify([b.history, b.metrics]));
});

Deno.test("tensor count stays flat through training and returns to its start", async () => {
  const config = short(["training.budget.iterations=300", "training.logEvery=10"]);
  await tf.setBackend("wasm");
  const before = tf.memory().numTensors;
  const seen: number[] = [];
  await runExperiment(config, {
    seed: 1,
    backend: "wasm",
    onProgress: (p) => {
      if (p.iteration % 50 === 0) seen.push(tf.memory().numTensors);
    },
  });
  assert.equal(seen.length, 6);
  assert.ok(seen.every((n) => n === seen[0]), `tensor counts drifted: ${seen}`);
  assert.equal(tf.memory().numTensors, before);
});

Deno.test("a non-finite loss ends the run as diverged, with the iteration recorded", async () => {
  const config = short([
    // G's weights overflow float32 on the first update; the next losses are NaN
    "training.optimizers.generator.lr=1e38",
    "training.logEvery=1",
  ]);
  const r = await runExperiment(config, { seed: 1, backend: "wasm" });
  assert.equal(r.status, "diverged");
  assert.equal(r.divergedAt, 2);
  assert.ok(Number.isNaN(r.history.gLoss[1]));
  assert.equal(r.history.step.at(-1), r.divergedAt);
  assert.deepEqual(r.metrics, {});
});

Deno.test("an aborted run stops with an AbortError and frees its tensors", async () => {
  const controller = new AbortController();
  await tf.setBackend("wasm");
  const before = tf.memory().numTensors;
  await assert.rejects(
    runExperiment(short(["training.budget.iterations=1000"]), {
      seed: 1,
      backend: "wasm",
      signal: controller.signal,
      onProgress: (p) => p.iteration === 5 && controller.abort(),
    }),
    (e: Error) => e.name === "AbortError",
  );
  assert.equal(tf.memory().numTensors, before);
});

const adapter = await queryWebGpuAdapter();
Deno.test({
  name: "webgpu (software adapter) agrees with wasm to 1e-4 relative on a short run",
  ignore: adapter === null,
  async fn() {
    const config = short(["training.budget.iterations=6", "training.logEvery=1"]);
    const gpu = await runExperiment(config, { seed: 1, backend: "webgpu" });
    const cpu = await runExperiment(config, { seed: 1, backend: "wasm" });
    assert.equal(gpu.backend.name, "webgpu");
    assert.equal(gpu.backend.adapter?.description, adapter!.description);
    assert.equal(cpu.backend.adapter, null);
    const near = (x: number, y: number, what: string) =>
      assert.ok(Math.abs(x - y) <= 1e-4 * Math.max(Math.abs(y), 1e-3), `${what}: ${x} vs ${y}`);
    for (const key of ["dLoss", "gLoss", "dReal", "dFake"] as const) {
      gpu.history[key].forEach((v, i) => near(v, cpu.history[key][i], `${key}[${i}]`));
    }
    for (const [k, v] of Object.entries(cpu.metrics)) near(gpu.metrics[k], v, k);
  },
});
if (adapter === null) console.warn("webgpu test skipped: navigator.gpu gave no adapter here");

Deno.test("CLI writes config.json, result.json and report.html atomically", async () => {
  const out = Deno.makeTempDirSync();
  // leftovers of an earlier run in the same folder do not survive a fresh run
  const dir = runDirOf(out, "gaussian-moments", SHORT, 3);
  Deno.mkdirSync(dir, { recursive: true });
  Deno.writeTextFileSync(join(dir, "skipped.json"), "{}");
  const r = await runBench([
    "gaussian-moments",
    "--seed",
    "3",
    "--backend",
    "wasm",
    "--out",
    out,
    ...SHORT.flatMap((s) => ["--set", s]),
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name).sort(), [
    "checkpoints",
    "config.json",
    "report.html",
    "result.json",
    "samples",
  ]);
  const result = JSON.parse(Deno.readTextFileSync(join(dir, "result.json")));
  for (
    const key of [
      "experiment",
      "seed",
      "config",
      "configHash",
      "backend",
      "versions",
      "history",
      "metrics",
      "status",
      "wallSeconds",
    ]
  ) assert.ok(key in result, key);
  assert.equal(result.experiment, "gaussian-moments");
  assert.equal(result.seed, 3);
  assert.equal(result.backend.name, "wasm");
  assert.equal(result.trainStep, "autodiff");
  assert.equal(result.config.training.budget.iterations, 12);
  assert.equal(result.configHash, loadConfig("gaussian-moments", { overrides: SHORT }).configHash);
  assert.match(result.versions.tfjs, /^4\.22\.0$/);
  for (const k of ["step", "dLoss", "gLoss", "dReal", "dFake"]) {
    assert.equal(result.history[k].length, 6);
  }
  assert.match(r.stdout, /gaussian-moments seed 3: completed/);
  const page = Deno.readTextFileSync(join(dir, "report.html"));
  assert.match(page, /<svg [^>]*class="chart"[^>]*><title id="chart-\d+-title">Losses<\/title>/);
  assert.ok(page.includes("fakeMean"));
  assert.match(page, /<th[^>]*>train step<\/th>\s*<td[^>]*>autodiff \(TF\.js gradients\)/);
  assert.ok(Deno.statSync(join(out, "index.html")).isFile);
  Deno.removeSync(out, { recursive: true });
});

Deno.test("CLI --seeds runs every seed; each equals its single-seed run; bad seed lists exit 2", async () => {
  const out = Deno.makeTempDirSync(), single = Deno.makeTempDirSync();
  const sets = SHORT.flatMap((s) => ["--set", s]);
  const many = await runBench([
    "gaussian-moments",
    "--backend",
    "wasm",
    "--seeds",
    "2",
    "--out",
    out,
    ...sets,
  ]);
  assert.equal(many.code, 0, many.stderr);
  assert.match(many.stdout, /seed 1: completed[\s\S]*seed 2: completed/);
  const one = await runBench([
    "gaussian-moments",
    "--backend",
    "wasm",
    "--seed",
    "2",
    "--out",
    single,
    ...sets,
  ]);
  assert.equal(one.code, 0, one.stderr);
  const history = (dir: string) =>
    JSON.stringify(
      JSON.parse(
        Deno.readTextFileSync(join(runDirOf(dir, "gaussian-moments", SHORT, 2), "result.json")),
      )
        .history,
    );
  assert.equal(history(out), history(single));
  const list = await runBench([
    "gaussian-moments",
    "--backend",
    "wasm",
    "--seeds",
    "3,5",
    "--out",
    out,
    ...sets,
  ]);
  assert.equal(list.code, 0, list.stderr);
  for (const s of [3, 5]) {
    Deno.statSync(join(runDirOf(out, "gaussian-moments", SHORT, s), "result.json"));
  }
  for (
    const [args, message] of [
      [["--seed", "1", "--seeds", "2"], /give --seed or --seeds, not both/],
      [["--seeds", "0"], /expected a count ≥ 1/],
      [["--seeds", "1,1"], /repeats a seed/],
      [["--seeds", "1,x"], /--seeds: found "x"/],
    ] as const
  ) {
    const r = await runBench(["gaussian-moments", ...args]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, message);
  }
  Deno.removeSync(out, { recursive: true });
  Deno.removeSync(single, { recursive: true });
});

Deno.test("CLI --dry-run checks configs and data, prints the plan, writes and trains nothing", async () => {
  const out = Deno.makeTempDirSync();
  Deno.removeSync(out);
  const r = await runBench([
    "gaussian-moments",
    "tfd-mlp-pretrain",
    "--dry-run",
    "--seeds",
    "2",
    "--out",
    out,
    "--tfd",
    "/nonexistent/TFD_48x48.mat",
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(
    r.stdout,
    /gaussian-moments \(paper, seeds 1,2\): ok: sampled gaussian data; 5000 iterations per seed/,
  );
  assert.match(
    r.stdout,
    /tfd-mlp-pretrain \(paper, seeds 1,2\): would be skipped: .*not publicly distributed/,
  );
  assert.throws(() => Deno.statSync(out), Deno.errors.NotFound);
  const bad = Deno.makeTempDirSync();
  Deno.writeFileSync(join(bad, "train-images-idx3-ubyte"), new Uint8Array(10));
  const corrupt = await runBench(["mnist-mlp", "--dry-run", "--mnist", bad]);
  assert.equal(corrupt.code, 3, "a data error: exit 3 (src/cli/exit.ts)");
  assert.match(
    corrupt.stdout,
    /mnist-mlp \(paper, seeds 1\): data error: .*train-images-idx3-ubyte/,
  );
  Deno.removeSync(bad, { recursive: true });
});
