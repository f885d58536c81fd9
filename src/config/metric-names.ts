/**
 * The names a stability band may check, in one leaf module: the numbers evaluation writes to
 * result.metrics (RESULT_METRICS) and the values src/record/bands.ts derives from a run's
 * training record (DERIVED_METRICS). The config schema validates bands against these names.
 */

const LATE = "mean over the last quarter of the recorded iterations";

/** Values derived from the training record, by name, with what each means. */
export const DERIVED_METRICS: Record<string, string> = {
  diverged: "1 when a loss or weight stopped being finite, else 0",
  "lastQuarter.dReal": `D(x) on real batches, ${LATE}`,
  "lastQuarter.dFake": `D(G(z)) on generated batches, ${LATE}`,
  "lastQuarter.dGap": `D(x) − D(G(z)), ${LATE}`,
  "lastQuarter.dLoss": `the discriminator's loss, ${LATE}`,
  "lastQuarter.gLoss": `the generator's loss, ${LATE}`,
  "lastQuarter.fakeMean": `the mean of a training batch of generated values, ${LATE}`,
  "lastQuarter.fakeStd": `the std of a training batch of generated values, ${LATE}`,
  "lastQuarter.dGradNorm": `the global L2 norm of D's gradient, ${LATE}`,
  "lastQuarter.gGradNorm": `the global L2 norm of G's gradient, ${LATE}`,
  "lastQuarter.dAccuracy": `D's accuracy on its real and generated batches, ${LATE}`,
  "lastQuarter.dWon":
    `1 where D had won (accuracy ≥ 0.99, G's gradient ≤ 1% of its largest), ${LATE}`,
  dWonFraction:
    "the share of recorded iterations at which D had won (accuracy ≥ 0.99 and G's gradient norm ≤ 1% of its largest so far)",
  "oscillation.dLoss":
    "the sign-change rate of D's loss's first differences over the last quarter of the record (0 monotone, 1 alternating, ~2/3 noise)",
  "oscillation.gLoss":
    "the sign-change rate of G's loss's first differences over the last quarter of the record (0 monotone, 1 alternating, ~2/3 noise)",
  repeatedNoiseDraws: "noise batches z identical to the same stream's previous draw",
  repeatedDropoutMasks: "dropout masks identical to the same stream's previous draw",
  repeatedRealBatches: "real-data batches identical to the previous one",
};

/** The numbers evaluation writes to result.metrics, per metrics kind (src/train/evaluate.ts). */
export const RESULT_METRICS: Record<
  "gaussian-1d" | "image-stats" | "mixture-2d",
  readonly string[]
> = {
  "mixture-2d": ["modes", "modesCaptured", "highQualityFraction", "reverseKl"],
  "gaussian-1d": [
    "fakeMean",
    "fakeStd",
    "meanAbsError",
    "stdAbsError",
    "realSampleMean",
    "realSampleStd",
    "jsdBits",
  ],
  "image-stats": [
    "fakePixelMean",
    "fakePixelStd",
    "testPixelMean",
    "testPixelStd",
    "parzenMean",
    "parzenSe",
    "parzenSigma",
    // configs whose G has dropout: the same estimate, G sampled with it (docs/conditional.md §4)
    "parzenMeanWithGDropout",
    "parzenSeWithGDropout",
    "parzenSigmaWithGDropout",
    "classifierTestAccuracy",
    "classEntropy",
    "classKlToUniform",
    "classesCovered",
    "classifierScore",
    "testSetClassifierScore",
    "frechetDistance",
    "nearestTrainingMedian",
    "nearestTrainingMin",
    "testNearestTrainingMedian",
    // conditional runs' class coverage (src/metrics/class-coverage.ts)
    "coverageMean",
    "coverageMin",
    "coverageClassesCovered",
    ...Array.from({ length: 10 }, (_, k) => `coverageClass${k}`),
  ],
};

/** Every name a band of a config with these metrics may use. */
export function checkableMetrics(kind: keyof typeof RESULT_METRICS): string[] {
  return [...RESULT_METRICS[kind], ...Object.keys(DERIVED_METRICS)];
}
