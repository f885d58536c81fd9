/**
 * A reader for the MATLAB Level 5 MAT-file elements that data sets such as TFD use:
 * numeric and char arrays, optionally zlib-compressed (miCOMPRESSED). No npm MAT reader is
 * both maintained and complete enough, so this small one is tested against files written
 * by scipy.io.savemat and by our own writer. Values keep MATLAB's column-major order.
 */
import { inflateSync } from "node:zlib";
import { DataError, MAX_DATA_FILE_BYTES } from "../errors.ts";

export type MatClass =
  | "double"
  | "single"
  | "int8"
  | "uint8"
  | "int16"
  | "uint16"
  | "int32"
  | "uint32"
  | "int64"
  | "uint64"
  | "char";

export interface MatArray {
  name: string;
  class: MatClass;
  /** MATLAB dimensions, e.g. [N, 48, 48]. */
  dims: number[];
  /** Values in column-major order, as stored (MATLAB may store a class in a smaller type). */
  values: MatValues;
}

/** Bytes stay bytes (TFD's 235 MB of pixels); wider types become float64. */
export type MatValues = Uint8Array | Int8Array | Float64Array;

const CLASS_CODES: Record<number, MatClass> = {
  4: "char",
  6: "double",
  7: "single",
  8: "int8",
  9: "uint8",
  10: "int16",
  11: "uint16",
  12: "int32",
  13: "uint32",
  14: "int64",
  15: "uint64",
};
const UNSUPPORTED_CLASSES: Record<number, string> = {
  1: "cell array",
  2: "struct",
  3: "object",
  5: "sparse array",
};

/** mi* storage types: [bytes per value, reader]. */
type Reader = (v: DataView, at: number, le: boolean) => number;
const TYPES: Record<number, [number, Reader, string]> = {
  1: [1, (v, a) => v.getInt8(a), "miINT8"],
  2: [1, (v, a) => v.getUint8(a), "miUINT8"],
  3: [2, (v, a, le) => v.getInt16(a, le), "miINT16"],
  4: [2, (v, a, le) => v.getUint16(a, le), "miUINT16"],
  5: [4, (v, a, le) => v.getInt32(a, le), "miINT32"],
  6: [4, (v, a, le) => v.getUint32(a, le), "miUINT32"],
  7: [4, (v, a, le) => v.getFloat32(a, le), "miSINGLE"],
  9: [8, (v, a, le) => v.getFloat64(a, le), "miDOUBLE"],
  12: [8, (v, a, le) => Number(v.getBigInt64(a, le)), "miINT64"],
  13: [8, (v, a, le) => Number(v.getBigUint64(a, le)), "miUINT64"],
  16: [1, (v, a) => v.getUint8(a), "miUTF8"],
};
export const MI_MATRIX = 14;
export const MI_COMPRESSED = 15;

export function readMat5(bytes: Uint8Array, file: string): Map<string, MatArray> {
  if (bytes.length < 128) {
    throw new DataError(
      file,
      "a MAT-file header of 128 bytes",
      `${bytes.length} bytes (truncated)`,
    );
  }
  const text = new TextDecoder("latin1").decode(bytes.subarray(0, 116));
  if (text.startsWith("MATLAB 7.3")) {
    throw new DataError(
      file,
      "a MATLAB Level 5 MAT-file",
      "a v7.3 (HDF5) MAT-file",
      "re-save it in MATLAB with save(..., '-v7') or in Python with scipy.io.savemat",
    );
  }
  const endian = String.fromCharCode(bytes[126], bytes[127]);
  if (!text.startsWith("MATLAB 5.0 MAT-file") || (endian !== "IM" && endian !== "MI")) {
    throw new DataError(
      file,
      "a MATLAB Level 5 MAT-file (header text 'MATLAB 5.0 MAT-file', endian mark IM or MI)",
      `header ${JSON.stringify(text.slice(0, 24))}, endian mark ${JSON.stringify(endian)}`,
    );
  }
  const le = endian === "IM";
  const out = new Map<string, MatArray>();
  parseElements(bytes, 128, bytes.length, le, file, out);
  return out;
}

function parseElements(
  bytes: Uint8Array,
  start: number,
  end: number,
  le: boolean,
  file: string,
  out: Map<string, MatArray>,
): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = start;
  while (at < end) {
    const tag = readTag(view, at, end, le, file);
    if (tag.type === MI_COMPRESSED) {
      let inner: Uint8Array;
      try {
        inner = new Uint8Array(
          inflateSync(bytes.subarray(tag.dataAt, tag.dataAt + tag.nbytes), {
            maxOutputLength: MAX_DATA_FILE_BYTES,
          }),
        );
      } catch (e) {
        throw new DataError(
          file,
          "a zlib stream in a compressed element",
          `a corrupt one at byte ${at} (${(e as Error).message})`,
        );
      }
      parseElements(inner, 0, inner.length, le, `${file} (compressed element at byte ${at})`, out);
      at = tag.dataAt + tag.nbytes; // compressed elements carry no padding
    } else {
      if (tag.type === MI_MATRIX) {
        const array = parseMatrix(bytes, view, tag.dataAt, tag.dataAt + tag.nbytes, le, file);
        if (array) out.set(array.name, array);
      }
      at = tag.next;
    }
  }
}

interface Tag {
  type: number;
  nbytes: number;
  dataAt: number;
  next: number;
}

function readTag(view: DataView, at: number, end: number, le: boolean, file: string): Tag {
  if (at + 8 > end) {
    throw new DataError(
      file,
      `an 8-byte element tag at byte ${at}`,
      `${end - at} bytes (truncated)`,
    );
  }
  const first = view.getUint32(at, le);
  const small = first >>> 16;
  if (small !== 0) {
    // small data element: type and size in one word, up to 4 bytes of data in the next
    return { type: first & 0xffff, nbytes: small, dataAt: at + 4, next: at + 8 };
  }
  const nbytes = view.getUint32(at + 4, le);
  const dataAt = at + 8;
  if (dataAt + nbytes > end) {
    throw new DataError(
      file,
      `${nbytes} bytes of element data at byte ${dataAt}`,
      `${end - dataAt} bytes (truncated)`,
    );
  }
  return { type: first, nbytes, dataAt, next: dataAt + Math.ceil(nbytes / 8) * 8 };
}

function readNumeric(view: DataView, tag: Tag, le: boolean, file: string): MatValues {
  const spec = TYPES[tag.type];
  if (!spec) {
    throw new DataError(
      file,
      "a numeric element type",
      `type code ${tag.type} at byte ${tag.dataAt - 8}`,
    );
  }
  const [size, read] = spec;
  if (tag.nbytes % size !== 0) {
    throw new DataError(file, `a multiple of ${size} bytes for ${spec[2]}`, `${tag.nbytes} bytes`);
  }
  const n = tag.nbytes / size;
  if (size === 1) {
    const src = new Uint8Array(view.buffer, view.byteOffset + tag.dataAt, n);
    return tag.type === 1 ? new Int8Array(src.slice().buffer) : src.slice();
  }
  const values = new Float64Array(n);
  for (let i = 0; i < n; i++) values[i] = read(view, tag.dataAt + i * size, le);
  return values;
}

function parseMatrix(
  bytes: Uint8Array,
  view: DataView,
  start: number,
  end: number,
  le: boolean,
  file: string,
): MatArray | null {
  if (end === start) return null; // an empty matrix element
  const flagsTag = readTag(view, start, end, le, file);
  const flags = view.getUint32(flagsTag.dataAt, le);
  const classCode = flags & 0xff;
  const complex = (flags & 0x0800) !== 0;
  const dimsTag = readTag(view, flagsTag.next, end, le, file);
  const dims = Array.from(readNumeric(view, dimsTag, le, file));
  const nameTag = readTag(view, dimsTag.next, end, le, file);
  const name = new TextDecoder().decode(
    bytes.subarray(nameTag.dataAt, nameTag.dataAt + nameTag.nbytes),
  );
  const cls = CLASS_CODES[classCode];
  if (!cls) {
    throw new DataError(
      file,
      "numeric or char arrays",
      `variable "${name}" is a ${UNSUPPORTED_CLASSES[classCode] ?? `class ${classCode}`}`,
    );
  }
  if (complex) throw new DataError(file, "real-valued arrays", `variable "${name}" is complex`);
  const realTag = readTag(view, nameTag.next, end, le, file);
  const values = readNumeric(view, realTag, le, file);
  const count = dims.reduce((a, b) => a * b, 1);
  if (values.length !== count) {
    throw new DataError(
      file,
      `${count} values for "${name}" (${dims.join("×")})`,
      `${values.length}`,
    );
  }
  return { name, class: cls, dims, values };
}

/** Element [i0, i1, ...] of a column-major array. */
export function columnMajorIndex(dims: number[], index: number[]): number {
  let offset = 0, stride = 1;
  for (let k = 0; k < dims.length; k++) {
    offset += index[k] * stride;
    stride *= dims[k];
  }
  return offset;
}
