/**
 * Where a long run's tracked Parzen scores point, under one stated model: past the momentum
 * ramp (mnist-mlp: epoch 250) the only thing that changes in the update is the learning rate,
 * lr = lr0 / decay^t, and the score has followed the learning rate spent so far. Under an
 * exponential schedule the rate spent by step t, Σ lr, is proportional to lr0 − lr(t), so "the
 * score grows linearly in the rate spent" is the straight line score = a + b·lr in the current
 * learning rate: no schedule constants are needed beyond the tracked lr values.
 *
 * `forecastOf` fits that line by least squares, checks it by fitting the earlier points alone
 * and predicting the later ones, and extends it to later epochs with the learning rate the
 * schedule will have there (the exponential through the first and last fitted points; valid
 * before the schedule's floor). A forecast, not a measurement: docs/results.md says so beside it.
 */

/** One tracked point: its epoch, the learning rate then, and a score. */
export interface ScoredPoint {
  epoch: number;
  lr: number;
  score: number;
}

export interface Forecast {
  /** The points fitted (epoch ≥ from). */
  points: number;
  firstEpoch: number;
  lastEpoch: number;
  /** score = intercept + slope·lr */
  intercept: number;
  slope: number;
  /** Root mean square of the residuals, in the score's units. */
  rms: number;
  /**
   * The line fitted to the first `fitted` points predicting the rest: mean and largest
   * absolute error (measured − predicted); null with fewer than 4 points.
   */
  holdOut: { fitted: number; predicted: number; meanError: number; maxError: number } | null;
  /** The line's score at each asked epoch, with the learning rate it assumes there. */
  at: { epoch: number; lr: number; score: number }[];
}

/** The least-squares line y = a + b·x. */
export function fitLine(xs: number[], ys: number[]): { a: number; b: number } {
  const n = xs.length;
  if (n < 2) throw new RangeError(`a line needs 2 points, got ${n}`);
  const mx = xs.reduce((s, x) => s + x, 0) / n, my = ys.reduce((s, y) => s + y, 0) / n;
  let sxy = 0, sxx = 0;
  for (let i = 0; i < n; i++) {
    sxy += (xs[i] - mx) * (ys[i] - my);
    sxx += (xs[i] - mx) ** 2;
  }
  if (sxx === 0) throw new RangeError("every point has the same learning rate");
  const b = sxy / sxx;
  return { a: my - b * mx, b };
}

/** The learning rate at `epoch` on the exponential through two (epoch, lr) points. */
export function lrAt(epoch: number, p: ScoredPoint, q: ScoredPoint): number {
  return p.lr * (q.lr / p.lr) ** ((epoch - p.epoch) / (q.epoch - p.epoch));
}

/**
 * The fit over the points from epoch `from` on, the hold-out check (the first 60% of them
 * predicting the rest) and the line at `epochs`.
 */
export function forecastOf(all: ScoredPoint[], from: number, epochs: number[]): Forecast {
  const pts = all.filter((p) => p.epoch >= from).sort((p, q) => p.epoch - q.epoch);
  const { a, b } = fitLine(pts.map((p) => p.lr), pts.map((p) => p.score));
  const rms = Math.sqrt(pts.reduce((s, p) => s + (p.score - a - b * p.lr) ** 2, 0) / pts.length);
  let holdOut: Forecast["holdOut"] = null;
  if (pts.length >= 4) {
    const fitted = Math.max(2, Math.round(0.6 * pts.length));
    const early = pts.slice(0, fitted), late = pts.slice(fitted);
    const line = fitLine(early.map((p) => p.lr), early.map((p) => p.score));
    const errors = late.map((p) => p.score - line.a - line.b * p.lr);
    holdOut = {
      fitted,
      predicted: late.length,
      meanError: errors.reduce((s, e) => s + e, 0) / errors.length,
      maxError: Math.max(...errors.map(Math.abs)),
    };
  }
  const first = pts[0], last = pts.at(-1)!;
  const at = epochs.map((epoch) => {
    const lr = lrAt(epoch, first, last);
    return { epoch, lr, score: a + b * lr };
  });
  return {
    points: pts.length,
    firstEpoch: first.epoch,
    lastEpoch: last.epoch,
    intercept: a,
    slope: b,
    rms,
    holdOut,
    at,
  };
}
