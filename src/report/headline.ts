/**
 * What a reader looks at first, decided once for the run page, the index and `diff`: the
 * run's main metric (with its standard error and the paper's number where they exist) and
 * whether the run's numbers may be compared with the paper's at all.
 */
import type { Result } from "../record/result.ts";

/** Metrics that can headline a run, best first; the first the run has is its main one. */
export const MAIN_METRICS = ["parzenMean", "jsdBits", "classifierScore", "fakePixelStd"];

export interface MainMetric {
  key: string;
  value: number;
  /** Standard error of this run's value (over test images), when recorded. */
  se: number | null;
  /** The paper's number for it (Table 1), when the paper reports one. */
  paper: { mean: number; se: number } | null;
}

export function mainMetric(r: Pick<Result, "metrics" | "parzen">): MainMetric | null {
  const key = MAIN_METRICS.find((k) => typeof r.metrics[k] === "number");
  if (!key) return null;
  const parzen = key === "parzenMean" ? r.parzen : null;
  return {
    key,
    value: r.metrics[key],
    se: parzen ? parzen.se : null,
    paper: parzen?.paper ? { mean: parzen.paper.mean, se: parzen.paper.se } : null,
  };
}

/**
 * Why the run's numbers are not comparable with the paper's, or null when they are: only
 * a completed run of the paper profile, scored after its full budget, is.
 */
export function notComparable(
  r: Pick<Result, "profile" | "status" | "iterations" | "evaluatedAtIteration" | "history">,
): string | null {
  if (r.profile === "smoke") return "smoke run: numbers are not comparable to the paper";
  if (r.profile !== "paper") {
    return `${r.profile} profile: numbers are not comparable to the paper`;
  }
  if (r.status !== "completed") return `${r.status} run: numbers are not comparable to the paper`;
  const trained = r.evaluatedAtIteration ?? r.history.step.at(-1) ?? 0;
  if (trained < r.iterations) {
    return `scored after ${trained} of ${r.iterations} iterations: numbers are not comparable to the paper`;
  }
  return null;
}
