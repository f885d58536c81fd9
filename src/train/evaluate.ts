/**
 * What a finished run is scored on, from fresh samples of the final generator: the 1-D
 * moments and histograms, or for images pixel statistics, the paper's Parzen estimate, the
 * harness classifier's scores and nearest-training-image distances (as the config asks).
 * One draw of the `eval/z` stream serves every metric.
 */
import type { ResolvedConfig } from "../config/load.ts";
import { sampleGaussian } from "../data/gaussian.ts";
import { sampleNoise } from "../data/noise.ts";
import {
  cifarClassifierSpec,
  classify,
  disposeClassifier,
  mnistClassifierSpec,
  trainedClassifier,
} from "../metrics/classifier.ts";
import { nearestRows } from "../metrics/distances.ts";
import { histogram, jensenShannon, summarize } from "../metrics/distribution1d.ts";
import { isMixture, mixtureCentres } from "../data/mixture.ts";
import { scoreMixture } from "../metrics/mixture.ts";
import {
  deltaToPaper,
  DIAGNOSTIC_SIGMA_GRIDS,
  PAPER_SIGMAS,
  parzenEstimates,
} from "../metrics/parzen.ts";
import { CONDITIONAL_TABLE1, PAPER_TABLE1 } from "../metrics/table1.ts";
import { type ClassCoverage, classCoverage, coverageMetrics } from "../metrics/class-coverage.ts";
import {
  classMajorLabels,
  conditionWidth,
  cyclicLabels,
  labelClasses,
  withOneHot,
} from "../data/labels.ts";
import { trainingSetReference } from "../metrics/parzen-reference.ts";
import { classScores, frechetDistance, meanAndCovariance } from "../metrics/sample-scores.ts";
import { generate } from "../models/generate.ts";
import { dropoutMaskPlan, dropoutMasksFrom } from "./dropout.ts";
import type { Network } from "../models/network.ts";
import type { Rng } from "../rng/streams.ts";
import type { RealData } from "../data/real-data.ts";
import type {
  Histogram1d,
  ParzenBrief,
  ParzenReport,
  PixelHistogram,
  TrackedPoint,
} from "../record/result.ts";
import type { Classifier } from "../metrics/classifier.ts";
import { type ImageMetricsConfig, trackedScores } from "../config/schema.ts";
import { mapFloats } from "../util/map-floats.ts";

/**
 * `n` samples of G from the eval/z stream, as one flat array. A conditional G makes sample i
 * for class i mod classes (docs/conditional.md), so each class has n/classes. No dropout
 * unless `withGDropout` (G's training dropout, a fresh mask per sample from eval/g-dropout).
 */
export function sampleGenerator(
  G: Network,
  config: ResolvedConfig["config"],
  rng: Rng,
  n: number,
  signal?: AbortSignal,
  withGDropout = false,
) {
  const z = sampleNoise(config.noise, rng.stream("eval/z").at(0), n);
  const spec = config.generator.dropout;
  if (withGDropout && !spec) throw new Error("G has no dropout (generator.dropout) to sample with");
  const plan = withGDropout && spec ? dropoutMaskPlan(G, spec) : null;
  const masks = plan
    ? (b: number, rows: number) => dropoutMasksFrom(rng, plan, "eval/g-dropout", b, rows)
    : undefined;
  return generateFor(
    G,
    config,
    z,
    config.conditional ? cyclicLabels(n, conditionWidth(config)) : null,
    signal,
    masks,
  );
}

/** G(z) for each row of `z`, or a conditional G's G(z, y) for row labels `labels`. */
function generateFor(
  G: Network,
  config: ResolvedConfig["config"],
  z: Float32Array,
  labels: Int32Array | null,
  signal?: AbortSignal,
  masks?: Parameters<typeof generate>[5],
) {
  if (!labels) return generate(G, z, config.noise.dim, 1000, signal, masks);
  const classes = conditionWidth(config);
  const input = withOneHot(z, config.noise.dim, labels, classes);
  return generate(G, input, config.noise.dim + classes, 1000, signal, masks);
}

/**
 * The Parzen protocol on `samples` drawn with G's dropout on (sampleGenerator's
 * withGDropout): the protocol's σ grid and splits, beside its number, never instead of it.
 */
async function parzenWithGDropout(
  G: Network,
  config: Config,
  rng: Rng,
  real: RealData,
  spec: ParzenSpec,
  signal: AbortSignal | undefined,
): Promise<ParzenBrief> {
  const samples = await sampleGenerator(G, config, rng, spec.samples, signal, true);
  const held = real.heldOut!;
  const validRows = Math.min(spec.validation ?? held.validation.count, held.validation.count);
  const e = await parzenEstimates(
    toUnit(real, samples),
    toUnit(real, held.firstRows("validation", validRows)),
    toUnit(real, held.test.images),
    real.dim,
    { protocol: PAPER_SIGMAS },
    { signal },
  );
  return { mean: e.protocol.mean, se: e.protocol.se, sigma: e.protocol.sigma };
}

export interface Evaluation {
  metrics: Record<string, number>;
  histogram: Histogram1d | null;
  parzen?: ParzenReport | null;
  classHistogram?: number[] | null;
  pixelHistogram?: PixelHistogram;
}

type Config = ResolvedConfig["config"];

/** The mixture scores of 2-D samples as result.metrics numbers (reverseKl absent when undefined). */
export function mixtureMetrics(config: Config, samples: Float32Array): Record<string, number> {
  if (config.metrics.kind !== "mixture-2d" || !isMixture(config.data)) {
    throw new Error("mixture-2d metrics need ring or grid data");
  }
  const s = scoreMixture(samples, mixtureCentres(config.data), config.data.std, config.metrics);
  return {
    modes: s.modes,
    modesCaptured: s.modesCaptured,
    highQualityFraction: s.highQualityFraction,
    ...(s.reverseKl === null ? {} : { reverseKl: s.reverseKl }),
  };
}

export async function evaluate(
  resolved: ResolvedConfig,
  G: Network,
  rng: Rng,
  real: RealData,
  /** Hears each step as it starts, for the progress display. */
  onPhase: (phase: string) => void = () => {},
  /** Stops the evaluation between batches (Ctrl-C). */
  signal?: AbortSignal,
): Promise<Evaluation> {
  const { config } = resolved;
  const spec = config.metrics;
  // one draw of eval/z serves every metric: each takes the first n rows it needs
  const needed = spec.kind !== "image-stats" ? spec.samples : Math.max(
    spec.samples,
    spec.parzen?.samples ?? 0,
    spec.classifier?.samples ?? 0,
    spec.nearestTraining?.samples ?? 0,
  );
  const pool = await sampleGenerator(G, config, rng, needed, signal);
  const generated = (n: number) => pool.subarray(0, n * G.outputDim);
  const fake = generated(spec.samples);
  if (spec.kind === "mixture-2d") return { metrics: mixtureMetrics(config, fake), histogram: null };
  if (spec.kind === "gaussian-1d") {
    if (config.data.kind !== "gaussian") throw new Error("gaussian-1d metrics need gaussian data");
    const realSamples = sampleGaussian(config.data, rng.stream("eval/real").at(0), spec.samples);
    const f = summarize(fake), r = summarize(realSamples);
    const realCounts = histogram(realSamples, spec.histogram);
    const fakeCounts = histogram(fake, spec.histogram);
    return {
      metrics: {
        fakeMean: f.mean,
        fakeStd: f.std,
        meanAbsError: Math.abs(f.mean - config.data.mean),
        stdAbsError: Math.abs(f.std - config.data.std),
        realSampleMean: r.mean,
        realSampleStd: r.std,
        jsdBits: jensenShannon(realCounts, fakeCounts),
      },
      histogram: { ...spec.histogram, real: realCounts, fake: fakeCounts },
    };
  }
  const held = real.heldOut!;
  const unit = (x: Float32Array) => toUnit(real, x);
  const testRows = Math.min(spec.samples, held.test.count);
  // the rows scored alone, so that the whole split's floats are made only where a metric
  // reads all of it (Parzen's test split)
  const testHead = held.firstRows("test", testRows);
  const f = summarize(fake), r = summarize(testHead);
  const metrics: Record<string, number> = {
    fakePixelMean: f.mean,
    fakePixelStd: f.std,
    testPixelMean: r.mean,
    testPixelStd: r.std,
  };
  let parzen: ParzenReport | null = null;
  let classHistogram: number[] | null = null;
  if (spec.parzen) {
    onPhase("evaluating: Parzen window (σ search, then the test split)");
    parzen = await parzenReport(config, real, generated(spec.parzen.samples), spec.parzen, signal);
    Object.assign(metrics, {
      parzenMean: parzen.mean,
      parzenSe: parzen.se,
      parzenSigma: parzen.sigma,
    });
    if (config.generator.dropout) {
      onPhase("evaluating: Parzen window, G sampled with its dropout");
      const d = await parzenWithGDropout(G, config, rng, real, spec.parzen, signal);
      Object.assign(metrics, {
        parzenMeanWithGDropout: d.mean,
        parzenSeWithGDropout: d.se,
        parzenSigmaWithGDropout: d.sigma,
      });
    }
  }
  if (spec.classifier) {
    onPhase("evaluating: classifier scores");
    const classifier = await openClassifier(config, real, signal);
    try {
      const fakeOut = await classify(
        classifier,
        unit(generated(spec.classifier.samples)),
        real.dim,
        signal,
      );
      const testOut = await classify(
        classifier,
        real.dataset!.splits.test.images,
        real.dim,
        signal,
      );
      const scores = classScores(fakeOut.probs, 10);
      Object.assign(metrics, {
        classifierTestAccuracy: classifier.testAccuracy,
        classEntropy: scores.entropy,
        classKlToUniform: scores.klToUniform,
        classesCovered: scores.classesCovered,
        classifierScore: scores.score,
        testSetClassifierScore: classScores(testOut.probs, 10).score,
        frechetDistance: frechetDistance(
          meanAndCovariance(fakeOut.features, fakeOut.featureDim),
          meanAndCovariance(testOut.features, testOut.featureDim),
        ),
      });
      classHistogram = scores.histogram;
    } finally {
      disposeClassifier(classifier);
    }
  }
  if (spec.classCoverage) {
    onPhase("evaluating: class coverage");
    const classifier = await openClassifier(config, real, signal);
    try {
      const c = await coverage(classifier, config, G, rng, real, spec.classCoverage, signal);
      Object.assign(metrics, coverageMetrics(c));
    } finally {
      disposeClassifier(classifier);
    }
  }
  if (spec.nearestTraining) {
    onPhase("evaluating: nearest training images");
    const samples = unit(generated(spec.nearestTraining.samples));
    const train = unit(real.trainImages());
    const fromSamples = await nearestRows(samples, train, real.dim, undefined, signal);
    const testRows = Math.min(spec.nearestTraining.samples, held.test.count);
    const fromTest = await nearestRows(
      unit(held.firstRows("test", testRows)),
      train,
      real.dim,
      undefined,
      signal,
    );
    const median = (x: Float32Array) => {
      const sorted = Float32Array.from(x).sort();
      return sorted[Math.floor(sorted.length / 2)];
    };
    Object.assign(metrics, {
      nearestTrainingMedian: median(fromSamples.distance2),
      nearestTrainingMin: Math.min(...fromSamples.distance2),
      testNearestTrainingMedian: median(fromTest.distance2),
    });
  }
  return {
    metrics,
    histogram: null,
    parzen,
    classHistogram,
    pixelHistogram: pixelHistogram(unit(fake), unit(testHead)),
  };
}

/**
 * Class coverage (docs/conditional.md): `perClass` samples for each label, class by class,
 * from the eval/coverage-z stream, classified by the evaluation classifier.
 */
async function coverage(
  classifier: Classifier,
  config: Config,
  G: Network,
  rng: Rng,
  real: RealData,
  spec: NonNullable<ImageMetricsConfig["classCoverage"]>,
  signal: AbortSignal | undefined,
): Promise<ClassCoverage> {
  const classes = labelClasses(config.data.kind);
  const labels = classMajorLabels(spec.perClass, classes);
  const z = sampleNoise(config.noise, rng.stream("eval/coverage-z").at(0), labels.length);
  const samples = await generateFor(G, config, z, labels, signal);
  const { probs } = await classify(classifier, toUnit(real, samples), real.dim, signal);
  return classCoverage(probs, labels, classes, spec.threshold);
}

/** The protocol scores pixels in [0, 1]; GCN data have no such scale (scored as they are). */
function toUnit(real: RealData, x: Float32Array): Float32Array {
  return real.toUnit ? mapFloats(x, real.toUnit) : x;
}

/** Generated and test pixels in 20 bins over [0, 1] (the estimator is sensitive to stroke softness). */
function pixelHistogram(fake: Float32Array, test: Float32Array): PixelHistogram {
  const spec = { bins: 20, low: 0, high: 1 };
  const share = (x: Float32Array) => histogram(x, spec).map((c) => c / x.length);
  return { ...spec, generated: share(fake), test: share(test) };
}

type ParzenSpec = NonNullable<ImageMetricsConfig["parzen"]>;

/** The paper's Parzen protocol on these samples, with the diagnostic σ grids beside it. */
async function parzenReport(
  config: Config,
  real: RealData,
  samples: Float32Array,
  spec: ParzenSpec,
  signal: AbortSignal | undefined,
): Promise<ParzenReport> {
  const held = real.heldOut!;
  const centres = toUnit(real, samples);
  const validRows = Math.min(spec.validation ?? held.validation.count, held.validation.count);
  const validation = toUnit(real, held.firstRows("validation", validRows));
  const test = toUnit(real, held.test.images);
  const estimates = await parzenEstimates(centres, validation, test, real.dim, {
    protocol: PAPER_SIGMAS,
    ...DIAGNOSTIC_SIGMA_GRIDS,
  }, { signal });
  const estimate = estimates.protocol;
  const paper = config.data.kind === "mnist"
    ? (config.conditional ? CONDITIONAL_TABLE1.mnist : PAPER_TABLE1.mnist)
    : config.data.kind === "tfd"
    ? PAPER_TABLE1.tfd
    : null;
  let reference = null;
  if (spec.trainingSetReference && real.provenance) {
    const train = toUnit(real, real.trainImages());
    reference = await trainingSetReference({
      files: real.provenance.files,
      dim: real.dim,
      train,
      validation,
      test,
      centres: Math.min(spec.samples, train.length / real.dim),
      signal,
    });
  }
  const brief = (e: { mean: number; se: number; sigma: number }) => ({
    mean: e.mean,
    se: e.se,
    sigma: e.sigma,
  });
  return {
    ...estimate,
    paper: paper ? { ...paper, ...deltaToPaper(estimate, paper) } : null,
    trainingSetReference: reference && brief(reference),
    diagnostics: { fine: brief(estimates.fine), logspace15: brief(estimates.logspace15) },
  };
}

/** The harness's classifier for this run's data set (trained once, then cached). */
function openClassifier(
  config: Config,
  real: RealData,
  signal: AbortSignal | undefined,
): Promise<Classifier> {
  const kind = config.data.kind;
  if ((kind !== "mnist" && kind !== "cifar10") || !real.dataset) {
    throw new Error("metrics.classifier needs MNIST or CIFAR-10 data");
  }
  return trainedClassifier(
    real.dataset,
    kind === "mnist" ? mnistClassifierSpec() : cifarClassifierSpec(),
    { signal },
  );
}

/**
 * Scores the generator at tracking points (metrics.track) with the final evaluation's
 * protocols and samples (eval/z), so the last point of a run equals its final numbers.
 * Holds the classifier between points; `dispose` frees it.
 */
export class Tracker {
  #classifier: Classifier | null = null;
  constructor(
    readonly resolved: ResolvedConfig,
    readonly rng: Rng,
    readonly real: RealData,
  ) {}

  async score(
    G: Network,
    at: Omit<
      TrackedPoint,
      | "parzen"
      | "parzenDiagnostics"
      | "parzenWithGDropout"
      | "classifierScore"
      | "classesCovered"
      | "coverage"
      | "fakePixelStd"
      | "scoreSeconds"
    >,
    /** Stops the scoring between batches (Ctrl-C): no point then. */
    signal?: AbortSignal,
  ): Promise<TrackedPoint> {
    const t0 = performance.now();
    const { config } = this.resolved;
    const spec = config.metrics as ImageMetricsConfig;
    const scores = trackedScores(spec);
    const n = Math.max(
      spec.samples,
      scores.parzen ? spec.parzen!.samples : 0,
      scores.classifier ? spec.classifier!.samples : 0,
    );
    const pool = await sampleGenerator(G, config, this.rng, n, signal);
    const generated = (rows: number) => pool.subarray(0, rows * G.outputDim);
    let parzen: TrackedPoint["parzen"] = null;
    let parzenDiagnostics: TrackedPoint["parzenDiagnostics"] = null;
    let withGDropout: ParzenBrief | null = null;
    if (scores.parzen) {
      const report = await parzenReport(config, this.real, generated(spec.parzen!.samples), {
        ...spec.parzen!,
        trainingSetReference: false,
      }, signal);
      parzen = { mean: report.mean, se: report.se, sigma: report.sigma };
      parzenDiagnostics = report.diagnostics ?? null;
      if (config.generator.dropout) {
        withGDropout = await parzenWithGDropout(
          G,
          config,
          this.rng,
          this.real,
          spec.parzen!,
          signal,
        );
      }
    }
    let classifierScore = null, classesCovered = null;
    if (scores.classifier) {
      this.#classifier ??= await openClassifier(config, this.real, signal);
      const samples = toUnit(this.real, generated(spec.classifier!.samples));
      const scores = classScores(
        (await classify(this.#classifier, samples, this.real.dim, signal)).probs,
        10,
      );
      classifierScore = scores.score;
      classesCovered = scores.classesCovered;
    }
    let covered: ClassCoverage | null = null;
    if (scores.coverage) {
      this.#classifier ??= await openClassifier(config, this.real, signal);
      covered = await coverage(
        this.#classifier,
        config,
        G,
        this.rng,
        this.real,
        spec.classCoverage!,
        signal,
      );
    }
    return {
      ...at,
      parzen,
      parzenDiagnostics,
      ...(config.generator.dropout ? { parzenWithGDropout: withGDropout } : {}),
      classifierScore,
      classesCovered,
      coverage: covered,
      fakePixelStd: summarize(toUnit(this.real, generated(spec.samples))).std,
      scoreSeconds: (performance.now() - t0) / 1000,
    };
  }

  dispose(): void {
    if (this.#classifier) disposeClassifier(this.#classifier);
    this.#classifier = null;
  }
}
