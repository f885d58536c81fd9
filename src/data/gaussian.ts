/** The 1-D target distribution of "GANs in 50 lines": N(mean, std²) samples as a column. */
import type { DataConfig } from "../config/schema.ts";
import type { Draw } from "../rng/streams.ts";

export type GaussianData = Extract<DataConfig, { kind: "gaussian" }>;

export const GAUSSIAN_DATA_DIM = 1;

export function sampleGaussian(data: GaussianData, draw: Draw, n: number): Float32Array {
  return draw.normal(n, data.mean, data.std);
}
