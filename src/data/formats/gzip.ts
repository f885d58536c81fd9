/** Transparent gunzip: files that start with the gzip magic are inflated, others pass through. */
import { gunzipSync } from "node:zlib";
import { DataError } from "../errors.ts";

export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/** Inflates at most `maxBytes` (what the format allows): a bigger stream is refused. */
export function maybeGunzip(bytes: Uint8Array, file: string, maxBytes?: number): Uint8Array {
  if (!isGzip(bytes)) return bytes;
  try {
    return new Uint8Array(gunzipSync(bytes, maxBytes ? { maxOutputLength: maxBytes } : {}));
  } catch (e) {
    if ((e as { code?: string }).code === "ERR_BUFFER_TOO_LARGE") {
      throw new DataError(
        file,
        `at most ${maxBytes} bytes once inflated (the largest this file can be)`,
        "more: it was not inflated further",
      );
    }
    throw new DataError(file, "a complete gzip stream", `a corrupt one (${(e as Error).message})`);
  }
}
