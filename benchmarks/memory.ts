/**
 * Peak memory of the training-step benchmark per model (`deno task perf:memory [--only
 * NAME,...] [--torch] [--out FILE]`): benchmarks/train_step.ts on wasm+openblas with one
 * BLAS thread and no draw worker, as `deno task perf:torch` runs it, each model in its own
 * process; with --torch, the same model and update in PyTorch (benchmarks/pytorch/gan_step.py)
 * beside it. Writes benchmarks/results/memory.json. Memory does not depend on timing, so this
 * may run on a loaded machine; the CIFAR-10 models need the data set (`deno task data`).
 */
import { join } from "node:path";
import { collectVersions } from "../src/backend/versions.ts";
import { parseCommand, runMain, UsageError } from "../src/cli/args.ts";
import { writeFileAtomic } from "../src/util/atomic.ts";
import type { TrainStepResult } from "./train_step.ts";
import { MODELS } from "./vs_pytorch.ts";

interface Row {
  config: string;
  iterations: number;
  ganbench:
    | Pick<
      TrainStepResult,
      "trainStep" | "peakRssMiB" | "trainingPeakRssMiB" | "wasmHeapMiB"
    >
    | { error: string };
  pytorch: { peakRssMiB: number } | { error: string } | null;
}

const here = import.meta.dirname!;
const python = Deno.env.get("GANBENCH_PYTHON") ?? "/usr/bin/python3";
const env = { NO_COLOR: "1", OMP_NUM_THREADS: "1", OPENBLAS_NUM_THREADS: "1" };

async function lastJson(cmd: string, args: string[]): Promise<Record<string, unknown>> {
  const out = await new Deno.Command(cmd, { args, env, stdout: "piped", stderr: "piped" })
    .output();
  const line = new TextDecoder().decode(out.stdout).trim().split("\n").at(-1) ?? "";
  if (out.code === 0 && line.startsWith("{")) return JSON.parse(line);
  const err = new TextDecoder().decode(out.stderr).trim().split("\n").slice(-2).join(" | ");
  return { error: `exit ${out.code}: ${err}` };
}

const fmt = (v: unknown) => typeof v === "number" && Number.isFinite(v) ? v.toFixed(0) : "—";

const USAGE = `usage: deno task perf:memory [--only NAME,...] [--torch] [--out FILE]

Peak memory (VmHWM) of benchmarks/train_step.ts per model, wasm+openblas, 1 BLAS thread, no
draw worker, each model in its own process; memory does not depend on timing, so this may run
on a loaded machine. The CIFAR-10 models need the data set (deno task data).

  --only NAME,...  these models only (${MODELS.map((m) => m.config).join(", ")})
  --torch          the same model and update in PyTorch beside each (python3-torch)
  --out FILE       default benchmarks/results/memory.json

exit codes: 0 written (a model that failed is a row with its error), 2 bad flag
`;

async function main(args: string[]): Promise<number> {
  const parsed = parseCommand({
    name: "perf:memory",
    usage: USAGE,
    options: {
      only: { type: "string" },
      torch: { type: "boolean", default: false },
      out: { type: "string", default: join(here, "results", "memory.json") },
    },
  }, args);
  if (parsed === null) return 0;
  const { values } = parsed;
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
  const rows: Row[] = [];
  for (const { config, iterations } of models) {
    console.error(`${config}: ${iterations} iterations, ganbench …`);
    const g = await lastJson(Deno.execPath(), [
      "run",
      "-A",
      join(here, "train_step.ts"),
      config,
      "wasm+openblas",
      "1",
      String(iterations),
      ...["--prefetch-draws", "off"],
    ]);
    const ganbench = "error" in g ? { error: String(g.error) } : {
      trainStep: g.trainStep as TrainStepResult["trainStep"],
      peakRssMiB: g.peakRssMiB as number,
      trainingPeakRssMiB: g.trainingPeakRssMiB as number,
      wasmHeapMiB: g.wasmHeapMiB as number | null,
    };
    let pytorch: Row["pytorch"] = null;
    if (values.torch) {
      console.error(`${config}: PyTorch …`);
      const t = await lastJson(python, [
        join(here, "pytorch", "gan_step.py"),
        config,
        String(iterations),
        "1",
      ]);
      pytorch = "error" in t ? { error: String(t.error) } : { peakRssMiB: t.peakRssMiB as number };
    }
    rows.push({ config, iterations, ganbench, pytorch });
  }
  const result = {
    format: 1,
    date: new Date().toISOString(),
    note: "peak resident set (VmHWM) of benchmarks/train_step.ts, wasm+openblas, 1 BLAS " +
      "thread, no draw worker; trainingPeakRssMiB is the peak up to the last iteration, " +
      "before the end's evaluation; PyTorch's gan_step.py holds no data set, ganbench MNIST " +
      "(55 MB as 8-bit pixels) or CIFAR-10",
    versions: await collectVersions(),
    rows,
  };
  Deno.mkdirSync(join(values.out, ".."), { recursive: true });
  await writeFileAtomic(values.out, JSON.stringify(result, null, 2) + "\n");
  const lines = [
    "| model | train step | peak RSS (MiB) | up to the last iteration | wasm heap | PyTorch |",
    "| --- | --- | --- | --- | --- | --- |",
  ];
  for (const r of rows) {
    const g = "error" in r.ganbench ? null : r.ganbench;
    const t = r.pytorch && !("error" in r.pytorch) ? r.pytorch.peakRssMiB : null;
    lines.push(
      `| ${r.config} | ${g?.trainStep ?? "failed"} | ${fmt(g?.peakRssMiB)} | ` +
        `${fmt(g?.trainingPeakRssMiB)} | ${fmt(g?.wasmHeapMiB)} | ${fmt(t)} |`,
    );
    if (!g) console.error(`  ${r.config} failed: ${(r.ganbench as { error: string }).error}`);
  }
  console.log(lines.join("\n"));
  console.error(`wrote ${values.out}`);
  return 0;
}

if (import.meta.main) await runMain("perf:memory", () => main(Deno.args));
