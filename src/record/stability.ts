/**
 * The stability signals derived from a run's recorded history: the "D won" detector and the
 * oscillation of a loss. Pure functions of recorded numbers, so that bands, the run page and
 * tests compute them the same way (docs/mixtures.md §Stability signals).
 */

/** D's accuracy at or above this counts as "near 1". */
export const D_WON_ACCURACY = 0.99;

/**
 * G's gradient counts as vanished at or below this fraction of the largest G gradient norm
 * recorded in the run up to that iteration (relative, so that it means the same for any
 * model's scale).
 */
export const D_WON_GRADIENT_RATIO = 0.01;

/**
 * 1 when D has won at a recorded iteration: its accuracy is ≥ D_WON_ACCURACY and G's gradient
 * norm is ≤ D_WON_GRADIENT_RATIO × the largest G gradient norm recorded so far (this one
 * included); else 0. Non-finite inputs (a diverged step, an old record) give 0.
 */
export function dWonAt(dAccuracy: number, gGradNorm: number, largestGGradNorm: number): 0 | 1 {
  if (![dAccuracy, gGradNorm, largestGGradNorm].every(Number.isFinite)) return 0;
  const largest = Math.max(largestGGradNorm, gGradNorm);
  return dAccuracy >= D_WON_ACCURACY && gGradNorm <= D_WON_GRADIENT_RATIO * largest ? 1 : 0;
}

/** The largest finite value of a series (0 for none). */
export function largestFinite(series: readonly (number | null)[]): number {
  let m = 0;
  for (const x of series) if (typeof x === "number" && Number.isFinite(x) && x > m) m = x;
  return m;
}

/**
 * The oscillation of a series: the lag-1 sign-change rate of its first differences. With
 * Δᵢ = yᵢ − yᵢ₋₁ over the series' recorded values, the share of adjacent pairs (Δᵢ, Δᵢ₊₁)
 * with Δᵢ·Δᵢ₊₁ < 0 (a pair with a zero difference counts as no change of sign). 0 for a
 * monotone series, 1 for one that alternates up and down at every record, about 2/3 for
 * independent noise. null with fewer than 3 values, or any that is not finite.
 */
export function oscillation(series: readonly (number | null)[]): number | null {
  if (series.length < 3) return null;
  if (!series.every((x) => typeof x === "number" && Number.isFinite(x))) return null;
  const y = series as number[];
  let changes = 0;
  for (let i = 2; i < y.length; i++) {
    if ((y[i] - y[i - 1]) * (y[i - 1] - y[i - 2]) < 0) changes++;
  }
  return changes / (y.length - 2);
}

/** The last quarter of a series (at least one value): the window of `lastQuarter.*` bands. */
export function lastQuarter<T>(series: readonly T[]): T[] {
  return series.slice(-Math.ceil(series.length / 4));
}

/**
 * The share of recorded iterations at which D had won (history `dWon`); null when the record
 * has none (an empty history, or one recorded before the signal existed).
 */
export function dWonFraction(dWon: readonly (number | null)[]): number | null {
  const known = dWon.filter((x): x is number => typeof x === "number" && Number.isFinite(x));
  return known.length ? known.reduce((a, b) => a + b, 0) / known.length : null;
}
