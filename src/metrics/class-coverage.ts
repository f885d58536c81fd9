/**
 * Class coverage of a conditional generator (docs/conditional.md): for each class label y,
 * the share of samples G(z, y) that the evaluation classifier assigns to y (its argmax), the
 * mean of those shares, and the classes covered: those whose share reaches `threshold`.
 */

export interface ClassCoverage {
  /** Per class: the share of its samples classified as that class. */
  perClass: number[];
  /** The mean of perClass (the conditional accuracy, each class weighted equally). */
  mean: number;
  /** The lowest of perClass. */
  min: number;
  /** Classes whose share is at least the threshold. */
  covered: number;
}

/**
 * Scores `probs` (rows × classes, one row of class probabilities per sample) of samples made
 * for `labels` (one class index per row). Ties in a row go to the lower class index. A class
 * with no samples scores 0.
 */
export function classCoverage(
  probs: Float32Array,
  labels: ArrayLike<number>,
  classes: number,
  threshold: number,
): ClassCoverage {
  const rows = labels.length;
  if (probs.length !== rows * classes) {
    throw new RangeError(`${probs.length} probabilities are not ${rows} rows of ${classes}`);
  }
  const right = new Array<number>(classes).fill(0), total = new Array<number>(classes).fill(0);
  for (let r = 0; r < rows; r++) {
    let best = 0;
    for (let c = 1; c < classes; c++) {
      if (probs[r * classes + c] > probs[r * classes + best]) best = c;
    }
    if (!(labels[r] >= 0 && labels[r] < classes)) {
      throw new RangeError(`label ${labels[r]} at row ${r} is not one of ${classes} classes`);
    }
    total[labels[r]]++;
    if (best === labels[r]) right[labels[r]]++;
  }
  const perClass = right.map((n, c) => (total[c] ? n / total[c] : 0));
  return {
    perClass,
    mean: perClass.reduce((a, b) => a + b, 0) / classes,
    min: Math.min(...perClass),
    covered: perClass.filter((share) => share >= threshold).length,
  };
}

/** The result.metrics names of a coverage's numbers (per class: coverageClass0, …). */
export function coverageMetrics(c: ClassCoverage): Record<string, number> {
  return {
    coverageMean: c.mean,
    coverageMin: c.min,
    coverageClassesCovered: c.covered,
    ...Object.fromEntries(c.perClass.map((share, k) => [`coverageClass${k}`, share])),
  };
}
