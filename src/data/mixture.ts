/**
 * The 2-D mixtures of the mode-collapse literature (docs/mixtures.md): equal-weight
 * isotropic Gaussians on a ring or a square grid. Samples are rows (x, y).
 */
import type { DataConfig } from "../config/schema.ts";
import type { Draw } from "../rng/streams.ts";

export type RingData = Extract<DataConfig, { kind: "ring" }>;
export type GridData = Extract<DataConfig, { kind: "grid" }>;

export type MixtureData = RingData | GridData;

export const MIXTURE_DIM = 2;

export function isMixture(data: { kind: string }): data is MixtureData {
  return data.kind === "ring" || data.kind === "grid";
}

/**
 * The centres, one [x, y] per mode. Ring: angle 2πk/modes from the x axis, k = 0, 1, …;
 * grid: x outer, y inner (as itertools.product in PacGAN's code), coordinates (i − (side − 1)/2)·spacing.
 */
export function mixtureCentres(data: MixtureData): [number, number][] {
  if (data.kind === "ring") {
    return Array.from({ length: data.modes }, (_, k) => {
      const a = (2 * Math.PI * k) / data.modes;
      return [data.radius * Math.cos(a), data.radius * Math.sin(a)];
    });
  }
  const at = (i: number) => (i - (data.side - 1) / 2) * data.spacing;
  const out: [number, number][] = [];
  for (let i = 0; i < data.side; i++) {
    for (let j = 0; j < data.side; j++) out.push([at(i), at(j)]);
  }
  return out;
}

/**
 * n samples: a uniform mode index each, then N(centre, std²·I); mode indices drawn first.
 * Into `out` (2n long) when given, else a new array: the noise is drawn there and its centre
 * added in place, the same float32 sums as adding it to a separate noise array.
 */
export function sampleMixture(
  data: MixtureData,
  draw: Draw,
  n: number,
  out: Float32Array = new Float32Array(2 * n),
): Float32Array {
  const centres = mixtureCentres(data);
  const modes = Int32Array.from({ length: n }, () => draw.nextBelow(centres.length));
  draw.normalInto(out, 0, data.std);
  for (let i = 0; i < n; i++) {
    const [cx, cy] = centres[modes[i]];
    out[2 * i] = cx + out[2 * i];
    out[2 * i + 1] = cy + out[2 * i + 1];
  }
  return out;
}
