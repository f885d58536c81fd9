/**
 * A small image classifier trained by the harness itself (seeded, cached under a hash of
 * its data, architecture and training settings), whose class probabilities and
 * penultimate features drive the sample-quality scores (src/metrics/sample-scores.ts).
 * Maxout convolutions: the paper's own building blocks, no extra layer types needed.
 */
import { join } from "node:path";
import { interruptionPoint } from "../backend/interrupt.ts";
import { readFloats } from "../backend/select.ts";
import { tf, type Variable } from "../backend/tf.ts";
import type { LayerConfig, OptimizerConfig } from "../config/schema.ts";
import { combinedHash, sha256Hex } from "../data/checksum.ts";
import type { Dataset } from "../data/dataset.ts";
import { defaultCacheDir } from "../data/download.ts";
import {
  buildNetwork,
  disposeNetwork,
  forward,
  type Network,
  networkParams,
} from "../models/network.ts";
import { Rng } from "../rng/streams.ts";
import { captureTensors, restoreTensors } from "../models/tensor-state.ts";
import {
  decodeTensorFile,
  encodeTensorFile,
  type TensorFileHeader,
} from "../models/tensor-file.ts";
import { createOptimizer } from "../models/optimizers.ts";
import { writeFileAtomic } from "../util/atomic.ts";

/**
 * The cache file's header: the training checkpoint's layout (format 2), which it was first
 * written in, kept so that cached classifiers stay readable. The test accuracy rides in the
 * history's first slot.
 */
const CACHE_FORMAT = 2;
interface CachedClassifierHeader extends TensorFileHeader {
  experiment: string;
  seed: number;
  configHash: string;
  iteration: number;
  optimizerSteps: { generator: number; discriminator: number };
  history: Record<
    "step" | "dLoss" | "gLoss" | "dReal" | "dFake" | "fakeMean" | "fakeStd",
    number[]
  >;
  fingerprints: never[];
}

export interface ClassifierSpec {
  layers: LayerConfig[];
  /** Layers up to and including the feature layer (the penultimate one). */
  featureLayers: number;
  epochs: number;
  batchSize: number;
  optimizer: OptimizerConfig;
  seed: number;
}

/** Bump when training or the architecture's meaning changes. */
const CLASSIFIER_VERSION = "classifier-v1";

/** Two maxout convolutions, a maxout feature layer and a linear output: small and quick. */
function maxoutConvSpec(shape: [number, number, number], epochs: number): ClassifierSpec {
  return {
    layers: [
      { type: "reshape", shape },
      { type: "conv-maxout", channels: 16, pieces: 2, kernel: 5, pad: 2, pool: 2, poolStride: 2 },
      { type: "conv-maxout", channels: 32, pieces: 2, kernel: 5, pad: 2, pool: 2, poolStride: 2 },
      { type: "maxout", units: 128, pieces: 2 },
      { type: "dense", units: 10, activation: "linear" },
    ],
    featureLayers: 4,
    epochs,
    batchSize: 100,
    optimizer: { kind: "adam", lr: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 },
    seed: 2014,
  };
}

/** MNIST: 4 epochs (the test accuracy they reach: docs/results.md, Metrics). */
export const mnistClassifierSpec = () => maxoutConvSpec([1, 28, 28], 4);

/** CIFAR-10 on GCN data (features for a Fréchet distance; accuracy is secondary). */
export const cifarClassifierSpec = () => maxoutConvSpec([3, 32, 32], 3);

export interface Classifier {
  net: Network;
  spec: ClassifierSpec;
  testAccuracy: number;
  /** SHA-256 of everything the weights depend on; also the cache key. */
  key: string;
  cached: boolean;
}

function build(spec: ClassifierSpec, dim: number): Network {
  return buildNetwork(new Rng(spec.seed), "C", dim, spec.layers, { kind: "fan-in-uniform" });
}

/** Class probabilities (n × classes) and features (n × featureDim) of `images`, in batches. */
export async function classify(
  c: Classifier,
  images: Float32Array,
  dim: number,
  signal?: AbortSignal,
): Promise<{ probs: Float32Array; features: Float32Array; featureDim: number }> {
  const n = images.length / dim;
  const featureDim = c.net.layers[c.spec.featureLayers - 1].outShape.reduce((a, b) => a * b, 1);
  const classes = c.net.outputDim;
  const probs = new Float32Array(n * classes), features = new Float32Array(n * featureDim);
  for (let at = 0; at < n; at += 500) {
    const rows = Math.min(500, n - at);
    const [p, f] = tf.tidy(() => {
      const x = tf.tensor2d(images.subarray(at * dim, (at + rows) * dim), [rows, dim]);
      const feats = forward(c.net, x, { layers: c.spec.featureLayers });
      const logits = c.net.layers[c.net.layers.length - 1].apply(feats, false);
      return [tf.softmax(logits), feats];
    });
    probs.set(await readFloats(p), at * classes);
    features.set(await readFloats(f), at * featureDim);
    tf.dispose([p, f]);
    await interruptionPoint(signal);
  }
  return { probs, features, featureDim };
}

export async function accuracy(
  c: Classifier,
  images: Float32Array,
  labels: Uint8Array,
  dim: number,
): Promise<number> {
  const { probs } = await classify(c, images, dim);
  const k = c.net.outputDim;
  let right = 0;
  for (let i = 0; i < labels.length; i++) {
    let best = 0;
    for (let j = 1; j < k; j++) if (probs[i * k + j] > probs[i * k + best]) best = j;
    if (best === labels[i]) right++;
  }
  return right / labels.length;
}

/** The cached classifier for this data set and spec, trained first when there is none. */
export async function trainedClassifier(
  dataset: Dataset,
  spec: ClassifierSpec,
  { cacheDir = defaultCacheDir(), onEpoch, signal }: {
    cacheDir?: string;
    onEpoch?: (epoch: number, acc: number) => void;
    /** Stops training between batches; nothing is cached then. */
    signal?: AbortSignal;
  } = {},
): Promise<Classifier> {
  const { key, path } = cacheEntry(dataset, spec, cacheDir);
  const net = build(spec, dataset.dim);
  const named = networkParams(net).map((p): [string, Variable] => [p.name, p.variable]);
  try {
    const saved = decodeTensorFile<CachedClassifierHeader>(
      await Deno.readFile(path),
      { [CACHE_FORMAT]: { digest: true } },
      (what) => new Error(`${path}: ${what}`),
    );
    restoreTensors(
      saved,
      named,
      (v, values) => tf.tidy(() => v.assign(tf.tensor(values, v.shape))),
    );
    return { net, spec, key, cached: true, testAccuracy: saved.header.history.dReal[0] };
  } catch { /* not cached (or unreadable): train */ }

  const train = dataset.splits.train, test = dataset.splits.test;
  const vars = named.map(([, v]) => v);
  const opt = createOptimizer(spec.optimizer, vars, named.map(([n]) => n));
  const shuffle = new Rng(spec.seed).stream("classifier/shuffle");
  const classes = net.outputDim;
  try {
    for (let epoch = 0; epoch < spec.epochs; epoch++) {
      const order = shuffle.at(epoch).permutation(train.count);
      for (let at = 0; at < train.count; at += spec.batchSize) {
        const rows = Math.min(spec.batchSize, train.count - at);
        const x = new Float32Array(rows * dataset.dim), y = new Int32Array(rows);
        for (let r = 0; r < rows; r++) {
          const i = order[at + r];
          x.set(train.images.subarray(i * dataset.dim, (i + 1) * dataset.dim), r * dataset.dim);
          y[r] = train.labels![i];
        }
        tf.tidy(() => {
          const xs = tf.tensor2d(x, [rows, dataset.dim]);
          // an int one-hot, cast: a float one-hot is all zeros on wasm 4.22
          const ys = tf.cast(tf.oneHot(tf.tensor1d(y, "int32"), classes), "float32");
          const { grads } = tf.variableGrads(
            () => tf.losses.softmaxCrossEntropy(ys, forward(net, xs)) as tf.Scalar,
            vars,
          );
          opt.step(vars.map((v) => grads[v.name]), epoch);
        });
        await interruptionPoint(signal);
      }
      onEpoch?.(
        epoch,
        await accuracy(
          { net, spec, key, cached: false, testAccuracy: NaN },
          test.images,
          test.labels!,
          dataset.dim,
        ),
      );
    }
  } finally {
    opt.dispose();
  }
  const testAccuracy = await accuracy(
    { net, spec, key, cached: false, testAccuracy: NaN },
    test.images,
    test.labels!,
    dataset.dim,
  );
  await cacheClassifier(dataset, spec, net, testAccuracy, cacheDir);
  return { net, spec, key, cached: false, testAccuracy };
}

/** The cache key of a classifier (everything its weights depend on) and its file. */
function cacheEntry(dataset: Dataset, spec: ClassifierSpec, cacheDir: string) {
  const key = sha256Hex(new TextEncoder().encode(JSON.stringify({
    version: CLASSIFIER_VERSION,
    data: combinedHash(dataset.files),
    scale: dataset.scale,
    spec,
  })));
  return { key, path: join(cacheDir, `classifier-${dataset.name}-${key.slice(0, 16)}.ckpt`) };
}

/**
 * Writes `net` as the cached classifier of this data set and spec, where trainedClassifier
 * will find it. Without `net`, the spec's untrained network (its seeded initialisation): what
 * tests use to score runs without training a classifier first.
 */
export async function cacheClassifier(
  dataset: Dataset,
  spec: ClassifierSpec,
  net: Network | null,
  testAccuracy: number,
  cacheDir = defaultCacheDir(),
): Promise<void> {
  const { key, path } = cacheEntry(dataset, spec, cacheDir);
  const own = net ?? build(spec, dataset.dim);
  const named = networkParams(own).map((p): [string, Variable] => [p.name, p.variable]);
  const { tensors, values } = await captureTensors(named);
  const header: CachedClassifierHeader = {
    format: CACHE_FORMAT,
    experiment: `classifier-${dataset.name}`,
    seed: spec.seed,
    configHash: key,
    iteration: spec.epochs,
    optimizerSteps: { generator: 0, discriminator: 0 },
    history: {
      step: [spec.epochs],
      dLoss: [],
      gLoss: [],
      dReal: [testAccuracy],
      dFake: [],
      fakeMean: [],
      fakeStd: [],
    },
    fingerprints: [],
    tensors,
  };
  if (!net) disposeNetwork(own);
  await writeFileAtomic(path, encodeTensorFile(header, values));
}

export function disposeClassifier(c: Classifier): void {
  disposeNetwork(c.net);
}
