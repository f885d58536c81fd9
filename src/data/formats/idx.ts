/**
 * The IDX format of MNIST and Fashion-MNIST: a big-endian header (two zero bytes, a type
 * code, the number of dimensions, then each dimension as uint32), then the values.
 */
import { DataError } from "../errors.ts";

export const IDX_IMAGES_MAGIC = 2051; // 0x00000803: ubyte, 3 dimensions
export const IDX_LABELS_MAGIC = 2049; // 0x00000801: ubyte, 1 dimension

export interface IdxArray {
  magic: number;
  dims: number[];
  data: Uint8Array;
}

export function parseIdx(bytes: Uint8Array, file: string, expectedMagic: number): IdxArray {
  if (bytes.length < 4) {
    throw new DataError(
      file,
      "an IDX header (at least 4 bytes)",
      `${bytes.length} bytes (truncated)`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0);
  if (magic !== expectedMagic) {
    throw new DataError(
      file,
      `IDX magic number ${expectedMagic} (0x${expectedMagic.toString(16).padStart(8, "0")})`,
      `${magic} (0x${magic.toString(16).padStart(8, "0")}): not an IDX ${
        expectedMagic === IDX_IMAGES_MAGIC ? "image" : "label"
      } file`,
    );
  }
  const ndims = magic & 0xff;
  const headerBytes = 4 + 4 * ndims;
  if (bytes.length < headerBytes) {
    throw new DataError(
      file,
      `a ${headerBytes}-byte IDX header`,
      `${bytes.length} bytes (truncated)`,
    );
  }
  const dims = Array.from({ length: ndims }, (_, i) => view.getUint32(4 + 4 * i));
  const expectedBytes = headerBytes + dims.reduce((a, b) => a * b, 1);
  if (bytes.length !== expectedBytes) {
    throw new DataError(
      file,
      `${expectedBytes} bytes for dimensions ${dims.join("×")}`,
      `${bytes.length} bytes (${bytes.length < expectedBytes ? "truncated" : "trailing data"})`,
    );
  }
  return { magic, dims, data: bytes.subarray(headerBytes) };
}

/** The inverse, for fixtures and caches. */
export function encodeIdx(magic: number, dims: number[], data: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + 4 * dims.length + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, magic);
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d));
  out.set(data, 4 + 4 * dims.length);
  return out;
}
