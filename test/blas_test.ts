/**
 * The OpenBLAS path (wasm+openblas) and the wasm kernel replacements: products against
 * the cpu backend, exact equality where nothing may change, determinism at any thread count,
 * flat memory, the fallback without FFI, and the FLOP count against a hand computation.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { unrunnableCoreMessage } from "../src/backend/blas-probe.ts";
import { openBlas, openBlasUnavailableReason } from "../src/backend/openblas.ts";
import { selectBackend } from "../src/backend/select.ts";
import { tf } from "../src/backend/tf.ts";
import {
  blasCounters,
  blasKernelsActive,
  momentumIncrementWasm,
  momentumStepInPlaceWasm,
} from "../src/backend/wasm-kernels.ts";
import { loadConfig } from "../src/config/load.ts";
import { nearestRows } from "../src/metrics/distances.ts";
import { parzenLogLikelihoods } from "../src/metrics/parzen.ts";
import { maxout } from "../src/models/ops.ts";
import type { Checkpoint } from "../src/record/checkpoint.ts";
import { runExperiment } from "../src/train/run.ts";
import { MNIST_SHORT, runBench, runDeno, runDirOf } from "./helpers.ts";

const blas = openBlas();
const ignore = blas === null;
if (ignore) {
  console.warn(`OpenBLAS tests skipped: ${openBlasUnavailableReason()} (Debian: libopenblas0)`);
}

async function valuesOn(
  backend: "cpu" | "wasm" | "wasm+openblas",
  f: () => tf.Tensor,
): Promise<Float32Array> {
  await selectBackend(backend);
  const t = f();
  const v = await t.data() as Float32Array;
  t.dispose();
  return v;
}

/** Deterministic pseudo-random values without touching any backend. */
function values(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    out[i] = x / 2 ** 32 - 0.5;
  }
  return out;
}

Deno.test({
  name: "matMul on OpenBLAS equals the cpu backend: transposes, batches, broadcast, empty",
  ignore,
  async fn() {
    const cases: [number[], number[], boolean, boolean][] = [
      [[100, 784], [784, 1200], false, false],
      [[100, 1200], [784, 1200], false, true],
      [[100, 784], [100, 1200], true, false],
      [[37, 53], [91, 37], true, true],
      [[3, 5, 7], [3, 7, 2], false, false],
      [[3, 5, 7], [7, 2], false, false],
      [[1, 5, 7], [4, 2, 7], false, true],
      [[5, 0], [0, 3], false, false],
    ];
    for (const [sa, sb, ta, tb] of cases) {
      const a = values(sa.reduce((p, d) => p * d, 1), 1);
      const b = values(sb.reduce((p, d) => p * d, 1), 2);
      const product = () => tf.matMul(tf.tensor(a, sa), tf.tensor(b, sb), ta, tb);
      const want = await valuesOn("cpu", product);
      const got = await valuesOn("wasm+openblas", product);
      assert.equal(got.length, want.length);
      const k = ta ? sa.at(-2)! : sa.at(-1)!;
      for (let i = 0; i < want.length; i++) {
        // float32 sums of k products of magnitude ≤ 0.25, in another order
        assert.ok(
          Math.abs(got[i] - want[i]) <= 1e-6 * k,
          `${sa}·${sb}[${i}]: ${got[i]} vs ${want[i]}`,
        );
      }
      if (want.length === 15) assert.ok(got.every((v) => v === 0), "an empty inner product is 0");
    }
  },
});

Deno.test({
  name: "the kernel counts its FLOPs, and plain wasm gets its own kernel back",
  ignore,
  async fn() {
    const a = values(64 * 32, 3), b = values(32 * 16, 4);
    const product = () => tf.matMul(tf.tensor(a, [64, 32]), tf.tensor(b, [32, 16]));
    const before = blasCounters();
    const onBlas = await valuesOn("wasm+openblas", product);
    assert.ok(blasKernelsActive());
    const after = blasCounters();
    assert.equal(after.calls - before.calls, 1);
    assert.equal(after.flops - before.flops, 2 * 64 * 32 * 16);
    const onWasm = await valuesOn("wasm", product);
    assert.ok(!blasKernelsActive());
    assert.equal(blasCounters().calls, after.calls, "plain wasm must not call OpenBLAS");
    const onCpu = await valuesOn("cpu", product);
    for (let i = 0; i < onCpu.length; i++) {
      assert.ok(Math.abs(onWasm[i] - onCpu[i]) <= 1e-5 && Math.abs(onBlas[i] - onCpu[i]) <= 1e-5);
    }
  },
});

Deno.test("wasm's shared Identity: a clone outlives its source, values intact", async () => {
  await selectBackend("wasm");
  const source = tf.tensor([1, 2, 3, 4], [2, 2]);
  const copy = tf.clone(source);
  source.dispose();
  assert.deepEqual([...await copy.data()], [1, 2, 3, 4]);
  copy.dispose();
});

Deno.test("maxout on the wasm heap equals tf.max / tf.argMax on the cpu backend, values and gradients", async () => {
  // ties included: the gradient goes to the first maximal piece
  const z = Float32Array.from(values(6 * 20, 5), (v, i) => i % 7 === 0 ? 0.25 : v);
  z[3] = z[4] = 0.49; // a tie within one group of 5
  const run = async (backend: "cpu" | "wasm") => {
    await selectBackend(backend);
    const x = tf.tensor(z, [6, 20]);
    const dy = tf.tensor(values(6 * 4, 6), [6, 4]);
    const value = maxout(x, 5);
    const grads = tf.grads((t: tf.Tensor) => tf.sum(tf.mul(maxout(t, 5), dy)))([x]);
    const out = [await value.data() as Float32Array, await grads[0].data() as Float32Array];
    tf.dispose([x, dy, value, ...grads]);
    return out;
  };
  const [cpuValue, cpuGrad] = await run("cpu");
  const [wasmValue, wasmGrad] = await run("wasm");
  // equal as numbers (the one-hot product writes −0 where the scatter writes 0)
  const numbers = (a: Float32Array) => [...a].map((v) => v + 0);
  assert.deepEqual(numbers(wasmValue), numbers(cpuValue));
  assert.deepEqual(numbers(wasmGrad), numbers(cpuGrad));
});

Deno.test({
  name: "wasm+openblas: same config + seed, any thread count → identical fingerprints; recorded",
  ignore,
  async fn() {
    const config = loadConfig("mnist-mlp", { profile: "smoke", overrides: MNIST_SHORT });
    const a = await runExperiment(config, { seed: 4, backend: "wasm+openblas" });
    const b = await runExperiment(config, { seed: 4, backend: "wasm+openblas", blasThreads: 2 });
    assert.equal(b.backend.blas?.threads, 2);
    assert.deepEqual(a.fingerprints, b.fingerprints);
    assert.deepEqual(a.history, b.history);
    assert.deepEqual(a.metrics, b.metrics);
    assert.equal(a.backend.name, "wasm+openblas");
    assert.equal(a.backend.blas?.threads, 1);
    assert.match(a.backend.blas?.config ?? "", /^OpenBLAS \d+\.\d+/);
    // the plain path is a different backend: close, not equal
    const w = await runExperiment(config, { seed: 4, backend: "wasm" });
    assert.equal(w.backend.blas, null);
    assert.notDeepEqual(w.fingerprints, a.fingerprints);
    w.history.dLoss.forEach((v, i) =>
      assert.ok(
        Math.abs(v - a.history.dLoss[i]) < 1e-3,
        `dLoss[${i}]: ${v} vs ${a.history.dLoss[i]}`,
      )
    );
  },
});

Deno.test({
  name: "wasm+openblas: tensors and wasm heap flat over 150 mnist-mlp iterations",
  ignore,
  async fn() {
    const config = loadConfig("mnist-mlp", {
      profile: "smoke",
      overrides: [...MNIST_SHORT, 'training.budget={"iterations":150}', "training.logEvery=10"],
    });
    const seen: { tensors: number; bytes: number }[] = [];
    await runExperiment(config, {
      seed: 1,
      backend: "wasm+openblas",
      onProgress: (p) => {
        if (p.iteration % 10 === 0) {
          const m = tf.memory();
          seen.push({ tensors: m.numTensors, bytes: m.numBytes });
        }
      },
    });
    const later = seen.slice(2);
    assert.ok(later.length >= 10);
    assert.ok(later.every((s) => s.tensors === later[0].tensors), JSON.stringify(later));
    assert.ok(later.every((s) => s.bytes === later[0].bytes), JSON.stringify(later));
  },
});

Deno.test("without --allow-ffi: auto falls back to plain wasm; asking for OpenBLAS says why", async () => {
  const out = Deno.makeTempDirSync();
  // the bench task's permissions, less --allow-ffi
  const withoutFfi = ["run", "--allow-read", "--allow-write", "--allow-env", "--allow-run=git"];
  const r = await runDeno([
    ...withoutFfi,
    "src/cli/bench.ts",
    "gaussian-moments",
    "--set",
    "training.budget.iterations=2",
    "--set",
    "metrics.samples=100",
    "--out",
    out,
  ]);
  assert.equal(r.code, 0, r.stderr);
  const dir = runDirOf(out, "gaussian-moments", [
    "training.budget.iterations=2",
    "metrics.samples=100",
  ]);
  const result = JSON.parse(Deno.readTextFileSync(join(dir, "result.json")));
  assert.equal(result.backend.name, "wasm");
  assert.equal(result.backend.blas, null);
  const refused = await runDeno([
    ...withoutFfi,
    "src/cli/bench.ts",
    "gaussian-moments",
    "--backend",
    "wasm+openblas",
    "--out",
    out,
  ]);
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr, /wasm\+openblas: Deno runs without --allow-ffi/);
});

Deno.test("a forced OpenBLAS kernel family that fails its probe product is refused in one line", () => {
  const sigill = { success: false, code: 132, signal: "SIGILL" as const };
  assert.equal(
    unrunnableCoreMessage("SkylakeX", "SkylakeX", sigill),
    "OPENBLAS_CORETYPE=SkylakeX makes OpenBLAS use its SkylakeX kernels, and a product on " +
      "them is stopped by SIGILL on this CPU (an instruction it lacks): unset " +
      "OPENBLAS_CORETYPE or name a family this CPU supports " +
      "(docs/performance.md#openblas-and-this-machines-cpu)",
  );
  assert.match(
    unrunnableCoreMessage("zen", "Zen", { success: false, code: 1, signal: null }),
    /^OPENBLAS_CORETYPE=zen makes OpenBLAS use its Zen kernels, and a product on them exits with 1 on this CPU \(a crash\)/,
  );
  assert.equal(unrunnableCoreMessage("Zen", "Zen", { success: true, code: 0, signal: null }), "");
});

Deno.test({
  name: "OPENBLAS_CORETYPE=SkylakeX: used where the CPU runs it, refused in one line (exit 2, " +
    "nothing written) where it would die of SIGILL",
  ignore,
  async fn() {
    const path = "libopenblas.so.0";
    const env = { OPENBLAS_CORETYPE: "SkylakeX" };
    const probe = await new Deno.Command(Deno.execPath(), {
      args: [
        "eval",
        "--no-config",
        `import { probeProduct } from "${
          new URL("../src/backend/blas-probe.ts", import.meta.url).href
        }"; console.log(JSON.stringify(probeProduct("${path}")))`,
      ],
      env,
      stdout: "piped",
    }).output();
    const status = JSON.parse(new TextDecoder().decode(probe.stdout));
    const out = Deno.makeTempDirSync();
    const r = await runBench(
      [
        "gaussian-moments",
        "--backend",
        "wasm+openblas",
        "--set",
        "training.budget.iterations=2",
        "--out",
        out,
      ],
      env,
    );
    if (status.success) {
      assert.equal(r.code, 0, r.stderr);
      const result = JSON.parse(
        Deno.readTextFileSync(join(out, "gaussian-moments/seed-1/result.json")),
      );
      assert.equal(result.backend.blas.core, "SkylakeX");
    } else {
      assert.equal(status.signal, "SIGILL");
      assert.equal(r.code, 2, r.stderr);
      assert.equal(
        r.stderr.split("\n")[0],
        `error: --backend wasm+openblas: ${unrunnableCoreMessage("SkylakeX", "SkylakeX", status)}`,
      );
      assert.deepEqual([...Deno.readDirSync(out)], []);
      // auto with a family forced does not fall back to plain wasm unseen
      const auto = await runBench(["gaussian-moments", "--out", out], env);
      assert.equal(auto.code, 2, auto.stderr);
      assert.match(auto.stderr, /^error: --backend auto: OPENBLAS_CORETYPE=SkylakeX makes/);
      assert.deepEqual([...Deno.readDirSync(out)], []);
    }
  },
});

Deno.test({
  name: "bench --blas-threads N is recorded (default: every core), and refused when not a " +
    "positive integer",
  ignore,
  async fn() {
    const run = async (out: string, ...flags: string[]) => {
      const args = ["gaussian-moments", "--set", "training.budget.iterations=2", "--out", out];
      const r = await runBench([...args, ...flags]);
      assert.equal(r.code, 0, r.stderr);
      return JSON.parse(Deno.readTextFileSync(`${out}/gaussian-moments/seed-1/result.json`))
        .backend;
    };
    // a count unlike the default, so that the default's check can fail
    const three = await run(Deno.makeTempDirSync(), "--blas-threads", "3");
    assert.equal(three.name, "wasm+openblas");
    assert.deepEqual([three.blas.threads, three.blas.threadSplit], [3, "rows"]);
    const byDefault = await run(Deno.makeTempDirSync());
    assert.equal(byDefault.blas.threads, navigator.hardwareConcurrency);
    const bad = await runBench(["gaussian-moments", "--blas-threads", "0"]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--blas-threads: found "0"; expected an integer ≥ 1/);
  },
});

Deno.test("model FLOPs of the paper's MNIST iteration equal the hand count", async () => {
  // G 100→1200→1200→784: 2,500,800 MACs per example; D 784→1200 (maxout 240×5)→1200→1:
  // 1,229,040, first layer 940,800. Batch 100, simultaneous update:
  // G fwd 500,160,000 + D real & fake (fwd + weight grads + hidden-input grads)
  // 2 × 549,264,000 + D to its input for G 245,808,000 + G backward 976,320,000.
  const config = loadConfig("mnist-mlp", { profile: "smoke", overrides: MNIST_SHORT });
  const r = await runExperiment(config, { seed: 1, backend: "wasm" });
  assert.equal(r.modelFlopsPerIteration, 2_820_816_000);
});

Deno.test({
  name: "Parzen and nearest rows on OpenBLAS (host arrays) equal the tensor path",
  ignore,
  async fn() {
    const dim = 40, n = 300, m = 120;
    const centres = Float32Array.from(values(n * dim, 7), (v) => v + 0.5);
    const points = Float32Array.from(values(m * dim, 8), (v) => v + 0.5);
    const sigmas = [0.1, 0.3];
    const run = async (backend: "wasm" | "wasm+openblas") => {
      await selectBackend(backend);
      const before = blasCounters().calls;
      const ll = await parzenLogLikelihoods(centres, points, dim, sigmas, { batchSize: 50 });
      const near = await nearestRows(points, centres, dim, 50);
      return { ll, near, blasCalls: blasCounters().calls - before };
    };
    const plain = await run("wasm");
    const fast = await run("wasm+openblas");
    assert.equal(plain.blasCalls, 0);
    assert.ok(fast.blasCalls === 0, "the host path calls sgemm directly, not the kernel");
    sigmas.forEach((_, s) =>
      plain.ll[s].forEach((v, i) =>
        assert.ok(Math.abs(v - fast.ll[s][i]) <= 1e-4 * Math.abs(v), `σ ${s} point ${i}`)
      )
    );
    assert.deepEqual([...fast.near.index], [...plain.near.index]);
    fast.near.distance2.forEach((v, i) =>
      assert.ok(Math.abs(v - plain.near.distance2[i]) <= 1e-4 * v + 1e-5)
    );
  },
});

Deno.test({
  name: "after wasm+openblas, another backend does not take the OpenBLAS paths",
  ignore,
  async fn() {
    await selectBackend("wasm+openblas");
    assert.ok(blasKernelsActive());
    await selectBackend("cpu");
    assert.ok(!blasKernelsActive());
    const before = blasCounters().calls;
    tf.matMul(tf.ones([2, 3]), tf.ones([3, 2])).dispose();
    assert.equal(blasCounters().calls, before);
    await selectBackend("wasm+openblas");
    assert.ok(blasKernelsActive());
  },
});

Deno.test({
  name: "resuming on another train step or kernel family warns that the run will not be " +
    "bit-identical; on another BLAS thread count it does not, unless made on OpenBLAS's own threads",
  ignore,
  async fn() {
    const config = loadConfig("mnist-mlp", {
      profile: "smoke",
      overrides: [...MNIST_SHORT, "training.checkpointEvery=3"],
    });
    let first: Checkpoint | undefined;
    await runExperiment(config, {
      seed: 2,
      backend: "wasm+openblas",
      onCheckpoint: (cp) => {
        first ??= cp;
        return Promise.resolve();
      },
    });
    const core = openBlas()!.info().core;
    assert.deepEqual(first!.header.backend, {
      name: "wasm+openblas",
      blasThreads: 1,
      blasThreadSplit: "rows",
      blasCore: core,
      trainStep: "fused",
    });
    // as made on another kernel family (OPENBLAS_CORETYPE)
    const otherCore = core === "Haswell" ? "SkylakeX" : "Haswell";
    const onOtherKernels: Checkpoint = {
      ...first!,
      header: { ...first!.header, backend: { ...first!.header.backend!, blasCore: otherCore } },
    };
    // as made before the row split, on 2 of OpenBLAS's own threads
    const onOwnThreads: Checkpoint = {
      ...first!,
      header: {
        ...first!.header,
        backend: { name: "wasm+openblas", blasThreads: 2, trainStep: "fused" },
      },
    };
    const warnings: string[] = [];
    const warn = console.warn;
    console.warn = (...a: unknown[]) => warnings.push(a.join(" "));
    try {
      await runExperiment(config, { seed: 2, backend: "wasm+openblas", resume: first });
      assert.deepEqual(warnings, []);
      await runExperiment(config, {
        seed: 2,
        backend: "wasm+openblas",
        blasThreads: 2,
        resume: first,
      });
      await runExperiment(config, {
        seed: 2,
        backend: "wasm+openblas",
        trainStep: "autodiff",
        resume: first,
      });
      // continued on OpenBLAS's own 2 threads, as it was made: no warning
      const continued = await runExperiment(config, {
        seed: 2,
        backend: "wasm+openblas",
        blasThreads: 2,
        resume: onOwnThreads,
      });
      assert.deepEqual(
        [continued.backend.blas?.threads, continued.backend.blas?.threadSplit],
        [2, "openblas"],
      );
      await runExperiment(config, {
        seed: 2,
        backend: "wasm+openblas",
        blasThreads: 1,
        resume: onOwnThreads,
      });
      await runExperiment(config, { seed: 2, backend: "wasm+openblas", resume: onOtherKernels });
    } finally {
      console.warn = warn;
    }
    assert.equal(warnings.length, 3);
    assert.equal(
      warnings[0],
      `warning: resuming a checkpoint made on wasm+openblas (${core} kernels, 1 BLAS threads, ` +
        `fused step) on wasm+openblas (${core} kernels, 1 BLAS threads, autodiff step): the run ` +
        "continues, but will not equal an uninterrupted run bit for bit",
    );
    assert.match(
      warnings[1],
      /made on wasm\+openblas \(2 OpenBLAS threads, fused step\) on wasm\+openblas \(\w+ kernels, 1 OpenBLAS threads, fused step\)/,
    );
    assert.match(
      warnings[2],
      new RegExp(
        `made on wasm\\+openblas \\(${otherCore} kernels, 1 BLAS threads, fused step\\) on wasm\\+openblas \\(${core} kernels,`,
      ),
    );
  },
});

Deno.test({
  name: "a checkpoint made on OpenBLAS's own threads (before threadSplit) resumes on them, " +
    "bit-identical to the uninterrupted run",
  ignore,
  async fn() {
    const config = loadConfig("mnist-mlp", {
      profile: "smoke",
      overrides: [...MNIST_SHORT, "training.checkpointEvery=3"],
    });
    const own = { seed: 3, backend: "wasm+openblas" as const, blasThreads: 2 };
    let third: Checkpoint | undefined;
    const whole = await runExperiment(config, {
      ...own,
      blasThreadSplit: "openblas",
      onCheckpoint: (cp) => {
        third ??= cp;
        return Promise.resolve();
      },
    });
    // as written before threadSplit existed
    const { blasThreadSplit: _, ...before } = third!.header.backend!;
    assert.equal(_, "openblas");
    const resumed = await runExperiment(config, {
      ...own,
      resume: { ...third!, header: { ...third!.header, backend: before } },
    });
    assert.equal(resumed.backend.blas?.threadSplit, "openblas");
    assert.deepEqual(resumed.fingerprints, whole.fingerprints);
    // and the row split, the default, computes other numbers than OpenBLAS's 2 threads
    const rows = await runExperiment(config, own);
    assert.notDeepEqual(rows.fingerprints.at(-1), whole.fingerprints.at(-1));
  },
});

Deno.test("bench warns when jobs × BLAS threads oversubscribe the cores", async () => {
  const cores = navigator.hardwareConcurrency;
  const args = ["gaussian-moments", "--seeds", "1,2", "--list", "--out", Deno.makeTempDirSync()];
  const over = await runBench([...args, "--jobs", "2", "--blas-threads", String(cores)]);
  assert.equal(over.code, 0, over.stderr);
  assert.ok(
    over.stderr.includes(
      `warning: 2 jobs × ${cores} BLAS threads > ${cores} cores; use --blas-threads ${
        Math.max(1, Math.floor(cores / 2))
      }`,
    ),
    over.stderr,
  );
  const fine = await runBench([...args, "--jobs", "2", "--blas-threads", "1"]);
  assert.ok(!fine.stderr.includes("BLAS threads >"), fine.stderr);
});

Deno.test({
  name:
    "pylearn2 momentum's step in place on OpenBLAS: the TF.js path's numbers, and only where safe",
  ignore,
  async fn() {
    await selectBackend("wasm+openblas");
    const n = 1003, mu = 0.55, lr = 0.0037;
    const bits = (a: Float32Array) => [...new Uint32Array(a.buffer, a.byteOffset, a.length)];
    const [P, V, G] = [1, 2, 3].map((s) => values(n, 40 + s).map((x) => x * 10 ** (s - 2)));
    // the TF.js path: v ← v·mu − g·lr (momentumIncrementWasm), then p ← p + v
    const inc = momentumIncrementWasm(tf.tensor(V), tf.tensor(G), mu, lr)!;
    const wantV = inc.dataSync() as Float32Array;
    const wantP = tf.add(tf.tensor(P), inc).dataSync() as Float32Array;
    // as the models make them: the initial tensor gone, the variable alone on its memory
    const variable = (x: Float32Array) => tf.tidy(() => tf.variable(tf.tensor(x)));
    const p = variable(P), v = variable(V), g = tf.tensor(G);
    assert.equal(momentumStepInPlaceWasm(p, v, g, mu, lr), true);
    assert.deepEqual(bits(v.dataSync() as Float32Array), bits(wantV));
    assert.deepEqual(bits(p.dataSync() as Float32Array), bits(wantP));
    // a tensor sharing p's memory (a clone: the wasm Identity shares it) keeps p as it is
    const shared = tf.clone(p);
    const before = bits(p.dataSync() as Float32Array);
    assert.equal(momentumStepInPlaceWasm(p, v, g, mu, lr), false);
    assert.deepEqual(bits(p.dataSync() as Float32Array), before);
    shared.dispose();
    // plain wasm: XNNPACK may hold a packed copy of a weight, so never in place
    await selectBackend("wasm");
    const q = variable(P), w = variable(V);
    assert.equal(momentumStepInPlaceWasm(q, w, tf.tensor(G), mu, lr), false);
    tf.dispose([p, v, g, q, w]);
  },
});
