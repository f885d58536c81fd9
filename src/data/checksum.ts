/** Content addressing: SHA-256 of bytes read, recorded with every dataset. */
import { createHash } from "node:crypto";
import { DataError } from "./errors.ts";

export interface FileRecord {
  path: string;
  bytes: number;
  sha256: string;
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** Hashes `bytes` and, when `expected` is given, refuses a mismatch. */
export function verify(path: string, bytes: Uint8Array, expected?: string): FileRecord {
  const sha256 = sha256Hex(bytes);
  if (expected && expected !== sha256) {
    throw new DataError(
      path,
      `SHA-256 ${expected}`,
      `${sha256} (${bytes.length} bytes): the file is corrupt or not the published one`,
      "delete it and fetch it again",
    );
  }
  return { path, bytes: bytes.length, sha256 };
}

/** One hash for a set of files (order-sensitive), for status lines and result.json. */
export function combinedHash(files: FileRecord[]): string {
  return createHash("sha256").update(files.map((f) => f.sha256).join("\n")).digest("hex");
}
