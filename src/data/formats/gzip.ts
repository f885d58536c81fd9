/** Transparent gunzip: files that start with the gzip magic are inflated, others pass through. */
import { gunzipSync } from "node:zlib";
import { DataError } from "../errors.ts";

export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

export function maybeGunzip(bytes: Uint8Array, file: string): Uint8Array {
  if (!isGzip(bytes)) return bytes;
  try {
    return new Uint8Array(gunzipSync(bytes));
  } catch (e) {
    throw new DataError(file, "a complete gzip stream", `a corrupt one (${(e as Error).message})`);
  }
}
