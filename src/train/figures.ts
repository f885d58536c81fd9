/**
 * What the report shows of a run beyond its numbers: generator samples from one fixed latent
 * batch at snapshots through training, the paper's Figure 2 (samples beside the nearest
 * training image) and Figure 3 (linear paths in z), and for 1-D runs Figure 1 (real and
 * generated densities and D over x).
 *
 * Every draw here comes from its own `report/…` streams and nothing here changes a weight,
 * so a run's training numbers and fingerprints are the same with or without figures.
 * `runExperiment` hands each figure to a callback; the run folder writes it (PNG or JSON).
 */
import { readFloats } from "../backend/select.ts";
import { tf } from "../backend/tf.ts";
import type { ResolvedConfig } from "../config/load.ts";
import type { DiscriminatorInputConfig } from "../config/schema.ts";
import { sampleNoise } from "../data/noise.ts";
import { conditionWidth, cyclicLabels, withOneHot } from "../data/labels.ts";
import { histogram } from "../metrics/distribution1d.ts";
import { isMixture, mixtureCentres } from "../data/mixture.ts";
import { scatterSnapshot } from "../metrics/mixture.ts";
import { nearestRowsChunked } from "../metrics/nearest.ts";
import { generate } from "../models/generate.ts";
import { discriminatorInput } from "../models/discriminator-input.ts";
import { forward, type Network } from "../models/network.ts";
import type { Rng } from "../rng/streams.ts";
import type { RealData } from "../data/real-data.ts";
import type {
  DensitySnapshot,
  Display,
  Figure,
  FigureIndex,
  ImageGrid,
  JsonFigure,
} from "../record/figures.ts";
import { snapshotFile } from "../record/figures.ts";
import { mapFloats } from "../util/map-floats.ts";

type Config = ResolvedConfig["config"];

/** Rows × columns of the sample grid drawn from the fixed latent batch. */
export const GRID = { rows: 8, cols: 8 };
/** Snapshots over the budget besides iteration 0: about this many, evenly spaced. */
export const SNAPSHOTS = 24;
/** Figure 2: rows × samples, plus one column for the nearest training image. */
export const FIGURE2 = { rows: 4, cols: 5 };
/** Figure 3: this many pairs of latent points, each path with this many points. */
export const FIGURE3 = { pairs: 4, steps: 9 };
/** Figure 1: points on the x axis for D, and generated samples per density. */
export const FIGURE1 = { points: 121, samples: 5000 };
const LATENT_STREAM = "report/z";
/** Rows of z per forward pass of G when drawing figures. */
const GENERATE_BATCH = 500;

/** The iterations (after that many updates) at which snapshots are taken: 0, then ~24 more. */
export function snapshotSchedule(iterations: number): number[] {
  const points = new Set([0]);
  for (let k = 1; k <= SNAPSHOTS; k++) points.add(Math.round((k * iterations) / SNAPSHOTS));
  return [...points].filter((i) => i <= iterations).sort((a, b) => a - b);
}

/** Builds a run's figures from its generator (and discriminator, for 1-D runs). */
export class FigureMaker {
  readonly latent: Float32Array;
  readonly count: number;
  readonly display: Display | null;
  constructor(
    private readonly config: Config,
    rng: Rng,
    private readonly real: RealData,
    private readonly iterations: number,
  ) {
    this.count = real.imageShape ? GRID.rows * GRID.cols : FIGURE1.samples;
    this.latent = sampleNoise(config.noise, rng.stream(LATENT_STREAM).at(0), this.count);
    this.display = real.imageShape ? displayOf(config, real) : null;
    this.probeNoise = rng.stream("report/d-probe").at(0).normal(config.training.batchSize, 0, 1);
  }
  private readonly probeNoise: Float32Array;

  latentFigure(): JsonFigure {
    return {
      kind: "json",
      file: "samples/latent.json",
      value: {
        stream: LATENT_STREAM,
        noise: this.config.noise,
        shape: [this.count, this.config.noise.dim],
        values: Array.from(this.latent),
      },
    };
  }

  /**
   * G(z) for rows of z; a conditional G's G(z, y) with row r of the fixed batch made for class
   * r mod classes (`labels`: each row's index in the batch, by default its own).
   */
  private generate(G: Network, z: Float32Array, rowOf?: (row: number) => number) {
    const zDim = this.config.noise.dim, classes = conditionWidth(this.config);
    if (!classes) return generate(G, z, zDim, GENERATE_BATCH);
    const rows = z.length / zDim;
    const cyclic = cyclicLabels(this.count, classes);
    const labels = Int32Array.from({ length: rows }, (_, r) => cyclic[rowOf ? rowOf(r) : r]);
    return generate(G, withOneHot(z, zDim, labels, classes), zDim + classes, GENERATE_BATCH);
  }

  /** The snapshot after `iteration` updates: a sample grid, or Figure 1 data for 1-D runs. */
  async snapshot(iteration: number, G: Network, D: Network): Promise<Figure> {
    const fake = await this.generate(G, this.latent);
    if (this.real.imageShape) {
      return {
        kind: "image-grid",
        file: snapshotFile(iteration, "png"),
        images: fake,
        shape: this.real.imageShape,
        rows: GRID.rows,
        cols: GRID.cols,
        display: this.display!,
      };
    }
    const { data, metrics } = this.config;
    if (isMixture(data) && metrics.kind === "mixture-2d") {
      const value = scatterSnapshot(iteration, fake, mixtureCentres(data), data.std, metrics);
      return { kind: "json", file: snapshotFile(iteration, "json"), value };
    }
    const spec = this.config.metrics.kind === "gaussian-1d"
      ? this.config.metrics.histogram
      : { low: -5, high: 5, bins: 50 };
    const x = Array.from(
      { length: FIGURE1.points },
      (_, i) => spec.low + (i * (spec.high - spec.low)) / (FIGURE1.points - 1),
    );
    const { d, probe } = await this.discriminatorProbe(D, x);
    const value: DensitySnapshot = {
      iteration,
      low: spec.low,
      high: spec.high,
      generated: histogram(fake, spec),
      x,
      d,
      probe,
    };
    return { kind: "json", file: snapshotFile(iteration, "json"), value };
  }

  /**
   * D over x. A per-example D is evaluated at each x. The "GANs in 50 lines" discriminators
   * see a whole batch (its moments, or its samples and deviations), so D(x) of one point does
   * not exist; they are probed with a fixed batch moved to mean x: x + std·ε.
   */
  private async discriminatorProbe(D: Network, x: number[]) {
    const input: DiscriminatorInputConfig = this.config.discriminator.input;
    const std = this.config.data.kind === "gaussian" ? this.config.data.std : 1;
    const pointwise = input.kind === "identity";
    const t = tf.tidy(() => {
      if (pointwise) {
        // a packing D (PacGAN) is probed at packs of m copies of x
        const points = tf.tile(tf.tensor2d(x, [x.length, 1]), [1, this.config.training.pack ?? 1]);
        return tf.sigmoid(forward(D, points, { logits: true }));
      }
      const eps = this.probeNoise;
      const rows = x.map((c) => {
        const batch = tf.tensor2d(Float32Array.from(eps, (e) => c + std * e), [eps.length, 1]);
        return discriminatorInput(input, batch);
      });
      return tf.sigmoid(forward(D, tf.concat(rows, 0), { logits: true }));
    });
    const values = await readFloats(t);
    t.dispose();
    return {
      d: Array.from(values),
      probe: pointwise ? "pointwise" as const : "batch-location" as const,
    };
  }

  /** Figures 2 and 3 from the final generator (image runs only). */
  async finalFigures(
    G: Network,
  ): Promise<{ figures: Figure[]; index: Pick<FigureIndex, "nearest" | "interpolation"> }> {
    const shape = this.real.imageShape!, dim = this.real.dim, zDim = this.config.noise.dim;
    const display = this.display!;
    // Figure 2: the first rows × cols samples of the fixed batch; the nearest training image
    // (squared L2 in pixel space) to each row's last sample, as show_samples_mnist_paper.py
    const n = FIGURE2.rows * FIGURE2.cols;
    const samples = await this.generate(G, this.latent.subarray(0, n * zDim));
    const unit = this.real.toUnit;
    const space = unit ? "[0,1] pixels" : "the data's scale";
    const toSpace = (v: Float32Array) => (unit ? mapFloats(v, unit) : v);
    const queries = new Float32Array(FIGURE2.rows * dim);
    for (let r = 0; r < FIGURE2.rows; r++) {
      const at = (r * FIGURE2.cols + FIGURE2.cols - 1) * dim;
      queries.set(toSpace(samples.subarray(at, at + dim)), r * dim);
    }
    // the training split read a chunk of rows at a time: no float copy of it (491 MB for
    // CIFAR-10's 40,000 images) is made for a figure
    const real = this.real;
    const nearest = nearestRowsChunked(
      queries,
      real.provenance?.trainCount ?? 0,
      dim,
      (from, to, out) => real.trainRowsInto(from, to, out),
      unit,
    );
    const neighbours = new Float32Array(FIGURE2.rows * dim);
    nearest.index.forEach((i, r) =>
      real.trainRowsInto(i, i + 1, neighbours.subarray(r * dim, (r + 1) * dim))
    );

    // Figure 3: linear paths in z between pairs of the fixed batch's points (a conditional
    // G's path p keeps the class of its first point, row 2p)
    const { pairs, steps } = FIGURE3;
    const path = new Float32Array(pairs * steps * zDim);
    for (let p = 0; p < pairs; p++) {
      const a = this.latent.subarray(2 * p * zDim, (2 * p + 1) * zDim);
      const b = this.latent.subarray((2 * p + 1) * zDim, (2 * p + 2) * zDim);
      for (let s = 0; s < steps; s++) {
        const w = s / (steps - 1);
        for (let j = 0; j < zDim; j++) path[(p * steps + s) * zDim + j] = (1 - w) * a[j] + w * b[j];
      }
    }
    const interpolated = await this.generate(G, path, (r) => 2 * Math.floor(r / steps));
    const grid = (file: string, images: Float32Array, rows: number, cols: number): ImageGrid => ({
      kind: "image-grid",
      file,
      images,
      shape,
      rows,
      cols,
      display,
    });
    return {
      figures: [
        grid("figures/figure2-samples.png", samples, FIGURE2.rows, FIGURE2.cols),
        grid("figures/figure2-nearest.png", neighbours, FIGURE2.rows, 1),
        grid("figures/figure3-interpolation.png", interpolated, pairs, steps),
      ],
      index: {
        nearest: {
          file: "figures/figure2-samples.png",
          neighboursFile: "figures/figure2-nearest.png",
          rows: FIGURE2.rows,
          cols: FIGURE2.cols,
          trainIndex: Array.from(nearest.index),
          distance2: Array.from(nearest.distance2),
          space,
        },
        interpolation: { file: "figures/figure3-interpolation.png", pairs, steps },
      },
    };
  }

  /** The figure index for result.json, listing the snapshots taken (in every segment). */
  index(
    snapshots: number[],
    final: Pick<FigureIndex, "nearest" | "interpolation"> | null,
  ): FigureIndex {
    return {
      latent: { stream: LATENT_STREAM, count: this.count, file: "samples/latent.json" },
      snapshots,
      display: this.display,
      nearest: final?.nearest ?? null,
      interpolation: final?.interpolation ?? null,
    };
  }
}

/** How this data set's values map to display intensities. */
function displayOf(config: Config, real: RealData): Display {
  if (!real.toUnit) return { kind: "per-image" };
  const symmetric = "scale" in config.data && config.data.scale === "symmetric";
  return symmetric
    ? { kind: "unit", offset: 1, scale: 0.5 }
    : { kind: "unit", offset: 0, scale: 1 };
}
