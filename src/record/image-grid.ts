/**
 * Generator samples as one PNG: images in a rows × cols grid with a gap between them, at
 * their native size (pages scale them up with `image-rendering: pixelated`).
 */
import { encode } from "fast-png";
import type { Display, ImageGrid } from "./figures.ts";

/** Pixels between neighbouring images; the gap is white. */
export const GAP = 2;

/** One byte per channel of each image: its values mapped through `display` to 0…255. */
export function displayBytes(
  image: Float32Array,
  display: Display,
): Uint8Array {
  let offset = 0, scale = 1;
  if (display.kind === "unit") ({ offset, scale } = display);
  else {
    let lo = Infinity, hi = -Infinity;
    for (const v of image) if (Number.isFinite(v)) [lo, hi] = [Math.min(lo, v), Math.max(hi, v)];
    if (!(hi > lo)) [lo, hi] = [lo - 1, lo + 1];
    [offset, scale] = [-lo, 1 / (hi - lo)];
  }
  return Uint8Array.from(image, (v) => {
    const u = (v + offset) * scale;
    return Number.isFinite(u) ? Math.round(255 * Math.min(1, Math.max(0, u))) : 0;
  });
}

/** The grid as PNG bytes: grayscale for one channel, RGB for three. */
export function encodeGrid(grid: Omit<ImageGrid, "kind" | "file">): Uint8Array {
  const [c, h, w] = grid.shape;
  if (c !== 1 && c !== 3) throw new RangeError(`cannot draw images with ${c} channels`);
  const dim = c * h * w;
  if (grid.images.length !== grid.rows * grid.cols * dim) {
    throw new RangeError(
      `${grid.images.length} values are not ${grid.rows} × ${grid.cols} images of ${c}×${h}×${w}`,
    );
  }
  const width = grid.cols * w + (grid.cols - 1) * GAP;
  const height = grid.rows * h + (grid.rows - 1) * GAP;
  const data = new Uint8Array(width * height * c).fill(255);
  for (let r = 0; r < grid.rows; r++) {
    for (let k = 0; k < grid.cols; k++) {
      const n = r * grid.cols + k;
      const bytes = displayBytes(grid.images.subarray(n * dim, (n + 1) * dim), grid.display);
      const x0 = k * (w + GAP), y0 = r * (h + GAP);
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < w; x++) {
          // planar (all of channel 0, then 1, …) to interleaved
          for (let ch = 0; ch < c; ch++) {
            data[((y0 + y) * width + x0 + x) * c + ch] = bytes[ch * h * w + y * w + x];
          }
        }
      }
    }
  }
  return encode({ width, height, data, channels: c, depth: 8 });
}
