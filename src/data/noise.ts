/** The generator's input noise z, drawn from a seeded stream. */
import type { NoiseConfig } from "../config/schema.ts";
import type { Draw } from "../rng/streams.ts";

/** n × dim values, row-major; into `out` (n × dim long) when given, else a new array. */
export function sampleNoise(
  noise: NoiseConfig,
  draw: Draw,
  n: number,
  out: Float32Array = new Float32Array(n * noise.dim),
): Float32Array {
  if (out.length !== n * noise.dim) {
    throw new RangeError(
      `${n} rows of noise need ${n * noise.dim} values; out holds ${out.length}`,
    );
  }
  return noise.kind === "uniform"
    ? draw.uniformInto(out, noise.low, noise.high)
    : draw.normalInto(out, 0, noise.std);
}
