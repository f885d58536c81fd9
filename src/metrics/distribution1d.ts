/** Scores for a 1-D generator against its known target distribution (float64 throughout). */

export interface Summary {
  mean: number;
  /** Population standard deviation (ddof 0, as numpy's default used by the reference). */
  std: number;
}

export function summarize(x: ArrayLike<number>): Summary {
  let sum = 0;
  for (let i = 0; i < x.length; i++) sum += x[i];
  const mean = sum / x.length;
  let ss = 0;
  for (let i = 0; i < x.length; i++) ss += (x[i] - mean) ** 2;
  return { mean, std: Math.sqrt(ss / x.length) };
}

export interface HistogramSpec {
  bins: number;
  low: number;
  high: number;
}

/**
 * Counts per bin over [low, high). Values outside the range go to two overflow bins at
 * the ends, so mass outside the window still counts as disagreement.
 */
export function histogram(x: ArrayLike<number>, spec: HistogramSpec): number[] {
  const counts = new Array(spec.bins + 2).fill(0);
  const width = (spec.high - spec.low) / spec.bins;
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    if (!(v >= spec.low)) counts[0]++; // also NaN
    else if (v >= spec.high) counts[spec.bins + 1]++;
    else counts[1 + Math.min(spec.bins - 1, Math.floor((v - spec.low) / width))]++;
  }
  return counts;
}

/** Jensen–Shannon divergence in bits (0 = identical, 1 = disjoint) of two count vectors. */
export function jensenShannon(p: number[], q: number[]): number {
  if (p.length !== q.length) throw new RangeError("histograms differ in length");
  const sp = p.reduce((a, b) => a + b, 0), sq = q.reduce((a, b) => a + b, 0);
  let js = 0;
  for (let i = 0; i < p.length; i++) {
    const a = p[i] / sp, b = q[i] / sq, m = (a + b) / 2;
    if (a > 0) js += 0.5 * a * Math.log2(a / m);
    if (b > 0) js += 0.5 * b * Math.log2(b / m);
  }
  return Math.max(0, js);
}
