/**
 * The performance report (`deno task perf:report [--quick] [--out FILE]`): everything
 * measured in one run on this machine, so that ratios compare like with like.
 *
 * 1. The ceiling: sgemm 1024×1024×1024 through every CPU path (plain wasm matMul, OpenBLAS
 *    with 1 thread and with one per core); the fastest is "the ceiling".
 * 2. Train-step throughput of the paper's models on each path, each in its own process
 *    (benchmarks/train_step.ts); on OpenBLAS both TF.js autodiff and, where the model takes
 *    it, the fused step (src/train/steps/fused-mlp.ts): iterations/s, examples/s, model FLOPs per iteration,
 *    FLOPs OpenBLAS ran, achieved GFLOP/s and its fraction of the ceiling, peak RSS.
 * 3. Parzen: one σ on 10,000 × 10,000 × 784 (benchmarks/parzen_step.ts).
 * 4. TF.js tensor count over a long mnist-mlp run on the fastest path (flat or not).
 * 5. WebGPU, when an adapter exists: on a software (fallback) adapter tiny sizes only.
 * 6. The paper suite's estimated wall time (3 seeds) from the measured rates.
 * Writes benchmarks/results/perf.json (atomically) and prints a Markdown summary.
 */
import { join } from "node:path";
import { openBlas } from "../src/backend/openblas.ts";
import { parseOrExit } from "../src/cli/args.ts";
import { queryWebGpuAdapter, selectBackend } from "../src/backend/select.ts";
import { tf } from "../src/backend/tf.ts";
import { collectVersions } from "../src/backend/versions.ts";
import { listConfigs, loadConfig } from "../src/config/load.ts";
import { openRealData } from "../src/data/real-data.ts";
import { Rng } from "../src/rng/streams.ts";
import { writeFileAtomic } from "../src/util/atomic.ts";
import type { ParzenStepResult } from "./parzen_step.ts";
import type { TrainStepResult } from "./train_step.ts";

const USAGE = `usage: deno task perf:report [--quick] [--out FILE]

The performance report: everything measured in one run on this machine, so that ratios compare
like with like: the sgemm 1024³ ceiling on every CPU path, the paper models' train-step
throughput on each path (each in its own process), one Parzen σ on MNIST's 10,000 × 10,000 × 784,
and the TF.js tensor count over a long mnist-mlp run. Run it with nothing else on the machine.

  --quick     fewer iterations (a check that the report runs, not a measurement)
  --out FILE  default benchmarks/results/perf.json

exit codes: 0 written, 2 bad flag
`;
const { values: flags } = parseOrExit({
  name: "perf:report",
  usage: USAGE,
  options: {
    quick: { type: "boolean", default: false },
    out: { type: "string", default: join(import.meta.dirname!, "results", "perf.json") },
  },
}, Deno.args);
const quick = flags.quick;
const cores = navigator.hardwareConcurrency;
const blas = openBlas();

interface Path {
  backend: "wasm" | "wasm+openblas";
  threads: number;
  label: string;
}
const paths: Path[] = [{ backend: "wasm", threads: 1, label: "wasm" }];
if (blas) {
  paths.push({ backend: "wasm+openblas", threads: 1, label: "wasm+openblas, 1 thread" });
  if (cores > 1) {
    paths.push({
      backend: "wasm+openblas",
      threads: cores,
      label: `wasm+openblas, ${cores} threads`,
    });
  }
}

// ---- 1. the ceiling ----
async function sgemmGflops(
  backend: Path["backend"] | "webgpu",
  threads: number,
  n = 1024,
): Promise<number> {
  await selectBackend(backend, { blasThreads: threads });
  const a = tf.randomUniform([n, n], -1, 1, "float32", 1);
  const b = tf.randomUniform([n, n], -1, 1, "float32", 2);
  let best = Infinity;
  // the slow paths get fewer repetitions; the first of each is a warm-up
  for (let r = 0; r < (backend === "wasm+openblas" ? 12 : 4); r++) {
    const t = performance.now();
    const c = tf.matMul(a, b);
    await c.data();
    c.dispose();
    if (r > 0) best = Math.min(best, (performance.now() - t) / 1000);
  }
  tf.dispose([a, b]);
  return (2 * n ** 3) / best / 1e9;
}

console.error("ceiling: sgemm 1024³ on each path …");
const sgemm: { path: string; gflopsPerSecond: number }[] = [];
for (const p of paths) {
  sgemm.push({ path: p.label, gflopsPerSecond: await sgemmGflops(p.backend, p.threads) });
}
const ceiling = Math.max(...sgemm.map((s) => s.gflopsPerSecond));

// ---- 2. train steps, each in its own process ----
async function child<T>(script: string, args: string[]): Promise<T | { error: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", join(import.meta.dirname!, script), ...args],
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout).trim().split("\n").at(-1) ?? "";
  if (out.code !== 0 || !text.startsWith("{")) {
    const err = new TextDecoder().decode(out.stderr).trim().split("\n").slice(-3).join(" | ");
    return { error: `exit ${out.code}: ${err}` };
  }
  return JSON.parse(text) as T;
}

/** Iterations per measurement: enough to time, few enough for the big models on wasm. */
const ITERATIONS: Record<string, { wasm: number; blas: number }> = {
  "mnist-mlp": { wasm: quick ? 12 : 40, blas: quick ? 40 : 200 },
  "mnist-tutorial": { wasm: quick ? 12 : 40, blas: quick ? 40 : 200 },
  "cifar10-mlp": { wasm: 2, blas: quick ? 3 : 6 },
  "cifar10-conv": { wasm: 2, blas: quick ? 2 : 3 },
};
const train: (TrainStepResult & { path: string; fractionOfCeiling: number } | {
  config: string;
  path: string;
  error: string;
})[] = [];
for (const config of Object.keys(ITERATIONS)) {
  for (const p of paths) {
    const its = ITERATIONS[config][p.backend === "wasm" ? "wasm" : "blas"];
    // on OpenBLAS: autodiff, then "auto", kept only when it chose the fused step
    for (const step of p.backend === "wasm" ? ["auto"] : ["autodiff", "auto"]) {
      console.error(`train: ${config} on ${p.label}, ${step} step, ${its} iterations …`);
      const r = await child<TrainStepResult>("train_step.ts", [
        config,
        p.backend,
        String(p.threads),
        String(its),
        ...["--train-step", step],
      ]);
      if (
        step === "auto" && !("error" in r) && r.trainStep === "autodiff" && p.backend !== "wasm"
      ) {
        continue;
      }
      const path = p.backend === "wasm"
        ? p.label
        : `${p.label}, ${"error" in r ? step : r.trainStep}`;
      train.push(
        "error" in r
          ? { config, path, error: r.error }
          : { ...r, path, fractionOfCeiling: r.modelGflopsPerSecond / ceiling },
      );
    }
  }
}

// ---- 3. Parzen ----
const parzen: (ParzenStepResult & { path: string; fractionOfCeiling: number } | {
  path: string;
  error: string;
})[] = [];
for (const p of paths) {
  console.error(`parzen: one σ, 10,000 × 10,000 × 784 on ${p.label} …`);
  const r = await child<ParzenStepResult>("parzen_step.ts", [p.backend, String(p.threads)]);
  parzen.push(
    "error" in r
      ? { path: p.label, error: r.error }
      : { ...r, path: p.label, fractionOfCeiling: r.gflopsPerSecond / ceiling },
  );
}

// ---- 4. tensor count over a long run ----
const fastest = paths.at(-1)!;
const longSteps = quick ? 1_000 : 10_000;
console.error(`tensors: mnist-mlp, ${longSteps} iterations on ${fastest.label} …`);
const long = await child<TrainStepResult>("train_step.ts", [
  "mnist-mlp",
  fastest.backend,
  String(fastest.threads),
  String(longSteps),
  "--track-tensors",
  String(longSteps / 20),
]);
const tensors = "error" in long ? long : {
  path: fastest.label,
  iterations: longSteps,
  samples: long.tensors,
  flat: long.tensors.slice(1).every((s) =>
    s.count === long.tensors[1].count && s.bytes === long.tensors[1].bytes
  ),
  peakRssMiB: long.peakRssMiB,
  iterationsPerSecond: long.iterationsPerSecond,
};

// ---- 5. WebGPU ----
const adapter = await queryWebGpuAdapter();
let webgpu: Record<string, unknown> | null = null;
if (adapter) {
  console.error(
    `webgpu: ${adapter.description || "adapter"} (fallback: ${adapter.isFallbackAdapter}) …`,
  );
  const n = adapter.isFallbackAdapter ? 128 : 1024;
  webgpu = {
    adapter,
    sgemm: { n, gflopsPerSecond: await sgemmGflops("webgpu", 1, n) },
    // a software adapter runs ~1 GFLOP/s: the 1-D model only, as a correctness check
    train: await child<TrainStepResult>(
      "train_step.ts",
      adapter.isFallbackAdapter
        ? ["gaussian-moments", "webgpu", "1", "8"]
        : ["mnist-mlp", "webgpu", "1", "100"],
    ),
  };
}

// ---- 6. the paper suite's wall time, estimated from the fastest measured rates ----
const suite: { config: string; iterations: number; secondsPerSeed: number | null }[] = [];
for (const name of listConfigs()) {
  const config = loadConfig(name).config;
  const budget = config.training.budget;
  let iterations = budget.iterations ?? null;
  if (iterations === null && config.data.kind !== "gaussian" && config.data.kind !== "tfd") {
    const data = openRealData(config.data, new Rng(1), config.training.batchSize);
    const perIteration = config.training.update === "simultaneous" ? 1 : config.training.dSteps;
    iterations = Math.ceil((budget.epochs! * data.batchesPerEpoch!) / perIteration);
  }
  const measured = train.filter((t) => t.config === name && !("error" in t)) as TrainStepResult[];
  const rate = measured.length ? Math.max(...measured.map((m) => m.iterationsPerSecond)) : null;
  suite.push({
    config: name,
    iterations: iterations ?? NaN,
    secondsPerSeed: rate && iterations ? iterations / rate : null,
  });
}

const report = {
  format: 1,
  date: new Date().toISOString(),
  machine: {
    cpu: cpuModel(),
    cores,
    memoryGiB: Math.round(Deno.systemMemoryInfo().total / 2 ** 30),
    openblas: blas?.info() ?? null,
  },
  versions: await collectVersions(),
  quick,
  ceiling: { gflopsPerSecond: ceiling, sgemm },
  train,
  parzen,
  tensors,
  webgpu,
  paperSuite: { seeds: 3, configs: suite },
};
Deno.mkdirSync(join(flags.out, ".."), { recursive: true });
await writeFileAtomic(flags.out, JSON.stringify(report, null, 2) + "\n");
console.log(summary());
console.error(`→ ${flags.out}`);

function cpuModel(): string {
  try {
    return /model name\s*:\s*(.*)/.exec(Deno.readTextFileSync("/proc/cpuinfo"))?.[1] ?? "";
  } catch {
    return "";
  }
}

function summary(): string {
  const f1 = (x: number) => x.toFixed(1), f2 = (x: number) => x.toFixed(2);
  const lines = [
    `ceiling (sgemm 1024³): ${
      sgemm.map((s) => `${s.path} ${f1(s.gflopsPerSecond)}`).join("; ")
    } GFLOP/s`,
    "",
    "| model | path | it/s | examples/s | model GFLOP/iter | executed GFLOP/iter | GFLOP/s | of ceiling | peak RSS |",
    "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
  ];
  for (const t of train) {
    if ("error" in t) {
      lines.push(`| ${t.config} | ${t.path} | failed: ${t.error} |  |  |  |  |  |  |`);
      continue;
    }
    lines.push(
      `| ${t.config} | ${t.path} | ${f2(t.iterationsPerSecond)} | ${f1(t.examplesPerSecond)} | ${
        f2(t.modelFlopsPerIteration / 1e9)
      } | ${t.executedFlopsPerIteration === null ? "–" : f2(t.executedFlopsPerIteration / 1e9)} | ${
        f1(t.modelGflopsPerSecond)
      } | ${f2(t.fractionOfCeiling)} | ${Math.round(t.peakRssMiB)} MiB |`,
    );
  }
  lines.push("", "| Parzen, one σ (10k × 10k × 784) | seconds | GFLOP/s | of ceiling | peak RSS |");
  lines.push("| --- | --- | --- | --- | --- |");
  for (const p of parzen) {
    lines.push(
      "error" in p
        ? `| ${p.path} | failed: ${p.error} |  |  |  |`
        : `| ${p.path} | ${f2(p.seconds)} | ${f1(p.gflopsPerSecond)} | ${
          f2(p.fractionOfCeiling)
        } | ${Math.round(p.peakRssMiB)} MiB |`,
    );
  }
  lines.push("", `tensors over ${longSteps} mnist-mlp iterations: ${JSON.stringify(tensors)}`);
  const total = suite.reduce((s, c) => s + (c.secondsPerSeed ?? 0), 0) * 3;
  lines.push(
    "",
    `paper suite, 3 seeds, measured configs only: ~${(total / 3600).toFixed(1)} h; per seed: ${
      suite.map((c) =>
        `${c.config} ${
          c.secondsPerSeed === null ? "n/a" : (c.secondsPerSeed / 3600).toFixed(1) + " h"
        }`
      ).join(", ")
    }`,
  );
  return lines.join("\n");
}
