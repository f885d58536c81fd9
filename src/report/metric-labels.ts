/**
 * The one table of metric names in words: for every number a run records (result.metrics)
 * and every value a stability band may name, a label, its unit and what it means in one
 * line. Pages, the index and `diff` all label metrics from here.
 */
import { DERIVED_METRICS } from "../config/metric-names.ts";

export interface MetricLabel {
  label: string;
  /** Unit of the value ("" for a plain number or a count). */
  unit: string;
  meaning: string;
  /** The metric holding this one's standard error, when the run records it. */
  se?: string;
}

const RESULT_LABELS: Record<string, MetricLabel> = {
  modes: {
    label: "modes of the mixture",
    unit: "",
    meaning:
      "how many Gaussian components the 2-D target mixture has (8 for the ring, 25 for the grid)",
  },
  modesCaptured: {
    label: "modes captured",
    unit: "",
    meaning:
      "modes with at least the configured number of high-quality samples nearest to them (VEEGAN's rule); higher is better",
  },
  highQualityFraction: {
    label: "high-quality samples",
    unit: "",
    meaning:
      "share of generated samples strictly within 3σ of their nearest mode centre; higher is better",
  },
  reverseKl: {
    label: "reverse KL of the mode histogram",
    unit: "nats",
    meaning:
      "KL(q ‖ uniform) of the high-quality samples' shares of the modes (PacGAN's measure); 0 is every mode equally covered",
  },
  parzenMean: {
    label: "Parzen log-likelihood",
    unit: "nats",
    meaning:
      "mean log-likelihood of the test images under a Gaussian Parzen window on generator samples (the paper's Table 1); higher is better",
    se: "parzenSe",
  },
  parzenSe: {
    label: "Parzen log-likelihood, standard error",
    unit: "nats",
    meaning: "standard error of that mean over the test images",
  },
  parzenSigma: {
    label: "Parzen window width σ",
    unit: "",
    meaning: "the kernel width with the highest log-likelihood on the validation images",
  },
  parzenMeanWithGDropout: {
    label: "Parzen log-likelihood, G sampled with its dropout",
    unit: "nats",
    meaning:
      "the same estimate on samples drawn with G's training dropout on (a fresh mask per sample): beside the Parzen log-likelihood, never instead of it; configs whose G has dropout",
    se: "parzenSeWithGDropout",
  },
  parzenSeWithGDropout: {
    label: "Parzen log-likelihood, G sampled with its dropout, standard error",
    unit: "nats",
    meaning: "standard error of that mean over the test images",
  },
  parzenSigmaWithGDropout: {
    label: "Parzen window width σ, G sampled with its dropout",
    unit: "",
    meaning: "the kernel width with the highest log-likelihood on the validation images",
  },
  fakePixelMean: {
    label: "generated pixels, mean",
    unit: "",
    meaning: "mean of every pixel of the generated samples",
  },
  fakePixelStd: {
    label: "generated pixels, standard deviation",
    unit: "",
    meaning: "standard deviation of every pixel of the generated samples",
  },
  testPixelMean: {
    label: "test pixels, mean",
    unit: "",
    meaning: "mean of every pixel of the test images (the target for the generated mean)",
  },
  testPixelStd: {
    label: "test pixels, standard deviation",
    unit: "",
    meaning: "standard deviation of every pixel of the test images",
  },
  classifierTestAccuracy: {
    label: "harness classifier, test accuracy",
    unit: "",
    meaning: "accuracy of the classifier that scores the samples, on the real test set",
  },
  classEntropy: {
    label: "class entropy of samples",
    unit: "nats",
    meaning: "entropy of the classes the classifier assigns to samples; log 10 ≈ 2.30 is uniform",
  },
  classKlToUniform: {
    label: "class KL to uniform",
    unit: "nats",
    meaning: "how far the samples' class shares are from equal shares; 0 is uniform",
  },
  classesCovered: {
    label: "classes covered",
    unit: "",
    meaning: "classes receiving at least 1% of the samples; a collapsed generator covers 1–2",
  },
  classifierScore: {
    label: "classifier score (Inception-style)",
    unit: "",
    meaning:
      "exp of the mean KL between each sample's class probabilities and their average; 1 to 10, higher is better",
  },
  testSetClassifierScore: {
    label: "classifier score of test images",
    unit: "",
    meaning: "the same score for real test images: what a perfect generator would reach",
  },
  frechetDistance: {
    label: "Fréchet distance (classifier features)",
    unit: "",
    meaning:
      "distance between Gaussians fitted to classifier features of samples and test images; lower is better",
  },
  nearestTrainingMedian: {
    label: "distance to nearest training image (median)",
    unit: "squared L2",
    meaning: "median over samples of the squared distance to the closest training image",
  },
  nearestTrainingMin: {
    label: "distance to nearest training image (min)",
    unit: "squared L2",
    meaning: "the smallest such distance: near 0 means a sample copies a training image",
  },
  testNearestTrainingMedian: {
    label: "test images' distance to nearest training image (median)",
    unit: "squared L2",
    meaning: "the same median for real test images: what non-copying looks like",
  },
  fakeMean: {
    label: "generated mean",
    unit: "",
    meaning: "mean of the generated values (the target is the data's mean)",
  },
  fakeStd: {
    label: "generated standard deviation",
    unit: "",
    meaning: "standard deviation of the generated values (the target is the data's)",
  },
  meanAbsError: {
    label: "error of the generated mean",
    unit: "",
    meaning: "|generated mean − data mean|",
  },
  stdAbsError: {
    label: "error of the generated standard deviation",
    unit: "",
    meaning: "|generated std − data std|",
  },
  realSampleMean: {
    label: "real sample mean",
    unit: "",
    meaning: "mean of as many draws from the data distribution (sampling noise for reference)",
  },
  realSampleStd: {
    label: "real sample standard deviation",
    unit: "",
    meaning: "standard deviation of those draws",
  },
  jsdBits: {
    label: "Jensen–Shannon divergence",
    unit: "bits",
    meaning: "between histograms of real and generated values; 0 is identical, 1 disjoint",
  },
  coverageMean: {
    label: "class coverage (mean)",
    unit: "",
    meaning:
      "conditional runs: the share of samples made for a label that the classifier assigns to it, averaged over the classes; 1 is full control, about 0.1 a label G ignores",
  },
  coverageMin: {
    label: "class coverage (worst class)",
    unit: "",
    meaning: "conditional runs: the lowest per-class share of samples classified as their label",
  },
  coverageClassesCovered: {
    label: "labels in control",
    unit: "",
    meaning:
      "conditional runs: classes whose samples are classified as their label at least the configured share of the time (mnist-cgan: 0.5)",
  },
  ...Object.fromEntries(
    Array.from({ length: 10 }, (_, k) => [`coverageClass${k}`, {
      label: `class coverage, label ${k}`,
      unit: "",
      meaning: `conditional runs: the share of samples made for label ${k} classified as ${k}`,
    }]),
  ),
};

/** Short names for the values derived from the training record; meanings from bands.ts. */
const DERIVED_NAMES: Record<string, string> = {
  diverged: "diverged",
  "lastQuarter.dReal": "D(x), last quarter",
  "lastQuarter.dFake": "D(G(z)), last quarter",
  "lastQuarter.dGap": "D(x) − D(G(z)), last quarter",
  "lastQuarter.dLoss": "D loss, last quarter",
  "lastQuarter.gLoss": "G loss, last quarter",
  "lastQuarter.fakeMean": "generated batch mean, last quarter",
  "lastQuarter.fakeStd": "generated batch std, last quarter",
  "lastQuarter.dGradNorm": "D gradient norm, last quarter",
  "lastQuarter.gGradNorm": "G gradient norm, last quarter",
  "lastQuarter.dAccuracy": "D accuracy, last quarter",
  "lastQuarter.dWon": "D won, last quarter",
  dWonFraction: "share of iterations D had won",
  "oscillation.dLoss": "D loss oscillation",
  "oscillation.gLoss": "G loss oscillation",
  repeatedNoiseDraws: "repeated noise draws",
  repeatedDropoutMasks: "repeated dropout masks",
  repeatedRealBatches: "repeated real batches",
};

export const METRIC_LABELS: Record<string, MetricLabel> = {
  ...RESULT_LABELS,
  ...Object.fromEntries(
    Object.entries(DERIVED_METRICS).map((
      [key, meaning],
    ) => [key, { label: DERIVED_NAMES[key] ?? key, unit: "", meaning }]),
  ),
};

/** The metric's label; an unknown name (a newer result, a new metric) labels itself. */
export function metricLabel(key: string): MetricLabel {
  return Object.hasOwn(METRIC_LABELS, key)
    ? METRIC_LABELS[key]
    : { label: key, unit: "", meaning: "" };
}

/** "Parzen log-likelihood (nats)". */
export function labelWithUnit(key: string): string {
  const l = metricLabel(key);
  return l.unit ? `${l.label} (${l.unit})` : l.label;
}
