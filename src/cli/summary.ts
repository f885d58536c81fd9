/**
 * The end of a bench invocation: one line per run (completed, diverged, skipped with its
 * reason, reused, failed), the bands missed, and the same merged into <out>/suite.json for
 * indexes and CI. No TF.js here: a parent of --jobs workers only reads their outcomes.
 */
import { join } from "node:path";
import { type Check, describeMiss } from "../record/bands.ts";
import { withSharedFiles } from "../record/shared-files.ts";
import { writeFileAtomic } from "../util/atomic.ts";
import { formatDuration } from "./progress.ts";

export const SUITE_FORMAT = 1;

/** How one planned run ended. */
export interface Outcome {
  key: string;
  experiment: string;
  seed: number;
  profile: string;
  dir: string;
  status: "completed" | "diverged" | "skipped" | "reused" | "failed" | "interrupted";
  /** Why it was skipped or failed. */
  reason?: string;
  /** A failure's documented exit code (src/cli/exit.ts): 3 for data and files, else 1. */
  exitCode?: number;
  /** The run's bands and values (absent: none declared for its profile). */
  checks?: Check[];
  wallSeconds?: number;
  /** Training seconds per iteration, timed between the first and last progress report. */
  secondsPerIteration?: number;
  /** Peak resident memory of the worker that ran it (--jobs > 1), sampled at progress reports. */
  peakRssGB?: number;
}

export interface SuiteSummary {
  format: typeof SUITE_FORMAT;
  profile: string;
  seeds: number[];
  jobs: number;
  check: boolean;
  startedAt: string;
  wallSeconds: number;
  runs: Outcome[];
  /** Bands missed, one line each: run, metric, value, band. */
  missed: string[];
}

export function missedBands(outcomes: readonly Outcome[]): string[] {
  return outcomes.flatMap((o) =>
    (o.checks ?? []).filter((c) => !c.pass).map((c) =>
      describeMiss(`${o.experiment} seed ${o.seed} (${o.profile})`, c)
    )
  );
}

export function summaryLines(s: SuiteSummary): string[] {
  const width = Math.max(...s.runs.map((o) => o.key.length));
  const lines = [
    `${s.runs.length} runs (profile ${s.profile}, seeds ${s.seeds.join(",")}, ` +
    `${s.jobs} job${s.jobs > 1 ? "s" : ""}) in ${formatDuration(s.wallSeconds)}:`,
  ];
  for (const o of s.runs) {
    const checks = o.checks?.length
      ? `; bands ${o.checks.filter((c) => c.pass).length}/${o.checks.length} met`
      : "";
    const time = o.wallSeconds === undefined ? "" : ` in ${o.wallSeconds.toFixed(1)} s`;
    const why = o.reason ? `: ${o.reason}` : "";
    lines.push(`  ${o.key.padEnd(width)}  ${o.status}${time}${checks}${why}`);
  }
  const checked = s.runs.flatMap((o) => o.checks ?? []);
  if (checked.length) {
    lines.push(
      `bands: ${checked.filter((c) => c.pass).length} met, ${s.missed.length} missed` +
        (s.check ? "" : " (not gated: add --check)"),
    );
    for (const m of s.missed) lines.push(`  MISSED ${m}`);
  } else if (s.check) {
    lines.push(`bands: none declared for profile ${s.profile}`);
  }
  return lines;
}

/**
 * Writes `s` into <out>/suite.json under the folder's shared-files lock: its runs replace
 * the file's entries for the same runs, and the file's other runs (of another bench on this
 * --out, at the same time or before) stay; the other fields describe this invocation.
 */
export async function writeSummary(out: string, s: SuiteSummary): Promise<string> {
  const path = join(out, "suite.json");
  await withSharedFiles(out, async () => {
    const merged = mergeSummaries(readSummary(path), s);
    await writeFileAtomic(path, JSON.stringify(merged, null, 2) + "\n");
  });
  return path;
}

/** `latest` with the runs of `earlier` it does not have (in their place, new ones after). */
export function mergeSummaries(earlier: SuiteSummary | null, latest: SuiteSummary): SuiteSummary {
  if (!earlier) return latest;
  const fresh = new Map(latest.runs.map((o) => [o.key, o]));
  const known = new Set(earlier.runs.map((o) => o.key));
  const runs = [
    ...earlier.runs.map((o) => fresh.get(o.key) ?? o),
    ...latest.runs.filter((o) => !known.has(o.key)),
  ];
  return { ...latest, runs, missed: missedBands(runs) };
}

/** The suite.json there, or null when there is none or it is not one (then it is replaced). */
function readSummary(path: string): SuiteSummary | null {
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
  try {
    const s = JSON.parse(text);
    if (s?.format === SUITE_FORMAT && Array.isArray(s.runs)) return s;
  } catch { /* reported below */ }
  console.error(`note: ${path} was not a suite summary of this version; it is replaced`);
  return null;
}
