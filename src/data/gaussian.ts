/** The 1-D target distribution of "GANs in 50 lines": N(mean, std²) samples as a column. */
import type { DataConfig } from "../config/schema.ts";
import type { Draw } from "../rng/streams.ts";

export type GaussianData = Extract<DataConfig, { kind: "gaussian" }>;

export const GAUSSIAN_DATA_DIM = 1;

/** n samples; into `out` (n long) when given, else a new array. */
export function sampleGaussian(
  data: GaussianData,
  draw: Draw,
  n: number,
  out: Float32Array = new Float32Array(n),
): Float32Array {
  return draw.normalInto(out, data.mean, data.std);
}
