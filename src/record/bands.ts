/**
 * Stability bands: a config's `expect` declares, per profile, the range each named value of
 * a finished run must fall in. `checkRun` turns a result into the checks written to
 * result.json (`checks`) and gated on by `bench --check`.
 *
 * A band's metric is either a number of result.metrics (what evaluation measured) or one
 * derived here from the run's training record (DERIVED_METRICS, src/config/metric-names.ts): divergence, late-training
 * dynamics from the recorded history, and repeated random draws.
 */
import type { DrawCounts } from "./draws.ts";
import type { History } from "./history.ts";

type StabilitySeries = "dGradNorm" | "gGradNorm" | "dAccuracy" | "dWon";
import { dWonFraction, lastQuarter, oscillation } from "./stability.ts";

export interface Band {
  metric: string;
  /** Inclusive bounds; a missing side is open. */
  low?: number;
  high?: number;
  /** Where the numbers come from (measured runs, the paper). */
  basis: string;
}

/** One band applied to one run: what the report shows beside the curve. */
export interface Check {
  metric: string;
  low: number | null;
  high: number | null;
  /** null when the run did not produce the value (e.g. it diverged before evaluation). */
  value: number | null;
  pass: boolean;
}

/** What checkRun reads: a subset of Result, so old result files and tests can be checked too. */
export interface CheckedRun {
  status: "completed" | "diverged";
  metrics: Record<string, number>;
  /**
   * The recorded series (the iteration numbers are not needed); the stability signals may be
   * absent (a record from before they existed).
   */
  history: Omit<History, "step" | StabilitySeries> & Partial<Pick<History, StabilitySeries>>;
  draws?: Record<"noise" | "dropout" | "real", DrawCounts>;
}

/** The value a band is about, or null when the run does not have it. */
export function metricValue(run: CheckedRun, metric: string): number | null {
  const finite = (x: number | null | undefined) =>
    typeof x === "number" && Number.isFinite(x) ? x : null;
  if (metric === "diverged") return run.status === "diverged" ? 1 : 0;
  const late = /^lastQuarter\.(\w+)$/.exec(metric);
  if (late) {
    const series = historySeries(run.history, late[1]);
    if (!series || series.length === 0) return null;
    const tail = lastQuarter(series);
    if (tail.some((x) => finite(x) === null)) return null;
    return (tail as number[]).reduce((a, b) => a + b, 0) / tail.length;
  }
  const swings = /^oscillation\.(dLoss|gLoss)$/.exec(metric);
  if (swings) return oscillation(lastQuarter(run.history[swings[1] as "dLoss" | "gLoss"]));
  if (metric === "dWonFraction") return dWonFraction(run.history.dWon ?? []);
  const repeated = /^repeated(NoiseDraws|DropoutMasks|RealBatches)$/.exec(metric);
  if (repeated) {
    const kind = ({ NoiseDraws: "noise", DropoutMasks: "dropout", RealBatches: "real" } as const)[
      repeated[1] as "NoiseDraws"
    ];
    return run.draws ? run.draws[kind].repeats : null;
  }
  return finite(run.metrics[metric]);
}

/** A recorded series by name, or `dGap` (D(x) − D(G(z))); undefined for an unknown name. */
export function historySeries(
  h: CheckedRun["history"],
  name: string,
): (number | null)[] | undefined {
  if (name === "dGap") return h.dReal.map((r, i) => r - h.dFake[i]);
  return (h as unknown as Record<string, number[] | undefined>)[name];
}

export function checkRun(bands: readonly Band[], run: CheckedRun): Check[] {
  return bands.map((band) => {
    const value = metricValue(run, band.metric);
    const pass = value !== null &&
      (band.low === undefined || value >= band.low) &&
      (band.high === undefined || value <= band.high);
    return { metric: band.metric, low: band.low ?? null, high: band.high ?? null, value, pass };
  });
}

/** "[3.85, 4.15]", "≥ 8", "≤ 0". */
export function formatBand(check: Pick<Check, "low" | "high">): string {
  if (check.low !== null && check.high !== null) {
    return check.low === check.high ? `= ${check.low}` : `[${check.low}, ${check.high}]`;
  }
  return check.low !== null ? `≥ ${check.low}` : `≤ ${check.high}`;
}

/** One line per missed band, naming the run, the band and the value. */
export function describeMiss(run: string, check: Check): string {
  const value = check.value === null ? "no value" : String(Number(check.value.toPrecision(6)));
  return `${run}: ${check.metric} = ${value}, outside ${formatBand(check)}`;
}
