/**
 * `deno task long-run RUN_DIR... [--to benchmarks/results]`: the summary of a long run
 * (training still going, interrupted, or done) that is worth committing: what it is, how far
 * it got, every tracked score, its segments and the fingerprints that let a later run be
 * checked against it (every 12,500 iterations, the milestones and the last). Reads the run
 * folder's result.json when the run has finished, else the header of its latest checkpoint,
 * so a summary can be taken while the run trains. Writes <to>/<experiment>-long-seed-N.json.
 *
 * A run folder (and its checkpoints) may be lost with a machine; these summaries are what
 * docs/results.md's tables are built from.
 */
import { basename, dirname, join } from "node:path";
import { forecastOf, type ScoredPoint } from "./lr_forecast.ts";
import { writeFileAtomic } from "../src/util/atomic.ts";
import { parseCommand, runMain, UsageError } from "../src/cli/args.ts";

export interface Summary {
  experiment: string;
  seed: number;
  configHash: string;
  /** The config's noise: what the campaign's variants differ by. */
  noise: unknown;
  /** What the numbers depend on besides config and seed. */
  computePath: unknown;
  /** "training" while a checkpoint is the newest record, else the result's status. */
  status: string;
  iterationsDone: number;
  /** The budget the run trains to now: its last segment's (an extension raises it). */
  budget: unknown;
  segments: unknown[];
  tracked: unknown[];
  /** step → fingerprint hash, for the steps a later run is checked at. */
  fingerprints: Record<string, string>;
  /** The final evaluation, when the run has finished. */
  metrics: Record<string, number> | null;
  summarizedAt: string;
  source: string;
}

const CHECK_EVERY = 12_500;

function readHeader(path: string): Record<string, unknown> {
  const file = Deno.openSync(path);
  try {
    const head = new Uint8Array(4);
    file.readSync(head);
    const length = new DataView(head.buffer).getUint32(0, true);
    const bytes = new Uint8Array(length);
    let at = 0;
    while (at < length) at += file.readSync(bytes.subarray(at)) ?? length;
    return JSON.parse(new TextDecoder().decode(bytes));
  } finally {
    file.close();
  }
}

export function summarize(dir: string): Summary {
  const seed = Number(basename(dir).replace(/^seed-/, ""));
  const experiment = basename(dirname(dir));
  const resultPath = join(dir, "result.json");
  const checkpointPath = join(dir, "checkpoints", "latest.ckpt");
  // deno-lint-ignore no-explicit-any
  let record: any, status: string, source: string;
  const resultTime = statTime(resultPath), checkpointTime = statTime(checkpointPath);
  if (resultTime !== null && (checkpointTime === null || resultTime >= checkpointTime)) {
    record = JSON.parse(Deno.readTextFileSync(resultPath));
    status = record.status;
    source = "result.json";
  } else if (checkpointTime !== null) {
    record = readHeader(checkpointPath);
    status = "training";
    source = "checkpoints/latest.ckpt (header)";
  } else {
    throw new Error(`${dir}: neither result.json nor checkpoints/latest.ckpt`);
  }
  const fps = record.fingerprints as { step: number; hash: string }[];
  const milestones = new Set<number>(record.milestones ?? []);
  const last = fps.at(-1)?.step;
  const fingerprints = Object.fromEntries(
    fps.filter((f) => f.step % CHECK_EVERY === 0 || milestones.has(f.step) || f.step === last)
      .map((f) => [String(f.step), f.hash]),
  );
  return {
    experiment,
    seed,
    configHash: record.configHash,
    noise: record.config?.noise ?? null,
    computePath: record.backend,
    status,
    iterationsDone: record.iteration ?? record.evaluatedAtIteration ?? last ?? 0,
    budget: record.segments?.at(-1)?.budget ?? null,
    segments: record.segments ?? [],
    tracked: record.tracked ?? [],
    fingerprints,
    metrics: record.metrics ?? null,
    summarizedAt: new Date().toISOString(),
    source,
  };
}

/** A summary's tracked points as the Markdown table docs/results.md quotes. */
export function trackedTable(s: Summary): string {
  const n = (x: number | null | undefined, digits: number) =>
    x === null || x === undefined ? "" : x.toFixed(digits);
  const tracked = s.tracked as TrackedRow[];
  // a conditional model's coverage gets its columns; the others' tables stay as they were
  const conditional = tracked.some((p) => p.coverage);
  // so does the Parzen estimate with G sampled with its dropout, where a point has it
  const gDropout = tracked.some((p) => p.parzenWithGDropout);
  const rows = tracked.map((p) =>
    `| ${Math.round(p.epoch)} | ${n(p.parzen?.mean, 1)} ± ${n(p.parzen?.se, 1)} | ${
      n(p.parzen?.sigma, 3)
    } | ${n(p.parzenDiagnostics?.fine.mean, 1)} (σ ${n(p.parzenDiagnostics?.fine.sigma, 3)}) |${
      gDropout ? ` ${n(p.parzenWithGDropout?.mean, 1)} ± ${n(p.parzenWithGDropout?.se, 1)} |` : ""
    } ${n(p.classifierScore, 2)} | ${p.classesCovered ?? ""} |${
      conditional ? ` ${n(p.coverage?.mean, 3)} | ${p.coverage?.covered ?? ""} |` : ""
    } ${n(p.learningRate.generator, 4)} | ${n(p.scoreSeconds, 1)} |`
  );
  const coverageHead = conditional ? " class coverage | labels in control |" : "";
  const gDropoutHead = gDropout ? " Parzen, G with its dropout |" : "";
  return [
    `| epoch | Parzen (nats) | σ | fine-grid Parzen |${gDropoutHead} classifier score | classes |${coverageHead} lr | scoring (s) |`,
    `| ---: | ---: | ---: | ---: |${gDropout ? " ---: |" : ""} ---: | ---: |${
      conditional ? " ---: | ---: |" : ""
    } ---: | ---: |`,
    ...rows,
  ].join("\n");
}

/**
 * A run's column or row name: seed and noise, and OpenBLAS's kernel family where the record
 * has it (two runs of one seed on different kernels are different runs). A summary made from a
 * checkpoint's header names the family `blasCore`; one made from a finished run's result.json
 * carries the backend record, `blas.core`.
 */
function runLabel(s: Summary): string {
  const path = s.computePath as { blasCore?: string; blas?: { core?: string } } | null;
  const core = path?.blasCore ?? path?.blas?.core;
  return `seed ${s.seed}, ${noiseName(s.noise)} z${core ? `, ${core}` : ""}`;
}

/**
 * Several summaries side by side (docs/results.md's seeds table): the protocol Parzen estimate
 * (mean ± SE) at every `every`-th epoch for each run, and per config (same configHash) the mean ±
 * std over the seeds that reached that epoch.
 */
export function seedsTable(summaries: Summary[], every: number): string {
  const parzenAt = (s: Summary, epoch: number) =>
    (s.tracked as TrackedRow[]).find((p) => Math.round(p.epoch) === epoch)?.parzen ?? null;
  const groups = [...new Set(summaries.map((s) => s.configHash))].map((hash) =>
    summaries.filter((s) => s.configHash === hash)
  ).filter((g) => g.length > 1);
  const epochs = [
    ...new Set(
      summaries.flatMap((s) => (s.tracked as TrackedRow[]).map((p) => Math.round(p.epoch))),
    ),
  ].filter((e) => e % every === 0).sort((a, b) => a - b);
  const rows = epochs.map((epoch) => {
    const cells = summaries.map((s) => {
      const p = parzenAt(s, epoch);
      return p ? `${p.mean.toFixed(1)} ± ${p.se.toFixed(1)}` : "";
    });
    const stats = groups.map((g) => {
      const xs = g.map((s) => parzenAt(s, epoch)?.mean).filter((x) => x !== undefined);
      if (xs.length < 2) return "";
      const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
      const std = Math.sqrt(xs.reduce((a, x) => a + (x - mean) ** 2, 0) / (xs.length - 1));
      return `${mean.toFixed(1)} ± ${std.toFixed(1)} (${xs.length})`;
    });
    return `| ${epoch} | ${[...cells, ...stats].join(" | ")} |`;
  });
  const heads = [
    ...summaries.map(runLabel),
    ...groups.map((g) => `mean ± std over runs, ${noiseName(g[0].noise)} z`),
  ];
  return [
    `| epoch | ${heads.join(" | ")} |`,
    `| ---: | ${heads.map(() => "---:").join(" | ")} |`,
    ...rows,
  ].join("\n");
}

/**
 * Each summary's forecast (./lr_forecast.ts) on the protocol estimate and on the fine σ grid:
 * one Markdown row each, with the fit, its hold-out check and the line at `epochs`.
 */
export function forecastTable(summaries: Summary[], from: number, epochs: number[]): string {
  const rows: string[] = [];
  for (const s of summaries) {
    const tracked = s.tracked as TrackedRow[];
    const estimates: [string, (p: TrackedRow) => number | undefined][] = [
      ["protocol", (p) => p.parzen?.mean],
      ["fine grid", (p) => p.parzenDiagnostics?.fine.mean],
    ];
    for (const [name, score] of estimates) {
      const points: ScoredPoint[] = tracked.flatMap((p) => {
        const y = score(p);
        return y === undefined ? [] : [{ epoch: p.epoch, lr: p.learningRate.generator, score: y }];
      }).filter((p) => p.epoch >= from);
      const label = `${runLabel(s)}, ${name}`;
      if (points.length < 3) {
        rows.push(`| ${label} | ${points.length} | too few points past epoch ${from} |`);
        continue;
      }
      const f = forecastOf(points, from, epochs);
      const h = f.holdOut;
      const check = h
        ? `${signed(h.meanError)}, ${h.maxError.toFixed(1)} (${h.predicted} after epoch ${
          points.sort((p, q) => p.epoch - q.epoch)[h.fitted - 1].epoch
        })`
        : "";
      rows.push(
        `| ${label} | ${f.points} (${f.firstEpoch}–${f.lastEpoch}) | ${f.intercept.toFixed(1)} ${
          f.slope < 0 ? "−" : "+"
        } ${Math.abs(f.slope).toFixed(0)}·lr | ${f.rms.toFixed(2)} | ${check} | ${
          f.at.map((p) => p.score.toFixed(1)).join(" | ")
        } |`,
      );
    }
  }
  const heads = [
    "run, estimate",
    "points (epochs)",
    "fit: Parzen =",
    "rms residual",
    "hold-out error: mean, largest (points)",
    ...epochs.map((e) => `epoch ${e}`),
  ];
  return [
    `| ${heads.join(" | ")} |`,
    `| --- | ---: | ---: | ---: | ---: | ${epochs.map(() => "---:").join(" | ")} |`,
    ...rows,
  ].join("\n");
}

function signed(x: number): string {
  return `${x < 0 ? "−" : "+"}${Math.abs(x).toFixed(1)}`;
}

function noiseName(noise: unknown): string {
  const kind = (noise as { kind?: string } | null)?.kind;
  return kind === "normal" ? "N(0, 1)" : kind === "uniform" ? "uniform" : "?";
}

interface TrackedRow {
  epoch: number;
  parzen: { mean: number; se: number; sigma: number } | null;
  parzenDiagnostics: { fine: { mean: number; sigma: number } } | null;
  parzenWithGDropout?: { mean: number; se: number } | null;
  classifierScore: number | null;
  classesCovered: number | null;
  coverage?: { mean: number; covered: number } | null;
  learningRate: { generator: number };
  scoreSeconds: number;
}

function statTime(path: string): number | null {
  try {
    return Deno.statSync(path).mtime?.getTime() ?? null;
  } catch {
    return null;
  }
}

/**
 * Why writing `next` over the summary already at `path` would lose what it holds, or null: a
 * summary of another run (another first segment's start: a rerun from scratch, say on a new
 * machine) or of the same run further along (an older copy of its folder) is kept.
 */
export function overwriteProblem(
  path: string,
  existing: Pick<Summary, "segments" | "iterationsDone"> | null,
  next: Pick<Summary, "segments" | "iterationsDone">,
): string | null {
  if (!existing) return null;
  const started = (s: Pick<Summary, "segments">) =>
    (s.segments[0] as { startedAt?: string } | undefined)?.startedAt ?? "an unknown time";
  if (started(existing) !== started(next)) {
    return `${path} holds another run's summary (started ${started(existing)}, ` +
      `${existing.iterationsDone} iterations); this run started ${started(next)}: ` +
      "write it elsewhere with --to DIR";
  }
  if (existing.iterationsDone > next.iterationsDone) {
    return `${path} is further along (${existing.iterationsDone} iterations) than this run ` +
      `folder (${next.iterationsDone}): an older copy of the run?`;
  }
  return null;
}

const USAGE = "usage: deno task long-run RUN_DIR... [--to DIR]\n" +
  "       deno task long-run --table SUMMARY.json...\n" +
  "       deno task long-run --seeds [--every EPOCHS] SUMMARY.json...\n" +
  "       deno task long-run --forecast [--from EPOCH] [--at E1,E2,...] SUMMARY.json...\n\n" +
  "Writes DIR/<experiment>-long-seed-N.json for each run folder (…/<experiment>/seed-N):\n" +
  "its tracked scores, segments and check fingerprints (default DIR benchmarks/results).\n" +
  "--table prints a summary's tracked points as a Markdown table (docs/results.md).\n" +
  "--seeds prints the summaries' Parzen estimates side by side every EPOCHS epochs\n" +
  "(default 50), with the mean ± std over the seeds of each config.\n" +
  "--forecast fits Parzen = a + b·lr to the tracked points from EPOCH on (default 250,\n" +
  "where the momentum ramp ends), checks the fit on its later points, and extends it to\n" +
  "the epochs E (default 750,1000,2000; benchmarks/lr_forecast.ts): a forecast, not a score." +
  "\n\nexit codes: 0 written or printed, 1 a folder that is no run or a summary kept (of another\n" +
  "run, or further along), 2 bad flag or value\n";

async function main(args: string[]): Promise<number> {
  const parsed = parseCommand({
    name: "long-run",
    usage: USAGE,
    positionals: { max: Infinity, what: "run folders or summaries" },
    options: {
      to: { type: "string", default: "benchmarks/results" },
      table: { type: "boolean", default: false },
      seeds: { type: "boolean", default: false },
      every: { type: "string", default: "50" },
      forecast: { type: "boolean", default: false },
      from: { type: "string", default: "250" },
      at: { type: "string", default: "750,1000,2000" },
    },
  }, args);
  if (parsed === null) return 0;
  const { values, positionals } = parsed;
  if (values.seeds) {
    const every = Number(values.every);
    if (!Number.isInteger(every) || every < 1) {
      throw new UsageError(
        `--every: expected a whole number of epochs ≥ 1, found "${values.every}"`,
      );
    }
    const summaries = positionals.map((p) => JSON.parse(Deno.readTextFileSync(p)) as Summary);
    console.log(seedsTable(summaries, every));
    return 0;
  }
  if (values.forecast) {
    const from = Number(values.from);
    const at = values.at.split(",").map(Number);
    if (!Number.isFinite(from) || from < 0) {
      throw new UsageError(`--from: expected an epoch ≥ 0, found "${values.from}"`);
    }
    if (at.some((e) => !Number.isFinite(e) || e <= 0)) {
      throw new UsageError(`--at: expected epochs > 0 separated by commas, found "${values.at}"`);
    }
    const summaries = positionals.map((p) => JSON.parse(Deno.readTextFileSync(p)) as Summary);
    console.log(forecastTable(summaries, from, at));
    return 0;
  }
  if (values.table) {
    for (const path of positionals) {
      console.log(trackedTable(JSON.parse(Deno.readTextFileSync(path))));
    }
    return 0;
  }
  if (positionals.length === 0) {
    throw new UsageError("give run folders (…/<experiment>/seed-N), or summaries with a flag");
  }
  try {
    Deno.mkdirSync(values.to, { recursive: true });
  } catch (e) {
    // the task may write only under benchmarks/results (deno.json)
    const denied = e instanceof Deno.errors.NotCapable || e instanceof Deno.errors.PermissionDenied;
    console.error(
      denied
        ? `long-run: --to ${values.to}: the task writes only under benchmarks/results`
        : `long-run: --to ${values.to}: ${e instanceof Error ? e.message : e}`,
    );
    return 2;
  }
  for (const dir of positionals) {
    let s: Summary;
    try {
      s = summarize(dir);
    } catch (e) {
      console.error(`long-run: ${e instanceof Error ? e.message : e}`);
      return 1;
    }
    const out = join(values.to, `${s.experiment}-long-seed-${s.seed}.json`);
    let existing: Summary | null = null;
    try {
      existing = JSON.parse(Deno.readTextFileSync(out));
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
    const problem = overwriteProblem(out, existing, s);
    if (problem) {
      console.error(`long-run: ${problem}`);
      return 1;
    }
    await writeFileAtomic(out, JSON.stringify(s, null, 2) + "\n");
    // deno-lint-ignore no-explicit-any
    const lastScore = (s.tracked as any[]).at(-1);
    console.log(
      `${out}: ${s.status}, ${s.iterationsDone} iterations, ${s.tracked.length} tracked points` +
        (lastScore?.parzen
          ? `; last: epoch ${lastScore.epoch}, Parzen ${lastScore.parzen.mean.toFixed(1)} ± ${
            lastScore.parzen.se.toFixed(1)
          }`
          : ""),
    );
  }
  return 0;
}

if (import.meta.main) await runMain("long-run", () => main(Deno.args));
