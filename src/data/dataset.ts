/**
 * One interface for every image data set: named splits of float32 rows in the protocol's
 * pixel scale and layout, labels, shape, and the SHA-256 of every file read.
 */
import type { FileRecord } from "./checksum.ts";
import { globalContrastNormalize } from "./gcn.ts";

export interface Split {
  /** count × dim values, row-major; one example per row. */
  images: Float32Array;
  /**
   * The 8-bit pixels `images` are made from, where the data came so: pixels / 255 (a split
   * made by `pixelSplit`) or, with `gcnScale`, each row's global contrast normalisation
   * (`gcnSplit`). Such a split keeps only these (a quarter of the memory) until `images` is
   * first read.
   */
  pixels?: Uint8Array;
  /** With `pixels`: `images` are the rows' GCN at this scale (src/data/gcn.ts), not pixels / 255. */
  gcnScale?: number;
  /** One class index per example, or null for unlabeled data. */
  labels: Uint8Array | null;
  count: number;
}

export interface Dataset {
  name: string;
  /** Per-example shape [channels, height, width]; rows are channel-planar (all R, then G, then B). */
  shape: [number, number, number];
  /** channels × height × width */
  dim: number;
  /** e.g. "[0,1]" (pixels / 255) or "gcn(scale=55)" */
  scale: string;
  splits: Record<string, Split>;
  /** Where the bytes came from, in words (package, folder, archive, URL). */
  source: string;
  files: FileRecord[];
}

/** Rows [from, to) of a split, sharing memory with it (8-bit pixels: their pixels). */
export function sliceSplit(split: Split, dim: number, from: number, to: number): Split {
  if (split.pixels) {
    const labels = split.labels ? split.labels.subarray(from, to) : null;
    const pixels = split.pixels.subarray(from * dim, to * dim);
    return split.gcnScale === undefined
      ? pixelSplit(pixels, labels, to - from)
      : gcnSplit(pixels, labels, to - from, dim, split.gcnScale);
  }
  return {
    images: split.images.subarray(from * dim, to * dim),
    labels: split.labels ? split.labels.subarray(from, to) : null,
    count: to - from,
  };
}

/** uint8 pixels → float32 in [0, 1]. */
export function toUnitScale(pixels: Uint8Array): Float32Array {
  const out = new Float32Array(pixels.length);
  for (let i = 0; i < pixels.length; i++) out[i] = pixels[i] / 255;
  return out;
}

/** `toUnitScale` of each byte value: UNIT_PIXELS[p] is the float32 that p becomes. */
export const UNIT_PIXELS: Float32Array = toUnitScale(Uint8Array.from({ length: 256 }, (_, p) => p));

/**
 * A split of 8-bit pixels whose `images` (pixels / 255, as `toUnitScale`) are made on first
 * read and kept: training cuts its batches from the pixels (src/data/real-data.ts), so a run
 * that never reads `images` holds a byte per value instead of four.
 */
export function pixelSplit(pixels: Uint8Array, labels: Uint8Array | null, count: number): Split {
  let images: Float32Array | null = null;
  return {
    pixels,
    labels,
    count,
    get images() {
      return images ??= toUnitScale(pixels);
    },
  };
}

/**
 * A split of 8-bit pixels whose `images` (each row's GCN at `scale`, as
 * `globalContrastNormalize`) are made on first read and kept: training normalises each
 * batch's rows as it cuts them (src/data/real-data.ts), the same float32 values.
 */
export function gcnSplit(
  pixels: Uint8Array,
  labels: Uint8Array | null,
  count: number,
  dim: number,
  scale: number,
): Split {
  let images: Float32Array | null = null;
  return {
    pixels,
    gcnScale: scale,
    labels,
    count,
    get images() {
      return images ??= globalContrastNormalize(pixels, dim, scale);
    },
  };
}
