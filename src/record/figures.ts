/**
 * The figures of a run folder as data: what src/train/figures.ts makes, the run folder
 * writes (samples/, figures/) and the report reads. Free of TF.js.
 */

/** How pixel values become display intensities. */
export type Display =
  | { kind: "unit"; offset: number; scale: number } // v ↦ clamp((v + offset) · scale, 0, 1)
  | { kind: "per-image" }; // min–max of each image (GCN data have no fixed pixel range)

/** Images to be laid out as a grid and written as one PNG. */
export interface ImageGrid {
  kind: "image-grid";
  /** Path inside the run folder, e.g. samples/iter-000500.png */
  file: string;
  images: Float32Array;
  /** [channels, height, width], channel-planar rows */
  shape: [number, number, number];
  rows: number;
  cols: number;
  display: Display;
}

/** A small JSON document for the run folder. */
export interface JsonFigure {
  kind: "json";
  file: string;
  value: unknown;
}

export type Figure = ImageGrid | JsonFigure;

export const snapshotFile = (iteration: number, ext: "png" | "json") =>
  `samples/iter-${String(iteration).padStart(6, "0")}.${ext}`;

/** Figure 1 for a 1-D run at one snapshot. */
export interface DensitySnapshot {
  iteration: number;
  /** Bin edges low..high of the metric's histogram; counts of G(z) over the fixed latent batch. */
  low: number;
  high: number;
  /** bins + 2 counts: below low, the bins, at or above high */
  generated: number[];
  x: number[];
  /** D's output at each x (see `discriminatorProbe`). */
  d: number[];
  /** "pointwise": D(x); "batch-location": D of a batch drawn from N(x, std²) (D sees batches). */
  probe: "pointwise" | "batch-location";
}

/** What the run records about its figures (goes into result.json). */
export interface FigureIndex {
  /** The fixed latent batch: where it comes from and where it is stored. */
  latent: { stream: string; count: number; file: string };
  snapshots: number[];
  display: Display | null;
  /** Figure 2: per row, the nearest training image to the row's last sample. */
  nearest: {
    file: string;
    neighboursFile: string;
    rows: number;
    cols: number;
    trainIndex: number[];
    distance2: number[];
    /** "[0,1] pixels" or the data's own scale */
    space: string;
  } | null;
  interpolation: { file: string; pairs: number; steps: number } | null;
}
