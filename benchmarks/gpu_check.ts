/**
 * The GPU check: `deno run -A benchmarks/gpu_check.ts [--budget-s S] [--allow-fallback]
 * [--synthetic-cifar] [--backend B] [--sgemm-sizes N,…]` prints one JSON report (GpuCheckReport): whether navigator.gpu finds a
 * hardware adapter (which one, its features and key limits), and on one the webgpu backend's
 * sgemm GFLOP/s at 1024³ and 2048³ and the it/s of mnist-mlp and cifar10-conv
 * (benchmarks/train_step.ts's measureTrainStep). Each stage is a child process of this script
 * under its own time limit, all inside `--budget-s` (default 270): a stage that hangs on the
 * GPU is killed and the report keeps what it printed so far. `--allow-fallback` runs the
 * stages on a software adapter too (to try the path on a machine without a GPU);
 * `--synthetic-cifar` times cifar10-conv on random full-size CIFAR-10 batches when the data
 * set is absent (throughput does not depend on the pixels). `--backend wasm` (and small
 * `--sgemm-sizes`) runs every stage off the GPU, to try the whole path. benchmarks/gpu-check.sh runs it on
 * a device machine; docs/performance.md §GPU check.
 */
import { fileURLToPath } from "node:url";
import { BACKEND_CHOICES, type BackendChoice } from "../src/backend/info.ts";
import { oneOf, parseCommand, positiveInteger, runMain } from "../src/cli/args.ts";
import { join } from "node:path";
import {
  type AdapterLike,
  type AdapterReport,
  describeAdapter,
  DRIVER_VARIABLES,
  type GpuCheckReport,
  type IterationMark,
  median,
  notRun,
  partialRate,
  sgemmGflops,
  type StageOutcome,
  trainWarmup,
} from "./gpu_check_report.ts";

const STAGE_LIMITS_S = { adapter: 30, sgemm: 60, "mnist-mlp": 70, "cifar10-conv": 150 };
const TRAIN_ITERATIONS: Record<string, number> = { "mnist-mlp": 30, "cifar10-conv": 8 };
const SGEMM_SIZES = [1024, 2048];
/** Products queued per timed batch, enough that one read-back is small beside them. */
const SGEMM_PRODUCTS: Record<number, number> = { 1024: 20, 2048: 10 };
const SGEMM_REPEATS = 5;

// ---- the stages, each run as `gpu_check.ts --stage NAME` ----

function emit(line: unknown): void {
  console.log(JSON.stringify(line));
}

async function adapterStage(): Promise<void> {
  const gpu = (navigator as unknown as {
    gpu?: { requestAdapter(o?: object): Promise<AdapterLike | null> };
  }).gpu;
  if (!gpu) return emit({ result: describeAdapter(false, null) });
  try {
    const adapter = await gpu.requestAdapter({ powerPreference: "high-performance" });
    emit({ result: describeAdapter(true, adapter) });
  } catch (e) {
    emit({ result: describeAdapter(true, null, (e as Error).message) });
  }
}

async function sgemmStage(backendName: BackendChoice, sizes: number[]): Promise<void> {
  const { tf } = await import("../src/backend/tf.ts");
  const { selectBackend } = await import("../src/backend/select.ts");
  const backend = await selectBackend(backendName);
  emit({ backend: { name: backend.name, adapter: backend.adapter } });
  for (const n of sizes) {
    const products = SGEMM_PRODUCTS[n] ?? 10;
    const a = tf.randomUniform([n, n], -1, 1, "float32", 1);
    const b = tf.randomUniform([n, n], -1, 1, "float32", 2);
    // the queue runs in order: reading one element of the last product waits for all of them
    const batch = async (count: number) => {
      const outs = Array.from({ length: count }, () => tf.matMul(a, b));
      const corner = tf.slice(outs.at(-1)!, [0, 0], [1, 1]);
      await corner.data();
      tf.dispose([...outs, corner]);
    };
    await batch(2); // shader compilation and first allocations
    const seconds: number[] = [];
    for (let r = 0; r < SGEMM_REPEATS; r++) {
      const t0 = performance.now();
      await batch(products);
      seconds.push((performance.now() - t0) / 1000);
    }
    tf.dispose([a, b]);
    emit({ result: { n, products, seconds, gflops: sgemmGflops(n, products, median(seconds)) } });
  }
}

async function trainStage(
  config: string,
  backend: BackendChoice,
  syntheticCifarDir: string | null,
): Promise<void> {
  const { MissingDataError } = await import("../src/data/errors.ts");
  const { cifarPath } = await import("../src/data/registry.ts");
  const { measureTrainStep } = await import("./train_step.ts");
  let data = "the config's own data set";
  if (config.startsWith("cifar10") && !existsPath(cifarPath())) {
    if (!syntheticCifarDir) {
      return emit({ skipped: `no CIFAR-10 at ${cifarPath()} (set $GANBENCH_CIFAR10)` });
    }
    await writeSyntheticCifar(syntheticCifarDir);
    Deno.env.set("GANBENCH_CIFAR10", syntheticCifarDir);
    data = `no CIFAR-10 here: synthetic CIFAR-10 (random pixels, full size)`;
  }
  emit({ data });
  try {
    const result = await measureTrainStep(config, backend, 1, TRAIN_ITERATIONS[config], {
      onIteration: (iteration, ms) => emit({ progress: { iteration, ms } }),
    });
    emit({ result });
  } catch (e) {
    if (e instanceof MissingDataError) return emit({ skipped: e.message.split("\n")[0] });
    throw e;
  }
}

function existsPath(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

/** Five training batches and a test batch of random images, official binary layout. */
async function writeSyntheticCifar(dir: string): Promise<void> {
  const { CIFAR_DIM, encodeCifarBinary } = await import("../src/data/formats/cifar.ts");
  const { CIFAR_TEST_BATCH, CIFAR_TRAIN_BATCHES } = await import("../src/data/cifar10.ts");
  let state = 0x9e3779b9;
  const count = 10_000;
  for (const [i, name] of [...CIFAR_TRAIN_BATCHES, CIFAR_TEST_BATCH].entries()) {
    const pixels = new Uint8Array(count * CIFAR_DIM);
    const words = new Uint32Array(pixels.buffer);
    for (let k = 0; k < words.length; k++) {
      state ^= state << 13, state ^= state >>> 17, state ^= state << 5; // xorshift32
      words[k] = state >>> 0;
    }
    const labels = Uint8Array.from({ length: count }, (_, k) => (k + i) % 10);
    Deno.writeFileSync(join(dir, `${name}.bin`), encodeCifarBinary({ pixels, labels, count }));
  }
}

// ---- the parent: each stage a child process under its time limit ----

async function runStage(
  args: string[],
  limitSeconds: number,
  warmup: number | null,
): Promise<StageOutcome> {
  const self = fileURLToPath(import.meta.url);
  const t0 = performance.now();
  const child = new Deno.Command(Deno.execPath(), {
    // no npm look-up: on a device machine (no network) one waits on DNS; node_modules is there
    args: ["run", "-A", "--cached-only", self, ...args],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    try {
      child.kill("SIGKILL");
    } catch { /* already gone */ }
  }, limitSeconds * 1000);
  const results: unknown[] = [];
  const marks: IterationMark[] = [];
  let skipped: string | null = null;
  const readStdout = (async () => {
    let rest = "";
    for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
      rest += chunk;
      const lines = rest.split("\n");
      rest = lines.pop()!;
      for (const line of lines) {
        let parsed: Record<string, unknown>;
        try {
          parsed = JSON.parse(line);
        } catch {
          continue; // a library's console output
        }
        if ("progress" in parsed) marks.push(parsed.progress as IterationMark);
        else if ("skipped" in parsed) skipped = String(parsed.skipped);
        else results.push("result" in parsed ? parsed.result : parsed);
      }
    }
  })();
  const readStderr = new Response(child.stderr).text();
  const status = await child.status;
  clearTimeout(timer);
  await readStdout;
  const stderr = await readStderr;
  const seconds = (performance.now() - t0) / 1000;
  const outcome: StageOutcome = {
    status: timedOut ? "timeout" : skipped ? "skipped" : status.success ? "ok" : "failed",
    reason: timedOut
      ? `stopped at its ${limitSeconds} s limit`
      : skipped ?? (status.success ? null : `exited with ${status.code}`),
    limitSeconds,
    seconds,
    results,
    partialIterationsPerSecond: warmup === null ? null : partialRate(marks, warmup),
    iterationsDone: warmup === null ? null : marks.length,
    // a child's clock starts with it: its first mark is the set-up and the first iteration
    firstIterationSeconds: marks.length ? marks[0].ms / 1000 : null,
    stderrTail: timedOut || !status.success ? stderr.slice(-2000) : null,
  };
  return outcome;
}

const SCRIPT = "benchmarks/gpu_check.ts";
const USAGE = `usage: deno run -A ${SCRIPT} [--budget-s S] [--allow-fallback] [--synthetic-cifar]
       [--backend B] [--sgemm-sizes N,...]

The GPU check: one JSON report of whether navigator.gpu finds a hardware adapter (which one, its
features and key limits) and, on one, the webgpu backend's sgemm GFLOP/s and the it/s of
mnist-mlp and cifar10-conv. Each stage is a child process under its own time limit, all inside
the budget; a stage that hangs is killed and the report keeps what it printed so far.
benchmarks/gpu-check.sh runs it on a GPU machine.

  --budget-s S       seconds for the whole check (default 270)
  --allow-fallback   run the stages on a software adapter too
  --synthetic-cifar  time cifar10-conv on random full-size batches when CIFAR-10 is absent
  --backend B        ${
  BACKEND_CHOICES.join(" | ")
} (default webgpu; another runs every stage off the GPU)
  --sgemm-sizes N,.. the sgemm sizes (default ${SGEMM_SIZES.join(",")})

exit codes: 0 reported (whatever the stages found), 2 bad flag
`;

async function main(args: string[]): Promise<number> {
  const parsed = parseCommand({
    name: SCRIPT,
    usage: USAGE,
    options: {
      "budget-s": { type: "string", default: "270" },
      "allow-fallback": { type: "boolean", default: false },
      "synthetic-cifar": { type: "boolean", default: false },
      backend: { type: "string", default: "webgpu" },
      "sgemm-sizes": { type: "string" },
      // a stage's own process (the check starts them; not for users)
      stage: { type: "string" },
      "synthetic-cifar-dir": { type: "string" },
    },
  }, args);
  if (parsed === null) return 0;
  const { values } = parsed;
  const stage = values.stage;
  const backend: BackendChoice = oneOf("--backend", values.backend, BACKEND_CHOICES);
  const sizes = values["sgemm-sizes"]?.split(",").map((n) => positiveInteger("--sgemm-sizes", n)) ??
    SGEMM_SIZES;
  if (stage) {
    if (stage === "adapter") await adapterStage();
    else if (stage === "sgemm") await sgemmStage(backend, sizes);
    else await trainStage(stage, backend, values["synthetic-cifar-dir"] ?? null);
    Deno.exit(0); // a GPU device left open can keep the process alive
  }
  const budget = positiveInteger("--budget-s", values["budget-s"]);
  const started = performance.now();
  const left = () => budget - (performance.now() - started) / 1000;
  const report: GpuCheckReport = {
    check: "ganbench gpu",
    startedAt: new Date().toISOString(),
    host: {
      deno: Deno.version.deno,
      os: Deno.build.os,
      arch: Deno.build.arch,
      cpus: navigator.hardwareConcurrency,
    },
    backend,
    environment: Object.fromEntries(DRIVER_VARIABLES.map((v) => [v, Deno.env.get(v) ?? null])),
    adapter: null,
    stages: {},
    totalSeconds: 0,
  };
  const within = (limit: number) => Math.min(limit, Math.floor(left()));
  const adapterStageOutcome = await runStage(
    ["--stage", "adapter"],
    within(STAGE_LIMITS_S.adapter),
    null,
  );
  report.stages.adapter = adapterStageOutcome;
  report.adapter = (adapterStageOutcome.results[0] as AdapterReport | undefined) ?? null;
  if (report.adapter) adapterStageOutcome.results = []; // reported once, above
  const kind = report.adapter?.kind ?? "none";
  const go = kind === "hardware" || (kind === "fallback" && values["allow-fallback"]) ||
    backend !== "webgpu";
  const common = ["--backend", backend, "--sgemm-sizes", sizes.join(",")];
  for (const [name, limit] of Object.entries(STAGE_LIMITS_S)) {
    if (name === "adapter") continue;
    const limitNow = within(limit);
    if (!go) {
      report.stages[name] = notRun(
        report.adapter ? report.adapter.summary : "the adapter stage gave no answer",
      );
    } else if (limitNow < 10) {
      report.stages[name] = notRun(`the check's ${budget} s budget was spent`);
    } else {
      const iterations = TRAIN_ITERATIONS[name];
      const warmup = iterations ? trainWarmup(iterations) : null;
      const cifar = values["synthetic-cifar"] && name.startsWith("cifar10")
        ? await Deno.makeTempDir({ prefix: "ganbench-gpu-check-cifar-" })
        : null;
      const args = ["--stage", name, ...common, ...(cifar ? ["--synthetic-cifar-dir", cifar] : [])];
      report.stages[name] = await runStage(args, limitNow, warmup);
      if (cifar) await Deno.remove(cifar, { recursive: true });
    }
  }
  report.totalSeconds = (performance.now() - started) / 1000;
  console.log(JSON.stringify(report, null, 2));
  return 0;
}

if (import.meta.main) await runMain(SCRIPT, () => main(Deno.args));
