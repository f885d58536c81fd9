/**
 * Where D's real batches come from: a seeded sampler (1-D experiments) or a data set's
 * training split, reshuffled each epoch by a seeded permutation with the smaller last batch
 * kept (pylearn2's shuffled_sequential). Batch t is a pure function of t, so a resumed run
 * reads exactly the batches an uninterrupted one would.
 */
import type { DataConfig } from "../config/schema.ts";
import type { FileRecord } from "./checksum.ts";
import { type Dataset, sliceSplit, type Split, UNIT_PIXELS } from "./dataset.ts";
import { GAUSSIAN_DATA_DIM, sampleGaussian } from "./gaussian.ts";
import { gcnRowInto } from "./gcn.ts";
import { isMixture, MIXTURE_DIM, sampleMixture } from "./mixture.ts";
import { type DataSources, loadDataset } from "./registry.ts";
import type { Rng } from "../rng/streams.ts";
import { mapFloats } from "../util/map-floats.ts";

export interface RealBatch {
  /** batch rows × dim values, row-major */
  values: Float32Array;
  rows: number;
  /** 0-based epoch this batch belongs to (0 for samplers) */
  epoch: number;
  /** Rows of the training split in this batch (null for samplers). */
  indices: Int32Array | null;
}

export interface DataProvenance {
  name: string;
  source: string;
  scale: string;
  trainSplit: string;
  trainCount: number;
  files: FileRecord[];
}

export interface RealData {
  dim: number;
  /** Per-example image shape [c, h, w], or null for vectors. */
  imageShape: [number, number, number] | null;
  /** Batches per epoch; null for an endless sampler. */
  batchesPerEpoch: number | null;
  /** Batch `step`; its values into `out` (rowsAt(step) × dim long) when given, else a new array. */
  batch(step: number, out?: Float32Array): RealBatch;
  /** The rows of batch(step), without drawing it (the last batch of an epoch may be short). */
  rowsAt(step: number): number;
  /** Per-pixel means of the training split (for sigmoid-output bias init). */
  pixelMeans(): Float32Array;
  /** The training split in order, in the training data's scale. */
  trainImages(): Float32Array;
  /**
   * Rows [from, to) of the training split into `out` from entry 0: the values `trainImages()`
   * holds, cut from the data set as batches are (8-bit pixels stay bytes), so a caller that
   * reads the split a chunk at a time never holds its float copy.
   */
  trainRowsInto(from: number, to: number, out: Float32Array): void;
  /** The validation and test splits, in the training data's scale (null for samplers). */
  heldOut: HeldOut | null;
  /** Maps a value of the training data's scale to pixels in [0, 1] (Parzen's scale). */
  toUnit: ((v: number) => number) | null;
  provenance: DataProvenance | null;
  /** The data set itself (null for samplers), for classifier-based metrics. */
  dataset: Dataset | null;
}

/** A data set's validation and test splits, in the training data's scale. */
export interface HeldOut {
  validation: Split;
  test: Split;
  /**
   * The first `count` rows of a split: the values of its `images`, made for those rows alone
   * where the split keeps 8-bit pixels (not kept, and the whole split's floats not made).
   */
  firstRows(split: "validation" | "test", count: number): Float32Array;
}

export function openRealData(
  data: DataConfig,
  rng: Rng,
  batchSize: number,
  sources: DataSources = {},
): RealData {
  if (data.kind === "gaussian" || isMixture(data)) {
    const stream = rng.stream("train/real");
    const mixture = isMixture(data) ? data : null;
    return {
      dim: mixture ? MIXTURE_DIM : GAUSSIAN_DATA_DIM,
      imageShape: null,
      batchesPerEpoch: null,
      batch: (step, out) => ({
        values: mixture
          ? sampleMixture(
            mixture,
            stream.at(step),
            batchSize,
            batchOut(out, batchSize * MIXTURE_DIM),
          )
          : sampleGaussian(
            data as Extract<DataConfig, { kind: "gaussian" }>,
            stream.at(step),
            batchSize,
            batchOut(out, batchSize * GAUSSIAN_DATA_DIM),
          ),
        rows: batchSize,
        epoch: 0,
        indices: null,
      }),
      rowsAt: () => batchSize,
      pixelMeans: () =>
        mixture
          ? new Float32Array(MIXTURE_DIM)
          : new Float32Array([(data as { mean: number }).mean]),
      trainImages: () => new Float32Array(0),
      trainRowsInto: (from, to) => {
        if (to > from) throw new RangeError("a sampler has no training split to read rows of");
      },
      heldOut: null,
      toUnit: null,
      provenance: null,
      dataset: null,
    };
  }
  const dataset = loadImageData(data, sources);
  const trainSplit = data.kind === "tfd" ? "unlabeled" : "train";
  const train = dataset.splits[trainSplit];
  const symmetricScale = "scale" in data && data.scale === "symmetric";
  // the value each 8-bit pixel becomes in the training data's scale (exactly what rescaling
  // the float images gives)
  const pixelValues = symmetricScale ? symmetric(UNIT_PIXELS) : UNIT_PIXELS;
  // Copies in [−1, 1] are made when evaluation first asks, and batches are cut from the data
  // set as it is (8-bit pixels where it came so): training holds the data set once, not twice.
  const rescaled = (split: Split): Split =>
    symmetricScale
      ? {
        images: split.pixels && split.gcnScale === undefined
          ? lookUp(split.pixels, pixelValues)
          : symmetric(split.images),
        labels: split.labels,
        count: split.count,
      }
      : split;
  let trainCopy: Float32Array | null = null, validCopy: Split | null = null;
  let testCopy: Split | null = null;
  const trainImages = () => (trainCopy ??= rescaled(train).images);
  const pixels = train.pixels ?? null;
  // pixels whose rows are normalised (GCN) as each batch is cut, else looked up in the table
  const gcnScale = pixels ? train.gcnScale ?? null : null;
  const floats = pixels ? null : train.images;
  const n = train.count, dim = dataset.dim;
  /** Row `row` of the training split in the training data's scale, into out[at, at + dim). */
  const rowInto = (row: number, out: Float32Array, at: number) => {
    const src = row * dim;
    if (pixels && gcnScale !== null) {
      gcnRowInto(pixels, src, dim, gcnScale, out, at);
    } else if (pixels) {
      for (let j = 0; j < dim; j++) out[at + j] = pixelValues[pixels[src + j]];
    } else if (symmetricScale) {
      // each value rounded to float32 on store, as `symmetric` rounds it
      for (let j = 0; j < dim; j++) out[at + j] = floats![src + j] * 2 - 1;
    } else {
      out.set(floats!.subarray(src, src + dim), at);
    }
  };
  const perEpoch = Math.ceil(n / batchSize);
  const shuffle = rng.stream("train/shuffle");
  let cached: { epoch: number; order: Int32Array } | null = null;
  const order = (epoch: number) => {
    if (cached?.epoch !== epoch) cached = { epoch, order: shuffle.at(epoch).permutation(n) };
    return cached.order;
  };
  return {
    dim,
    imageShape: dataset.shape,
    batchesPerEpoch: perEpoch,
    batch(step, out) {
      const epoch = Math.floor(step / perEpoch);
      const first = (step % perEpoch) * batchSize;
      const rows = Math.min(batchSize, n - first);
      const indices = order(epoch).subarray(first, first + rows);
      // every value is written, so a reused array needs no clearing
      const values = batchOut(out, rows * dim);
      for (let r = 0; r < rows; r++) rowInto(indices[r], values, r * dim);
      return { values, rows, epoch, indices };
    },
    rowsAt: (step) => Math.min(batchSize, n - (step % perEpoch) * batchSize),
    trainImages,
    trainRowsInto(from, to, out) {
      if (!(Number.isInteger(from) && Number.isInteger(to) && 0 <= from && from <= to && to <= n)) {
        throw new RangeError(`training rows [${from}, ${to}) outside [0, ${n})`);
      }
      if (out.length < (to - from) * dim) {
        throw new RangeError(
          `${to - from} training rows need ${(to - from) * dim} values; out holds ${out.length}`,
        );
      }
      if (trainCopy) {
        out.set(trainCopy.subarray(from * dim, to * dim));
        return;
      }
      for (let i = from; i < to; i++) rowInto(i, out, (i - from) * dim);
    },
    pixelMeans() {
      const means = new Float64Array(dim);
      if (pixels && gcnScale !== null) {
        // row by row, so that the whole split is never normalised at once
        const row = new Float32Array(dim);
        for (let i = 0; i < n; i++) {
          gcnRowInto(pixels, i * dim, dim, gcnScale, row, 0);
          for (let j = 0; j < dim; j++) means[j] += row[j];
        }
      } else if (pixels) {
        for (let i = 0; i < n; i++) {
          for (let j = 0; j < dim; j++) means[j] += pixelValues[pixels[i * dim + j]];
        }
      } else {
        const images = trainImages();
        for (let i = 0; i < n; i++) for (let j = 0; j < dim; j++) means[j] += images[i * dim + j];
      }
      return Float32Array.from(means, (s) => s / n);
    },
    heldOut: {
      get validation() {
        return validCopy ??= rescaled(dataset.splits.valid);
      },
      get test() {
        return testCopy ??= rescaled(dataset.splits.test);
      },
      firstRows(which, count) {
        const split = dataset.splits[which === "validation" ? "valid" : "test"];
        if (!(Number.isInteger(count) && 0 <= count && count <= split.count)) {
          throw new RangeError(`${count} ${which} rows of ${split.count}`);
        }
        if (!split.pixels) return this[which].images.subarray(0, count * dim);
        return rescaled(sliceSplit(split, dim, 0, count)).images;
      },
    },
    toUnit: symmetricScale
      ? (v) => (v + 1) / 2
      : data.kind === "cifar10" && data.gcnScale !== null
      ? null
      : (v) => v,
    dataset,
    provenance: {
      name: dataset.name,
      source: dataset.source,
      scale: "scale" in data ? data.scale : dataset.scale,
      trainSplit,
      trainCount: n,
      files: dataset.files,
    },
  };
}

/** `out` when given (checked to hold `length` values), else a new array. */
function batchOut(out: Float32Array | undefined, length: number): Float32Array {
  if (out && out.length !== length) {
    throw new RangeError(`a batch of ${length} values drawn into an array of ${out.length}`);
  }
  return out ?? new Float32Array(length);
}

function loadImageData(
  data: Exclude<DataConfig, { kind: "gaussian" | "ring" | "grid" }>,
  sources: DataSources,
): Dataset {
  switch (data.kind) {
    case "mnist":
    case "fashion-mnist":
      return loadDataset(data.kind, sources);
    case "cifar10":
      return loadDataset("cifar10", { ...sources, cifarGcnScale: data.gcnScale });
    case "tfd":
      return loadDataset("tfd", { ...sources, tfdFold: data.fold });
  }
}

function symmetric(x: Float32Array): Float32Array {
  return mapFloats(x, (v) => v * 2 - 1);
}

/** table[pixels[i]] for every i. */
function lookUp(pixels: Uint8Array, table: Float32Array): Float32Array {
  const out = new Float32Array(pixels.length);
  for (let i = 0; i < pixels.length; i++) out[i] = table[pixels[i]];
  return out;
}

/** logit(clip(mean, 1e-7, 1 − 1e-7)): pylearn2's init_sigmoid_bias_from_marginals. */
export function logitOfMeans(means: Float32Array): Float32Array {
  return Float32Array.from(means, (m) => {
    const p = Math.min(Math.max(m, 1e-7), 1 - 1e-7);
    return Math.log(p / (1 - p));
  });
}
