/**
 * The end of a bench invocation: one line per run (completed, diverged, skipped with its
 * reason, reused, failed), the bands missed, and the same as <out>/suite.json for indexes
 * and CI. No TF.js here: a parent of --jobs workers only reads their outcomes.
 */
import { join } from "node:path";
import { type Check, describeMiss } from "../record/bands.ts";
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

export async function writeSummary(out: string, s: SuiteSummary): Promise<string> {
  const path = join(out, "suite.json");
  await writeFileAtomic(path, JSON.stringify(s, null, 2) + "\n");
  return path;
}
