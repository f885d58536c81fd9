/**
 * `deno task memory-model [--only NAME,...] [--to FILE]`: the memory model
 * (src/cli/memory-model.ts) against fresh measurements. Runs each shipped config's smoke
 * profile alone, one after another, in its own `bench` process under `/usr/bin/time -v`, and
 * records the process's peak resident memory beside the model's estimate, and their ratio
 * (after one uncounted run, so that no row pays for compiling the modules).
 * A config whose data are not on this machine is listed as skipped, with bench's reason.
 * Writes benchmarks/results/memory-model.json; with --only, the other configs' rows in that
 * file are kept. `--estimates-only` runs nothing: it recomputes the estimates and ratios of
 * the file's measured rows with the model as it is now (after a change to the model).
 */
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { listConfigs, loadConfig } from "../src/config/load.ts";
import { estimateMemory } from "../src/cli/memory-model.ts";
import { parseCommand, runMain, UsageError } from "../src/cli/args.ts";
import { writeFileAtomic } from "../src/util/atomic.ts";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const PROFILE = "smoke";
const GB = 1024 ** 3;

export interface Measured {
  experiment: string;
  profile: string;
  backend: string;
  measuredGB: number;
  estimatedGB: number;
  /** measured / estimated: above 1, the model underestimates. */
  ratio: number;
  wallSeconds: number;
}

export interface MemoryModelTable {
  format: 1;
  command: string;
  measuredAt: string;
  /** Smallest and largest ratio over the measured configs. */
  ratio: { min: number; max: number };
  runs: Measured[];
  skipped: { experiment: string; reason: string }[];
}

/** `deno run <the bench task's flags> src/cli/bench.ts`, from deno.json (one source of truth). */
function benchCommand(): string[] {
  const tasks = JSON.parse(Deno.readTextFileSync(join(ROOT, "deno.json"))).tasks;
  const [deno, ...rest] = String(tasks.bench.command).split(" ");
  if (deno !== "deno") throw new Error(`deno.json's bench task does not start with deno`);
  return [Deno.execPath(), ...rest];
}

async function measure(
  experiment: string,
): Promise<Measured | { experiment: string; reason: string }> {
  const out = await Deno.makeTempDir({ prefix: "ganbench-memory-" });
  try {
    const [cmd, ...args] = ["/usr/bin/time", "-v", ...benchCommand()];
    const t0 = performance.now();
    const run = await new Deno.Command(cmd, {
      args: [...args, experiment, "--profile", PROFILE, "--out", out],
      cwd: ROOT,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const wallSeconds = (performance.now() - t0) / 1000;
    const stderr = new TextDecoder().decode(run.stderr);
    if (!run.success) throw new Error(`bench ${experiment} failed:\n${stderr}`);
    const suite = JSON.parse(await Deno.readTextFile(join(out, "suite.json")));
    const outcome = suite.runs[0];
    if (outcome.status === "skipped") return { experiment, reason: outcome.reason };
    const kb = /Maximum resident set size \(kbytes\): (\d+)/.exec(stderr);
    if (!kb) throw new Error(`no peak RSS in /usr/bin/time's report:\n${stderr}`);
    const result = JSON.parse(await Deno.readTextFile(join(out, outcome.key, "result.json")));
    const measuredGB = (Number(kb[1]) * 1024) / GB;
    const estimatedGB = estimateMemory(loadConfig(experiment, { profile: PROFILE }).config).totalGB;
    return {
      experiment,
      profile: PROFILE,
      backend: result.backend.name,
      measuredGB: round(measuredGB),
      estimatedGB: round(estimatedGB),
      ratio: round(measuredGB / estimatedGB),
      wallSeconds: Math.round(wallSeconds),
    };
  } finally {
    await Deno.remove(out, { recursive: true });
  }
}

const round = (x: number) => Number(x.toPrecision(3));

/** The row with the model's estimate as it is now. */
function reestimate(row: Measured): Measured {
  const config = loadConfig(row.experiment, { profile: row.profile }).config;
  const estimatedGB = estimateMemory(config).totalGB;
  return { ...row, estimatedGB: round(estimatedGB), ratio: round(row.measuredGB / estimatedGB) };
}

const USAGE = `usage: deno task memory-model [--only NAME,...] [--to FILE] [--estimates-only]

Runs each config's smoke profile alone under /usr/bin/time -v and writes its peak RSS beside the
memory model's estimate (default FILE: benchmarks/results/memory-model.json).

  --only NAME,...   these configs only (the file's other rows are kept)
  --estimates-only  measure nothing: recompute the estimates of the rows in FILE

exit codes: 0 written, 2 bad flag or config name
`;

async function main(args: string[]): Promise<number> {
  const parsed = parseCommand({
    name: "memory-model",
    usage: USAGE,
    options: {
      only: { type: "string" },
      "estimates-only": { type: "boolean", default: false },
      to: { type: "string", default: join(ROOT, "benchmarks/results/memory-model.json") },
    },
  }, args);
  if (parsed === null) return 0;
  const { values } = parsed;
  const names = values.only ? values.only.split(",") : listConfigs();
  const unknown = names.filter((n) => !listConfigs().includes(n));
  if (unknown.length) {
    throw new UsageError(
      `--only: found "${unknown.join(",")}"; expected configs from ${listConfigs().join(", ")}`,
    );
  }
  let previous: MemoryModelTable | null = null;
  if (values.only || values["estimates-only"]) {
    try {
      previous = JSON.parse(await Deno.readTextFile(values.to));
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
  }
  const estimatesOnly = values["estimates-only"];
  const kept = (r: { experiment: string }) => estimatesOnly || !names.includes(r.experiment);
  const runs = (previous?.runs ?? []).filter(kept).map((r) => estimatesOnly ? reestimate(r) : r);
  const skipped = (previous?.skipped ?? []).filter(kept);
  // a first start compiles and caches the modules, which a later one does not: not counted
  if (!estimatesOnly) await measure(names[0]);
  for (const name of estimatesOnly ? [] : names) {
    const row = await measure(name);
    if ("reason" in row) {
      skipped.push(row);
      console.log(`${name}: skipped (${row.reason})`);
    } else {
      runs.push(row);
      console.log(
        `${name}: ${row.measuredGB} GB measured, ${row.estimatedGB} GB estimated, ratio ${row.ratio}`,
      );
    }
  }
  const byName = (a: { experiment: string }, b: { experiment: string }) =>
    a.experiment < b.experiment ? -1 : a.experiment > b.experiment ? 1 : 0;
  runs.sort(byName);
  skipped.sort(byName);
  const ratios = runs.map((r) => r.ratio);
  const table: MemoryModelTable = {
    format: 1,
    command: "deno task memory-model",
    measuredAt: estimatesOnly && previous
      ? previous.measuredAt
      : new Date().toISOString().replace(/\.\d+Z$/, "Z"),
    ratio: { min: Math.min(...ratios), max: Math.max(...ratios) },
    runs,
    skipped,
  };
  await writeFileAtomic(values.to, JSON.stringify(table, null, 2) + "\n");
  console.log(`ratio measured / estimated: ${table.ratio.min}–${table.ratio.max} → ${values.to}`);
  return 0;
}

if (import.meta.main) await runMain("memory-model", () => main(Deno.args));
