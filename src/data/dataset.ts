/**
 * One interface for every image data set: named splits of float32 rows in the protocol's
 * pixel scale and layout, labels, shape, and the SHA-256 of every file read.
 */
import type { FileRecord } from "./checksum.ts";

export interface Split {
  /** count × dim values, row-major; one example per row. */
  images: Float32Array;
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

/** Rows [from, to) of a split, sharing memory with it. */
export function sliceSplit(split: Split, dim: number, from: number, to: number): Split {
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
