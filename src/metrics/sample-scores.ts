/**
 * Sample-quality scores computed from a classifier's outputs (float64 throughout):
 * the class histogram of generated samples and its entropy, KL to uniform and coverage
 * (the mode-collapse signal), the "MNIST score" exp(E_x KL(p(y|x) ‖ p(y))) as TF-GAN
 * defines it, and the Fréchet distance between two sets of feature vectors.
 */
import { EigenvalueDecomposition, Matrix } from "ml-matrix";

export interface ClassScores {
  /** Fraction of samples whose most likely class is each class. */
  histogram: number[];
  /** Entropy of the histogram, in nats (log 10 for a uniform one). */
  entropy: number;
  /** KL(histogram ‖ uniform) = log K − entropy. */
  klToUniform: number;
  /** Classes that receive at least `coverageThreshold` of the samples. */
  classesCovered: number;
  /** exp(E_x KL(p(y|x) ‖ p(y))): 1 when every sample looks alike, K at best. */
  score: number;
}

/** `probs`: n × k rows of class probabilities. */
export function classScores(
  probs: Float32Array | Float64Array,
  k: number,
  coverageThreshold = 0.01,
): ClassScores {
  const n = probs.length / k;
  const counts = new Array(k).fill(0);
  const marginal = new Float64Array(k);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let c = 0; c < k; c++) {
      marginal[c] += probs[i * k + c] / n;
      if (probs[i * k + c] > probs[i * k + best]) best = c;
    }
    counts[best]++;
  }
  const histogram = counts.map((c) => c / n);
  const entropy = -histogram.reduce((s, p) => s + (p > 0 ? p * Math.log(p) : 0), 0);
  let kl = 0;
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < k; c++) {
      const p = probs[i * k + c];
      if (p > 0) kl += (p * Math.log(p / marginal[c])) / n;
    }
  }
  return {
    histogram,
    entropy,
    klToUniform: Math.log(k) - entropy,
    classesCovered: histogram.filter((p) => p >= coverageThreshold).length,
    score: Math.exp(kl),
  };
}

/** Mean and covariance (ddof 1, as numpy.cov) of n × d rows. */
export function meanAndCovariance(
  x: Float32Array | Float64Array,
  d: number,
): { mean: Float64Array; cov: Matrix } {
  const n = x.length / d;
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j] += x[i * d + j] / n;
  const cov = new Matrix(d, d);
  const centred = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) centred[j] = x[i * d + j] - mean[j];
    for (let a = 0; a < d; a++) {
      const ca = centred[a];
      if (ca === 0) continue;
      for (let b = a; b < d; b++) cov.set(a, b, cov.get(a, b) + ca * centred[b]);
    }
  }
  for (let a = 0; a < d; a++) {
    for (let b = a; b < d; b++) {
      const v = cov.get(a, b) / (n - 1);
      cov.set(a, b, v);
      cov.set(b, a, v);
    }
  }
  return { mean, cov };
}

/** Symmetric PSD square root by eigendecomposition (negative rounding clamped to 0). */
function sqrtPsd(m: Matrix): Matrix {
  const e = new EigenvalueDecomposition(m, { assumeSymmetric: true });
  const values = e.realEigenvalues.map((v) => Math.sqrt(Math.max(v, 0)));
  const V = e.eigenvectorMatrix;
  return V.mmul(Matrix.diag(values)).mmul(V.transpose());
}

/**
 * ‖μ₁ − μ₂‖² + Tr(Σ₁ + Σ₂ − 2 (Σ₁Σ₂)^{1/2}), with Tr((Σ₁Σ₂)^{1/2}) computed as
 * Tr((√Σ₁ Σ₂ √Σ₁)^{1/2}), which is symmetric and so numerically stable.
 */
export function frechetDistance(
  a: { mean: Float64Array; cov: Matrix },
  b: { mean: Float64Array; cov: Matrix },
): number {
  let meanTerm = 0;
  for (let j = 0; j < a.mean.length; j++) meanTerm += (a.mean[j] - b.mean[j]) ** 2;
  const s1 = sqrtPsd(a.cov);
  const inner = s1.mmul(b.cov).mmul(s1);
  const cross = sqrtPsd(new Matrix(inner.add(inner.transpose()).div(2))).trace();
  return meanTerm + a.cov.trace() + b.cov.trace() - 2 * cross;
}
