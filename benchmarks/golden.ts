/**
 * `deno task golden [--record] [--only NAME,...]`: short runs of every shipped config on
 * each compute path, compared with the numbers recorded in test/golden/fingerprints.json
 * (every fingerprint hash, the history's step series and the metrics, exactly). A change that is meant to
 * change no number (a refactor, a faster kernel) must leave them all equal; `--record`
 * rewrites the file after a change that alters numbers on purpose (say which in the commit),
 * and `--record --only NAME,...` rewrites only those cases, keeping every other as it was.
 *
 * OpenBLAS results depend on the library's kernel family and version, so its cases are
 * compared only on a machine with the recorded ones (and reported as not comparable
 * elsewhere); plain wasm results are the same on every x86-64 machine.
 *
 * test/golden_test.ts runs the plain-wasm cases that take seconds; this task runs them all
 * (a few minutes: the CIFAR-10 models are large).
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { createHash } from "node:crypto";
import { type History, STEP_SERIES } from "../src/record/history.ts";
import { readResult } from "../src/record/result.ts";
import { resultPath } from "../src/record/run-folder.ts";
import { tfdFixture } from "../test/fixtures.ts";
import { parseCommand, runMain, UsageError } from "../src/cli/args.ts";
import { runBench, runDirOf, setsOf } from "../test/helpers.ts";

export interface GoldenCase {
  name: string;
  experiment: string;
  backend: "wasm" | "wasm+openblas";
  trainStep?: "fused" | "autodiff";
  args: string[];
}

const CHEAP = ["metrics.classifier=null", "metrics.nearestTraining=null"];
const MNIST = ['training.budget={"iterations":6}', "training.logEvery=2", ...CHEAP];
const CIFAR = ['training.budget={"iterations":2}', "training.batchSize=32", ...CHEAP];
const TFD = [
  'training.budget={"iterations":3}',
  "training.batchSize=20",
  "training.logEvery=1",
  "metrics.samples=50",
  "metrics.parzen=null",
  ...CHEAP,
];
const set = (overrides: string[]) => overrides.flatMap((o) => ["--set", o]);

export const GOLDEN_CASES: GoldenCase[] = [
  { name: "gaussian-moments", experiment: "gaussian-moments", backend: "wasm", args: [] },
  {
    name: "gaussian-moments-blog",
    experiment: "gaussian-moments-blog",
    backend: "wasm",
    args: set(['training.budget={"iterations":200}']),
  },
  { name: "mnist-mlp/wasm", experiment: "mnist-mlp", backend: "wasm", args: set(MNIST) },
  {
    name: "mnist-tutorial/wasm",
    experiment: "mnist-tutorial",
    backend: "wasm",
    args: set(MNIST),
  },
  {
    name: "mnist-mlp/openblas-fused",
    experiment: "mnist-mlp",
    backend: "wasm+openblas",
    trainStep: "fused",
    args: set(MNIST),
  },
  {
    name: "mnist-mlp/openblas-autodiff",
    experiment: "mnist-mlp",
    backend: "wasm+openblas",
    trainStep: "autodiff",
    args: set(MNIST),
  },
  {
    name: "mnist-tutorial/openblas-fused",
    experiment: "mnist-tutorial",
    backend: "wasm+openblas",
    trainStep: "fused",
    args: set(MNIST),
  },
  {
    name: "mnist-tutorial/openblas-autodiff",
    experiment: "mnist-tutorial",
    backend: "wasm+openblas",
    trainStep: "autodiff",
    args: set(MNIST),
  },
  {
    name: "tfd-mlp-pretrain/openblas-fused",
    experiment: "tfd-mlp-pretrain",
    backend: "wasm+openblas",
    trainStep: "fused",
    args: set(TFD),
  },
  {
    name: "cifar10-mlp/openblas-fused",
    experiment: "cifar10-mlp",
    backend: "wasm+openblas",
    trainStep: "fused",
    args: set(CIFAR),
  },
  {
    name: "cifar10-conv/openblas",
    experiment: "cifar10-conv",
    backend: "wasm+openblas",
    args: set(CIFAR),
  },
];

export interface GoldenRecord {
  /** sha256 over every (step, hash) fingerprint pair, in order. */
  fingerprints: string;
  finalFingerprint: string;
  /**
   * sha256 of the recorded history: `step` and the series a step computed when the file was
   * recorded (STEP_SERIES, in order), as JSON. The stability signals added later are left out,
   * so that recording them changes no golden record.
   */
  history: string;
  metrics: Record<string, number>;
  /** The OpenBLAS kernel family and version the case ran with (null on plain wasm). */
  blas: string | null;
}

const sha = (text: string) => createHash("sha256").update(text).digest("hex");

/** A TFD-shaped file for the TFD cases (120 images: 80 unlabelled, the rest in folds). */
function tfdFile(dir: string): string {
  const n = 120;
  const codes = Array.from(
    { length: n },
    (_, k) => k < 80 ? [0, 0, 0, 0, 0] : [0, 1, 2, 3, 4].map((f) => 1 + ((k + f) % 3)),
  );
  const path = join(dir, "TFD_48x48.mat");
  Deno.writeFileSync(path, tfdFixture(n, 48, codes));
  return path;
}

/** Runs one case through the bench CLI (as a user would) and reduces its result. */
export async function runGoldenCase(c: GoldenCase, keep?: string): Promise<GoldenRecord> {
  const out = keep ?? Deno.makeTempDirSync({ prefix: "golden-" });
  Deno.mkdirSync(out, { recursive: true });
  const data = c.experiment.startsWith("tfd") ? ["--tfd", tfdFile(out)] : [];
  const r = await runBench([
    c.experiment,
    "--profile",
    "smoke",
    "--backend",
    c.backend,
    "--blas-threads",
    "1",
    "--train-step",
    c.trainStep ?? "auto",
    "--out",
    out,
    ...data,
    ...c.args,
  ]);
  if (r.code !== 0) throw new Error(`${c.name}: bench exited ${r.code}\n${r.stderr}`);
  const dir = runDirOf(out, c.experiment, setsOf(c.args), 1, "smoke");
  const skipped = join(dir, "skipped.json");
  if (existsSync(skipped)) {
    // e.g. CIFAR-10 not downloaded: deno task data cifar10, or $GANBENCH_CIFAR10
    throw new Error(
      `${c.name}: the run was skipped: ${JSON.parse(Deno.readTextFileSync(skipped)).reason}`,
    );
  }
  const result = readResult(resultPath(dir));
  if (!keep) Deno.removeSync(out, { recursive: true });
  const fps = result.fingerprints as { step: number; hash: string }[];
  const blas = result.backend.blas;
  return {
    fingerprints: sha(JSON.stringify(fps.map((f) => [f.step, f.hash]))),
    finalFingerprint: fps.at(-1)!.hash,
    history: sha(JSON.stringify(goldenHistory(result.history))),
    metrics: result.metrics,
    blas: blas ? `${blas.core} ${blas.config.split(" ")[1]}` : null,
  };
}

/** The history's series that golden records hash, in their recorded order. */
export function goldenHistory(h: History): Pick<History, "step" | typeof STEP_SERIES[number]> {
  return Object.fromEntries(
    (["step", ...STEP_SERIES] as const).map((k) => [k, h[k]]),
  ) as Pick<History, "step" | typeof STEP_SERIES[number]>;
}

export const GOLDEN_FILE = new URL("../test/golden/fingerprints.json", import.meta.url);

export function readGolden(): Record<string, GoldenRecord> {
  return JSON.parse(Deno.readTextFileSync(GOLDEN_FILE));
}

/** Names of the fields where `now` differs from `was` (empty when equal). */
export function goldenDifferences(was: GoldenRecord, now: GoldenRecord): string[] {
  const fields = ["fingerprints", "finalFingerprint", "history"] as const;
  const out: string[] = fields.filter((f) => was[f] !== now[f]);
  for (const k of new Set([...Object.keys(was.metrics), ...Object.keys(now.metrics)])) {
    if (!Object.is(was.metrics[k], now.metrics[k])) {
      out.push(`metrics.${k}: ${was.metrics[k]} → ${now.metrics[k]}`);
    }
  }
  return out;
}

const USAGE = `usage: deno task golden [--record] [--only NAME,...] [--keep DIR]

Runs every golden case and compares it with test/golden/fingerprints.json; --record rewrites the
file (with --only: only those cases); --keep DIR keeps each case's run folder under DIR.
cases: ${GOLDEN_CASES.map((c) => c.name).join(", ")}

exit codes: 0 every case equal (or recorded), 1 a case differs, 2 bad flag
`;

async function main(args: string[]): Promise<number> {
  const parsed = parseCommand({
    name: "golden",
    usage: USAGE,
    options: {
      record: { type: "boolean", default: false },
      only: { type: "string" },
      keep: { type: "string" },
    },
  }, args);
  if (parsed === null) return 0;
  const { values } = parsed;
  const only = values.only?.split(",");
  const unknown = only?.filter((name) => !GOLDEN_CASES.some((c) => c.name === name)) ?? [];
  if (unknown.length) {
    throw new UsageError(
      `--only: no case ${unknown.map((n) => `"${n}"`).join(", ")}; cases: ` +
        GOLDEN_CASES.map((c) => c.name).join(", "),
    );
  }
  const recorded = readGolden();
  // --record --only NAME re-records those cases and keeps the others as they were
  const now: Record<string, GoldenRecord> = values.record && !only ? {} : { ...recorded };
  let differ = 0;
  for (const c of GOLDEN_CASES.filter((c) => !only || only.includes(c.name))) {
    const t0 = performance.now();
    const keep = values.keep ? join(values.keep, c.name.replace("/", "_")) : undefined;
    const got = await runGoldenCase(c, keep);
    const seconds = ((performance.now() - t0) / 1000).toFixed(1);
    now[c.name] = got;
    const was = recorded[c.name];
    if (values.record) console.log(`${c.name}: recorded (${seconds} s)`);
    else if (!was) console.log(`${c.name}: not recorded yet`);
    else if (was.blas !== got.blas) {
      console.log(`${c.name}: not comparable (recorded on ${was.blas}, this machine ${got.blas})`);
    } else {
      const d = goldenDifferences(was, got);
      if (d.length) differ++;
      console.log(`${c.name}: ${d.length ? `DIFFERS: ${d.join("; ")}` : "equal"} (${seconds} s)`);
    }
  }
  if (values.record) {
    Deno.writeTextFileSync(GOLDEN_FILE, JSON.stringify(now, null, 2) + "\n");
    console.log(`wrote ${GOLDEN_FILE.pathname}`);
  }
  return differ ? 1 : 0;
}

if (import.meta.main) await runMain("golden", () => main(Deno.args));
