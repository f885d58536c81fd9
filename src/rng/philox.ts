/**
 * Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC'11):
 * a counter-based generator, so any draw can be recomputed from (key, counter) alone.
 * That is what makes resumed runs and per-step streams reproducible.
 */
import { PHILOX_WASM_BASE64 } from "./philox-wasm.ts";

const M0 = 0xd2511f53;
const M1 = 0xcd9e8d57;
const W0 = 0x9e3779b9;
const W1 = 0xbb67ae85;

/** High 32 bits of the 64-bit product of two uint32 (exact: every partial fits in 2^53). */
function mulHi(a: number, b: number): number {
  const aH = a >>> 16, aL = a & 0xffff, bH = b >>> 16, bL = b & 0xffff;
  const ll = aL * bL, lh = aL * bH, hl = aH * bL, hh = aH * bH;
  const mid = (ll >>> 16) + (lh & 0xffff) + (hl & 0xffff);
  return (hh + Math.floor(lh / 65536) + Math.floor(hl / 65536) + Math.floor(mid / 65536)) >>> 0;
}

/** One Philox4x32-10 block: writes 4 uint32 into `out` at `offset`. */
export function philox4x32(
  c0: number,
  c1: number,
  c2: number,
  c3: number,
  k0: number,
  k1: number,
  out: Uint32Array,
  offset = 0,
): void {
  for (let round = 0; round < 10; round++) {
    if (round > 0) {
      k0 = (k0 + W0) >>> 0;
      k1 = (k1 + W1) >>> 0;
    }
    const hi0 = mulHi(M0, c0), lo0 = Math.imul(M0, c0) >>> 0;
    const hi1 = mulHi(M1, c2), lo1 = Math.imul(M1, c2) >>> 0;
    const n0 = (hi1 ^ c1 ^ k0) >>> 0;
    const n2 = (hi0 ^ c3 ^ k1) >>> 0;
    c0 = n0;
    c1 = lo1;
    c2 = n2;
    c3 = lo0;
  }
  out[offset] = c0;
  out[offset + 1] = c1;
  out[offset + 2] = c2;
  out[offset + 3] = c3;
}

/** The bulk generator's wasm instance (src/rng/philox.wat), made on first use. */
let bulk: { blocks: (...args: number[]) => void; words: Uint32Array } | null = null;
/** Blocks per call: the module's 256 KiB of memory. */
const CHUNK_BLOCKS = 16384;

function bulkKernel(): NonNullable<typeof bulk> {
  if (!bulk) {
    const bytes = Uint8Array.from(atob(PHILOX_WASM_BASE64), (c) => c.charCodeAt(0));
    const { exports } = new WebAssembly.Instance(new WebAssembly.Module(bytes));
    const memory = exports.memory as WebAssembly.Memory;
    bulk = {
      blocks: exports.blocks as (...args: number[]) => void,
      words: new Uint32Array(memory.buffer, 0, 4 * CHUNK_BLOCKS),
    };
  }
  return bulk;
}

/**
 * `count` consecutive Philox4x32-10 blocks with counters (block, blockHi, c2, c3) for
 * block = first … first + count − 1, written to `out` from `offset`: the bulk path of
 * Draw.uint32s. The same arithmetic as philox4x32 in wasm, where a 32 × 32 → 64-bit product is
 * one instruction (src/rng/philox.wat); test/rng_test.ts checks it block for block.
 */
export function philox4x32Blocks(
  first: number,
  count: number,
  c2: number,
  c3: number,
  k0: number,
  k1: number,
  out: Uint32Array,
  offset: number,
): void {
  const { blocks, words } = bulkKernel();
  for (let done = 0; done < count; done += CHUNK_BLOCKS) {
    const n = Math.min(CHUNK_BLOCKS, count - done), b = first + done;
    blocks(b >>> 0, Math.floor(b / 4294967296) >>> 0, n, c2, c3, k0, k1);
    out.set(words.subarray(0, 4 * n), offset + 4 * done);
  }
}
