/**
 * The benchmark scripts keep the commands' conventions (src/cli/args.ts): every script under
 * benchmarks/ that runs on its own answers --help with its usage and exit codes (exit 0), and a
 * bad flag with one line and a pointer to --help (exit 2), before it measures anything.
 */
import assert from "node:assert/strict";
import { basename, join } from "node:path";
import denoJson from "../deno.json" with { type: "json" };
import { CONFIG_DIR } from "../src/config/load.ts";
import { runDeno } from "./helpers.ts";

const BENCHMARKS = join(CONFIG_DIR, "..", "benchmarks");

/** Modules that only export functions for the scripts (and tests). */
const LIBRARIES = ["gpu_check_report.ts", "lr_forecast.ts"];

/** Every script under benchmarks/ that runs on its own (not `deno bench` files, not LIBRARIES). */
function scripts(): string[] {
  return [...Deno.readDirSync(BENCHMARKS)]
    .filter((e) => e.isFile && e.name.endsWith(".ts") && !e.name.endsWith("_bench.ts"))
    .map((e) => e.name)
    .filter((name) => !LIBRARIES.includes(name))
    .sort();
}

/** How the messages name a script: its deno task where it has one, else its path. */
function commandName(file: string): string {
  const task = Object.entries(denoJson.tasks).find(([, t]) =>
    t.command.endsWith(` benchmarks/${file}`)
  );
  return task ? task[0] : `benchmarks/${file}`;
}

function invocation(name: string): string {
  return name.endsWith(".ts") ? `deno run -A ${name}` : `deno task ${name}`;
}

Deno.test("the benchmark scripts are the ones this test knows", () => {
  // a new script joins the two tests below by itself; this list says which tasks name them
  assert.deepEqual(scripts().map((f) => [basename(f), commandName(f)]), [
    ["golden.ts", "golden"],
    ["gpu_check.ts", "benchmarks/gpu_check.ts"],
    ["heap_probe.ts", "benchmarks/heap_probe.ts"],
    ["iteration_cost.ts", "benchmarks/iteration_cost.ts"],
    ["kernel_profile.ts", "benchmarks/kernel_profile.ts"],
    ["long_run.ts", "long-run"],
    ["memory.ts", "perf:memory"],
    ["memory_model.ts", "memory-model"],
    ["mixtures_table.ts", "benchmarks/mixtures_table.ts"],
    ["parzen_step.ts", "benchmarks/parzen_step.ts"],
    ["perf.ts", "perf:report"],
    ["sample_dropout.ts", "benchmarks/sample_dropout.ts"],
    ["train_step.ts", "benchmarks/train_step.ts"],
    ["vs_pytorch.ts", "perf:torch"],
  ]);
});

Deno.test("every benchmark script: --help prints its usage and exit codes, exit 0", async () => {
  for (const file of scripts()) {
    const name = commandName(file);
    const r = await runDeno(["run", "-A", `benchmarks/${file}`, "--help"]);
    assert.equal(r.code, 0, `${file}: ${r.stderr}`);
    assert.ok(r.stdout.startsWith(`usage: ${invocation(name)}`), `${file}: ${r.stdout}`);
    assert.match(r.stdout, /\n\nexit codes: 0 /, file);
    assert.equal(r.stderr, "", file);
  }
});

Deno.test("every benchmark script: a bad flag is one line and a pointer to --help, exit 2", async () => {
  for (const file of scripts()) {
    const r = await runDeno(["run", "-A", `benchmarks/${file}`, "--bogus"]);
    assert.equal(r.code, 2, `${file}: ${r.stderr}`);
    assert.equal(
      r.stderr,
      `error: unknown flag --bogus\nrun "${invocation(commandName(file))} --help" for usage\n`,
      file,
    );
    assert.equal(r.stdout, "", `${file} measured nothing`);
  }
});

Deno.test("benchmark scripts: a bad argument is named with what is allowed", async () => {
  const cases: [string, string[], string][] = [
    [
      "train_step.ts",
      ["mnist-mlp", "gpu", "1", "10"],
      'BACKEND: found "gpu"; expected one of auto, webgpu, wasm+openblas, wasm, cpu',
    ],
    [
      "train_step.ts",
      ["mnist-mlp", "wasm", "0", "10"],
      'BLAS_THREADS: found "0"; expected an integer ≥ 1',
    ],
    [
      "train_step.ts",
      ["mnist-mlp", "wasm", "1", "10", "--train-step", "fast"],
      '--train-step: found "fast"; expected one of auto, fused, autodiff',
    ],
    [
      "kernel_profile.ts",
      ["mnist-mlp"],
      "give CONFIG BACKEND BLAS_THREADS ITERATIONS, found 1 argument(s)",
    ],
    ["heap_probe.ts", [], "give CONFIG, e.g. cifar10-conv"],
    ["parzen_step.ts", ["wasm", "two"], 'BLAS_THREADS: found "two"; expected an integer ≥ 1'],
    [
      "iteration_cost.ts",
      ["ring-gan", "smoke", "wasm", "1"],
      'ITERATIONS: found "1"; expected at least 2 to time',
    ],
    ["mixtures_table.ts", [], "give the folder of runs (OUT_DIR)"],
    ["vs_pytorch.ts", ["--rounds", "0"], '--rounds: found "0"; expected an integer ≥ 1'],
    [
      "memory.ts",
      ["--only", "mnist-mlp,mnist"],
      '--only: found "mnist"; expected names from mnist-mlp, mnist-tutorial, cifar10-mlp, cifar10-conv',
    ],
    ["long_run.ts", [], "give run folders (…/<experiment>/seed-N), or summaries with a flag"],
    ["gpu_check.ts", ["--budget-s", "soon"], '--budget-s: found "soon"; expected an integer ≥ 1'],
    ["sample_dropout.ts", [], "give RUN_DIR, a run folder"],
    [
      "sample_dropout.ts",
      ["x", "--milestone", "0"],
      '--milestone: found "0"; expected an integer ≥ 1',
    ],
  ];
  for (const [file, args, message] of cases) {
    const r = await runDeno(["run", "-A", `benchmarks/${file}`, ...args]);
    assert.equal(r.code, 2, `${file}: ${r.stderr}`);
    assert.equal(
      r.stderr,
      `error: ${message}\nrun "${invocation(commandName(file))} --help" for usage\n`,
      file,
    );
  }
});

Deno.test("benchmark scripts: a config that does not exist is one line, exit 2, before any training", async () => {
  for (const args of [["heap_probe.ts", "nosuch"], ["train_step.ts", "nosuch", "wasm", "1", "5"]]) {
    const r = await runDeno(["run", "-A", `benchmarks/${args[0]}`, ...args.slice(1)]);
    assert.equal(r.code, 2, `${args[0]}: ${r.stderr}`);
    const lines = r.stderr.trimEnd().split("\n");
    assert.equal(lines.length, 1, r.stderr);
    assert.match(
      lines[0],
      /^error: .*configs\/nosuch\.json: unknown experiment; found no experiment named "nosuch"/,
    );
  }
});

Deno.test("sample_dropout.ts: a folder without a checkpoint is one line, exit 3", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ganbench-sample-dropout-" });
  try {
    const r = await runDeno(["run", "-A", "benchmarks/sample_dropout.ts", dir]);
    assert.equal(r.code, 3, r.stderr);
    assert.equal(r.stderr, `error: ${dir}: no checkpoints/latest.ckpt\n`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("mixtures_table.ts: a folder without runs writes nothing over the table", async () => {
  const dir = Deno.makeTempDirSync();
  const to = join(dir, "table.json");
  Deno.writeTextFileSync(to, "{}\n");
  const r = await runDeno(["run", "-A", "benchmarks/mixtures_table.ts", dir, "--to", to]);
  assert.equal(r.code, 2, r.stderr);
  assert.equal(
    r.stderr.split("\n")[0],
    `error: found no run under ${dir} (expected <experiment>/seed-N/result.json)`,
  );
  assert.equal(Deno.readTextFileSync(to), "{}\n");
});
