/**
 * Global contrast normalisation as pylearn2's defaults (use_std=False, sqrt_bias=0,
 * min_divisor=1e-8): per row, subtract the mean, then divide by ‖x‖₂ / scale, leaving rows
 * whose divisor is below 1e-8 unscaled. Computed in float64 on 0–255 values, each result
 * rounded to float32 on store. A row's values depend on that row alone, so rows normalised
 * one batch at a time equal those of the whole data set normalised at once.
 */

/** GCN of the `dim` pixels from `from` into out[at, at + dim). */
export function gcnRowInto(
  pixels: Uint8Array,
  from: number,
  dim: number,
  scale: number,
  out: Float32Array,
  at: number,
): void {
  let sum = 0;
  for (let j = 0; j < dim; j++) sum += pixels[from + j];
  const mean = sum / dim;
  let ss = 0;
  for (let j = 0; j < dim; j++) ss += (pixels[from + j] - mean) ** 2;
  let divisor = Math.sqrt(ss) / scale;
  if (divisor < 1e-8) divisor = 1;
  for (let j = 0; j < dim; j++) out[at + j] = (pixels[from + j] - mean) / divisor;
}

/** GCN of every `dim`-pixel row. */
export function globalContrastNormalize(
  pixels: Uint8Array,
  dim: number,
  scale: number,
): Float32Array {
  const out = new Float32Array(pixels.length);
  for (let at = 0; at < pixels.length; at += dim) gcnRowInto(pixels, at, dim, scale, out, at);
  return out;
}
