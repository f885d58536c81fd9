/**
 * The file codec of saved tensors (training checkpoints, the cached evaluation classifier):
 * uint32 little-endian header length, the JSON header (its `format` and `tensors` layout),
 * the float32 values of every tensor in header order, then, for formats that have one, the
 * SHA-256 of everything before it, checked on every read: a flipped bit anywhere is refused.
 */
import { createHash } from "node:crypto";
import type { TensorEntry } from "./tensor-layout.ts";

const DIGEST_BYTES = 32;

/** What every tensor file's header holds. */
export interface TensorFileHeader {
  format: number;
  tensors: TensorEntry[];
}

/** The file's bytes, always with a digest. */
export function encodeTensorFile(header: TensorFileHeader, values: Float32Array): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const bodyEnd = 4 + json.length + values.byteLength;
  const out = new Uint8Array(bodyEnd + DIGEST_BYTES);
  new DataView(out.buffer).setUint32(0, json.length, true);
  out.set(json, 4);
  out.set(new Uint8Array(values.buffer, values.byteOffset, values.byteLength), 4 + json.length);
  out.set(digest(out.subarray(0, bodyEnd)), bodyEnd);
  return out;
}

/**
 * The bytes of `encodeTensorFile`, as parts to write one after another: the values are a view
 * of `values`, not a copy (a large state is not held twice while it is written).
 */
export function tensorFileParts(header: TensorFileHeader, values: Float32Array): Uint8Array[] {
  const head = headOf(header);
  const body = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  const sum = createHash("sha256").update(head).update(body).digest();
  return [head, body, new Uint8Array(sum)];
}

/**
 * Writes a tensor file whose values are never held together: the bytes of `encodeTensorFile`
 * handed to `write` in order (the header, whatever `writeValues` gives, in header order, then
 * the digest, computed as they pass). `write` must be done with its bytes when it returns:
 * they may be views that move on. Values that do not add up to the header's layout are
 * refused before the digest, so the file is never complete.
 */
export async function streamTensorFile(
  header: TensorFileHeader,
  writeValues: (write: (bytes: Uint8Array) => void) => Promise<void>,
  write: (bytes: Uint8Array) => void,
): Promise<void> {
  const head = headOf(header);
  const sum = createHash("sha256").update(head);
  write(head);
  let streamed = 0;
  await writeValues((bytes) => {
    sum.update(bytes);
    streamed += bytes.length;
    write(bytes);
  });
  const expected = header.tensors.reduce((n, t) => n + t.length, 0) * 4;
  if (streamed !== expected) {
    throw new Error(
      `tensor file: ${streamed} bytes of values streamed, the header lays out ${expected}`,
    );
  }
  write(new Uint8Array(sum.digest()));
}

/** The length word and the JSON header: everything before the values. */
function headOf(header: TensorFileHeader): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const head = new Uint8Array(4 + json.length);
  new DataView(head.buffer).setUint32(0, json.length, true);
  head.set(json, 4);
  return head;
}

function digest(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(createHash("sha256").update(bytes).digest());
}

/**
 * Reads a tensor file whose header format is one of `formats` (each: whether it ends in a
 * digest). `fail` turns what is wrong into the caller's error.
 */
export function decodeTensorFile<H extends TensorFileHeader>(
  bytes: Uint8Array,
  formats: Record<number, { digest: boolean }>,
  fail: (what: string) => Error,
): { header: H; values: Float32Array } {
  if (bytes.length < 4) throw fail(`${bytes.length} bytes: too short`);
  const headerLength = new DataView(bytes.buffer, bytes.byteOffset).getUint32(0, true);
  if (4 + headerLength > bytes.length) throw fail("truncated header");
  let header: H;
  try {
    header = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(
      bytes.subarray(4, 4 + headerLength),
    ));
  } catch {
    throw fail("unreadable header");
  }
  const format = Object.hasOwn(formats, String(header?.format)) ? formats[header.format] : null;
  if (!format) {
    const known = Object.keys(formats).join(" and ");
    throw fail(`format ${JSON.stringify(header?.format)}; this version reads ${known}`);
  }
  if (!Array.isArray(header.tensors)) throw fail("header lists no tensors");
  const bodyStart = 4 + headerLength;
  const trailer = format.digest ? DIGEST_BYTES : 0;
  const expected = header.tensors.reduce((n, t) => n + t.length, 0) * 4;
  if (bytes.length - bodyStart - trailer !== expected) {
    throw fail(
      `${bytes.length - bodyStart - trailer} bytes of values, expected ${expected} (truncated?)`,
    );
  }
  if (trailer) {
    const stored = bytes.subarray(bytes.length - DIGEST_BYTES);
    const actual = digest(bytes.subarray(0, bytes.length - DIGEST_BYTES));
    if (!stored.every((b, i) => b === actual[i])) {
      throw fail("its SHA-256 does not match its contents: the file was altered or damaged");
    }
  }
  const body = bytes.slice(bodyStart, bodyStart + expected);
  return { header, values: new Float32Array(body.buffer) };
}
