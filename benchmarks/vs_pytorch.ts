/**
 * ganbench against PyTorch, side by side in one run (`deno task perf:torch [--threads N]
 * [--rounds R] [--only NAME,...] [--out FILE]`): for each round and model, ganbench's
 * benchmarks/train_step.ts (wasm+openblas, its default train step) and the same model and
 * update in PyTorch (benchmarks/pytorch/gan_step.py), one after the other, each in its own
 * process with the same thread count. Prints iterations/s, the ratio and each process's
 * peak RSS, with the sgemm 1024³ rate of both (the ceiling) measured in the same run, and
 * writes benchmarks/results/vs-pytorch.json.
 *
 * PyTorch is Debian's python3-torch for the system Python (`GANBENCH_PYTHON` names another
 * interpreter); when it is missing and this runs as root, the task installs it with
 * apt-get. Tests never need it. On a shared machine only the ratios of one run compare.
 */
import { join } from "node:path";
import { openBlas } from "../src/backend/openblas.ts";
import { collectVersions } from "../src/backend/versions.ts";
import { parseCommand, positiveInteger, runMain, UsageError } from "../src/cli/args.ts";
import { writeFileAtomic } from "../src/util/atomic.ts";
import type { TrainStepResult } from "./train_step.ts";

/**
 * Iterations per measurement: a few seconds for MNIST; for the CIFAR-10 models enough that the
 * two warm-up iterations (trainWarmup) leave six timed (the second iteration of cifar10-conv
 * still runs 1.5× slower than the later ones).
 */
export const MODELS: { config: string; iterations: number }[] = [
  { config: "mnist-mlp", iterations: 100 },
  { config: "mnist-tutorial", iterations: 100 },
  { config: "cifar10-mlp", iterations: 8 },
  { config: "cifar10-conv", iterations: 8 },
];

interface TorchStepResult {
  config: string;
  framework: string;
  threads: number;
  iterationsPerSecond: number;
  peakRssMiB: number;
}

interface Pair {
  round: number;
  config: string;
  iterations: number;
  ganbench: TrainStepResult | { error: string };
  pytorch: TorchStepResult | { error: string };
  /** ganbench's iterations/s over PyTorch's (null when either failed). */
  ratio: number | null;
}

const here = import.meta.dirname!;
const python = Deno.env.get("GANBENCH_PYTHON") ?? "/usr/bin/python3";
const decode = (b: Uint8Array) => new TextDecoder().decode(b).trim();

async function run(
  cmd: string,
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(cmd, { args, env, stdout: "piped", stderr: "piped" })
    .output();
  return { code: out.code, stdout: decode(out.stdout), stderr: decode(out.stderr) };
}

/** The last line of stdout as JSON, or the error that stopped the child. */
function lastJson<T>(r: { code: number; stdout: string; stderr: string }): T | { error: string } {
  const line = r.stdout.split("\n").at(-1) ?? "";
  if (r.code === 0 && line.startsWith("{")) return JSON.parse(line) as T;
  return { error: `exit ${r.code}: ${r.stderr.split("\n").slice(-3).join(" | ")}` };
}

async function ensureTorch(): Promise<string> {
  const probe = () => run(python, ["-c", "import torch; print(torch.__version__)"], {});
  let r = await probe();
  if (r.code !== 0 && Deno.uid() === 0) {
    console.error("PyTorch missing: apt-get install -y python3-torch …");
    await run("apt-get", ["install", "-y", "python3-torch"], { DEBIAN_FRONTEND: "noninteractive" });
    r = await probe();
  }
  if (r.code !== 0) {
    throw new UsageError(
      `${python} cannot import torch; install Debian's python3-torch ` +
        "(apt-get install -y python3-torch) or set GANBENCH_PYTHON",
    );
  }
  return r.stdout;
}

/** Best of several sgemm 1024³ through ganbench's OpenBLAS binding, GFLOP/s. */
function ganbenchSgemm(threads: number): number | null {
  const blas = openBlas();
  if (!blas) return null;
  blas.setThreads(threads);
  const n = 1024, a = new Float32Array(n * n).fill(0.5), c = new Float32Array(n * n);
  let best = Infinity;
  for (let r = 0; r < 8; r++) {
    const t = performance.now();
    blas.sgemm(false, false, n, n, n, a, a, c);
    if (r > 0) best = Math.min(best, (performance.now() - t) / 1000);
  }
  return 2 * n ** 3 / best / 1e9;
}

const TORCH_SGEMM = `
import time, torch
torch.set_num_threads(THREADS)
a = torch.rand(1024, 1024)
best = float("inf")
for r in range(8):
    t = time.perf_counter(); a @ a; dt = time.perf_counter() - t
    if r > 0: best = min(best, dt)
print(2 * 1024 ** 3 / best / 1e9)
`;

/** The CPU's model name (Deno may read /proc only with every permission: ask grep). */
async function cpuModel(): Promise<string> {
  const r = await run("grep", ["-m1", "model name", "/proc/cpuinfo"], {}).catch(() => null);
  return r?.stdout.replace(/^model name\s*:\s*/, "") ?? "";
}

/** 1-, 5- and 15-minute load averages: how shared the machine was. */
function loadAverage(): number[] {
  return Deno.loadavg();
}

const fmt = (v: number | null | undefined, digits = 3) =>
  v === null || v === undefined || !Number.isFinite(v) ? "—" : v.toPrecision(digits);

const USAGE = `usage: deno task perf:torch [--threads N] [--rounds R] [--only NAME,...] [--out FILE]
  ganbench (wasm+openblas) and the same model and update in PyTorch, side by side, alternating
  --threads N    BLAS / torch threads on both sides (default 1)
  --rounds R     alternating rounds (default 2)
  --only NAMES   some of ${MODELS.map((m) => m.config).join(", ")}
  --out FILE     the JSON written (default benchmarks/results/vs-pytorch.json)

exit codes: 0 written, 2 bad flag, or OpenBLAS or PyTorch missing
`;

async function main(args: string[]): Promise<number> {
  const parsed = parseCommand({
    name: "perf:torch",
    usage: USAGE,
    options: {
      threads: { type: "string", default: "1" },
      rounds: { type: "string", default: "2" },
      only: { type: "string" },
      out: { type: "string", default: join(here, "results", "vs-pytorch.json") },
    },
  }, args);
  if (parsed === null) return 0;
  const { values } = parsed;
  const threads = positiveInteger("--threads", values.threads);
  const rounds = positiveInteger("--rounds", values.rounds);
  const only = values.only?.split(",");
  const unknown = only?.filter((name) => !MODELS.some((m) => m.config === name)) ?? [];
  if (unknown.length) {
    throw new UsageError(
      `--only: found "${unknown.join(",")}"; expected names from ${
        MODELS.map((m) => m.config).join(", ")
      }`,
    );
  }
  const models = MODELS.filter((m) => !only || only.includes(m.config));
  if (!openBlas()) {
    throw new UsageError("ganbench's side needs OpenBLAS (apt-get install libopenblas0)");
  }
  const torchVersion = await ensureTorch();
  // both sides get the same thread count, OpenBLAS's and OpenMP's alike; OpenMP's threads
  // sleep when idle instead of spinning, or on 2 cores they starve OpenBLAS's (PyTorch's
  // mnist-mlp at 2 threads: 13 it/s spinning, 38 passive; docs/performance.md)
  const env = {
    NO_COLOR: "1",
    OMP_NUM_THREADS: String(threads),
    OMP_WAIT_POLICY: Deno.env.get("OMP_WAIT_POLICY") ?? "PASSIVE",
    OPENBLAS_NUM_THREADS: String(threads),
  };
  const loadBefore = loadAverage();
  console.error(`ceiling: sgemm 1024³ with ${threads} thread(s) …`);
  const ceiling = {
    ganbenchOpenBlas: ganbenchSgemm(threads),
    pytorch: Number(
      (await run(python, ["-c", TORCH_SGEMM.replace("THREADS", String(threads))], env)).stdout,
    ) || null,
  };
  const pairs: Pair[] = [];
  for (let round = 1; round <= rounds; round++) {
    for (const { config, iterations } of models) {
      console.error(`round ${round}: ${config}, ${iterations} iterations, ganbench …`);
      const ganbench = lastJson<TrainStepResult>(
        await run(Deno.execPath(), [
          "run",
          "-A",
          join(here, "train_step.ts"),
          config,
          "wasm+openblas",
          String(threads),
          String(iterations),
          // no draw worker: each side computes on `threads` threads only
          ...["--prefetch-draws", "off"],
        ], env),
      );
      console.error(`round ${round}: ${config}, PyTorch …`);
      const pytorch = lastJson<TorchStepResult>(
        await run(python, [
          join(here, "pytorch", "gan_step.py"),
          config,
          String(iterations),
          String(threads),
        ], env),
      );
      const ratio = "error" in ganbench || "error" in pytorch
        ? null
        : ganbench.iterationsPerSecond / pytorch.iterationsPerSecond;
      pairs.push({ round, config, iterations, ganbench, pytorch, ratio });
      for (const [side, r] of [["ganbench", ganbench], ["PyTorch", pytorch]] as const) {
        if ("error" in r) console.error(`  ${side} failed: ${r.error}`);
      }
    }
  }
  const blas = openBlas()!.info();
  const result = {
    format: 1,
    date: new Date().toISOString(),
    threads,
    note: `both sides on ${threads} thread(s), alternating, ${rounds} round(s); ` +
      "the machine may be shared: compare the ratios of one run, not rates across runs",
    machine: {
      cpu: await cpuModel(),
      cores: navigator.hardwareConcurrency,
      loadAverage: { before: loadBefore, after: loadAverage() },
      openblas: { config: blas.config, core: blas.core },
    },
    versions: { ...await collectVersions(), pytorch: torchVersion },
    ceiling: { sgemm1024GflopsPerSecond: ceiling },
    pairs,
  };
  Deno.mkdirSync(join(values.out, ".."), { recursive: true });
  await writeFileAtomic(values.out, JSON.stringify(result, null, 2) + "\n");
  const lines = [
    `ganbench (wasm+openblas) vs PyTorch ${torchVersion}, ${threads} thread(s), ${result.date}`,
    `sgemm 1024³: ganbench's OpenBLAS ${fmt(ceiling.ganbenchOpenBlas)} GFLOP/s, ` +
    `PyTorch ${fmt(ceiling.pytorch)} GFLOP/s; OpenBLAS core ${blas.core}; ` +
    `load average ${loadBefore.join(" ")} → ${result.machine.loadAverage.after.join(" ")}`,
    "",
    "| round | model | train step | ganbench it/s | PyTorch it/s | ratio | peak RSS ganbench / PyTorch (MiB) |",
    "| --- | --- | --- | --- | --- | --- | --- |",
  ];
  for (const p of pairs) {
    const g = "error" in p.ganbench ? null : p.ganbench;
    const t = "error" in p.pytorch ? null : p.pytorch;
    lines.push(
      `| ${p.round} | ${p.config} | ${g?.trainStep ?? "failed"} | ${
        fmt(g?.iterationsPerSecond)
      } | ` +
        `${fmt(t?.iterationsPerSecond)} | ${fmt(p.ratio, 2)} | ` +
        `${fmt(g?.peakRssMiB, 4)} / ${fmt(t?.peakRssMiB, 4)} |`,
    );
  }
  console.log(lines.join("\n"));
  console.error(`wrote ${values.out}`);
  return 0;
}

if (import.meta.main) await runMain("perf:torch", () => main(Deno.args));
