/** The generator's input noise z, drawn from a seeded stream. */
import type { NoiseConfig } from "../config/schema.ts";
import type { Draw } from "../rng/streams.ts";

/** n × dim values, row-major. */
export function sampleNoise(noise: NoiseConfig, draw: Draw, n: number): Float32Array {
  return noise.kind === "uniform"
    ? draw.uniform(n * noise.dim, noise.low, noise.high)
    : draw.normal(n * noise.dim, 0, noise.std);
}
