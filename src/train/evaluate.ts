/**
 * What a finished run is scored on, from fresh samples of the final generator: the 1-D
 * moments and histograms, or for images pixel statistics, the paper's Parzen estimate, the
 * harness classifier's scores and nearest-training-image distances (as the config asks).
 * One draw of the `eval/z` stream serves every metric.
 */
import { readFloats } from "../backend/select.ts";
import { tf } from "../backend/tf.ts";
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
import { deltaToPaper, PAPER_TABLE1, parzenEstimate } from "../metrics/parzen.ts";
import { trainingSetReference } from "../metrics/parzen-reference.ts";
import { classScores, frechetDistance, meanAndCovariance } from "../metrics/sample-scores.ts";
import { forward, type Network } from "../models/network.ts";
import type { Rng } from "../rng/streams.ts";
import type { RealData } from "./real-data.ts";
import type { Histogram1d, ParzenReport } from "./result.ts";

/** Generates `n` samples from G (no dropout) in batches, as one flat array. */
async function sampleGenerator(G: Network, config: ResolvedConfig["config"], rng: Rng, n: number) {
  const z = sampleNoise(config.noise, rng.stream("eval/z").at(0), n);
  const out = new Float32Array(n * G.outputDim);
  const chunk = 1000;
  for (let at = 0; at < n; at += chunk) {
    const rows = Math.min(chunk, n - at);
    const t = tf.tidy(() =>
      forward(
        G,
        tf.tensor2d(z.subarray(at * config.noise.dim, (at + rows) * config.noise.dim), [
          rows,
          config.noise.dim,
        ]),
      )
    );
    out.set(await readFloats(t), at * G.outputDim);
    t.dispose();
  }
  return out;
}

export interface Evaluation {
  metrics: Record<string, number>;
  histogram: Histogram1d | null;
  parzen?: ParzenReport | null;
  classHistogram?: number[] | null;
}

export async function evaluate(
  resolved: ResolvedConfig,
  G: Network,
  rng: Rng,
  real: RealData,
): Promise<Evaluation> {
  const { config } = resolved;
  const spec = config.metrics;
  // one draw of eval/z serves every metric: each takes the first n rows it needs
  const needed = spec.kind === "gaussian-1d" ? spec.samples : Math.max(
    spec.samples,
    spec.parzen?.samples ?? 0,
    spec.classifier?.samples ?? 0,
    spec.nearestTraining?.samples ?? 0,
  );
  const pool = await sampleGenerator(G, config, rng, needed);
  const generated = (n: number) => pool.subarray(0, n * G.outputDim);
  const fake = generated(spec.samples);
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
  // the protocol scores pixels in [0, 1]; GCN data have no such scale (scored as they are)
  const unit = (x: Float32Array) => (real.toUnit ? Float32Array.from(x, real.toUnit) : x);
  const testRows = Math.min(spec.samples, held.test.count);
  const f = summarize(fake), r = summarize(held.test.images.subarray(0, testRows * real.dim));
  const metrics: Record<string, number> = {
    fakePixelMean: f.mean,
    fakePixelStd: f.std,
    testPixelMean: r.mean,
    testPixelStd: r.std,
  };
  let parzen: ParzenReport | null = null;
  let classHistogram: number[] | null = null;
  if (spec.parzen) {
    const centres = unit(generated(spec.parzen.samples));
    const validRows = Math.min(
      spec.parzen.validation ?? held.validation.count,
      held.validation.count,
    );
    const validation = unit(held.validation.images.subarray(0, validRows * real.dim));
    const test = unit(held.test.images);
    const estimate = await parzenEstimate(centres, validation, test, real.dim);
    const paper = config.data.kind === "mnist"
      ? PAPER_TABLE1.mnist
      : config.data.kind === "tfd"
      ? PAPER_TABLE1.tfd
      : null;
    let reference = null;
    if (spec.parzen.trainingSetReference && real.provenance) {
      const train = unit(real.trainImages());
      reference = await trainingSetReference({
        files: real.provenance.files,
        dim: real.dim,
        train,
        validation,
        test,
        centres: Math.min(spec.parzen.samples, train.length / real.dim),
      });
    }
    parzen = {
      ...estimate,
      paper: paper ? { ...paper, ...deltaToPaper(estimate, paper) } : null,
      trainingSetReference: reference &&
        { mean: reference.mean, se: reference.se, sigma: reference.sigma },
    };
    Object.assign(metrics, {
      parzenMean: estimate.mean,
      parzenSe: estimate.se,
      parzenSigma: estimate.sigma,
    });
  }
  if (spec.classifier) {
    const kind = config.data.kind;
    if ((kind !== "mnist" && kind !== "cifar10") || !real.dataset) {
      throw new Error("metrics.classifier needs MNIST or CIFAR-10 data");
    }
    // the classifier learns the data set as loaded ([0, 1], or GCN for CIFAR-10)
    const samples = unit(generated(spec.classifier.samples));
    const classifier = await trainedClassifier(
      real.dataset,
      kind === "mnist" ? mnistClassifierSpec() : cifarClassifierSpec(),
    );
    try {
      const fakeOut = await classify(classifier, samples, real.dim);
      const testOut = await classify(classifier, real.dataset.splits.test.images, real.dim);
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
  if (spec.nearestTraining) {
    const samples = unit(generated(spec.nearestTraining.samples));
    const train = unit(real.trainImages());
    const fromSamples = await nearestRows(samples, train, real.dim);
    const testRows = Math.min(spec.nearestTraining.samples, held.test.count);
    const fromTest = await nearestRows(
      unit(held.test.images.subarray(0, testRows * real.dim)),
      train,
      real.dim,
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
  return { metrics, histogram: null, parzen, classHistogram };
}
