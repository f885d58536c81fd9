/**
 * Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC'11):
 * a counter-based generator, so any draw can be recomputed from (key, counter) alone.
 * That is what makes resumed runs and per-step streams reproducible.
 */

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

/**
 * `count` consecutive Philox4x32-10 blocks with counters (block, blockHi, c2, c3) for
 * block = first … first + count − 1, written to `out` from `offset`: the bulk path of
 * Draw.uint32s. The same arithmetic as philox4x32 with the key schedule computed once
 * and the multiplications inlined; test/rng_test.ts checks it block for block.
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
  const ks0 = new Array<number>(10), ks1 = new Array<number>(10);
  for (let r = 0; r < 10; r++) {
    ks0[r] = k0;
    ks1[r] = k1;
    k0 = (k0 + W0) >>> 0;
    k1 = (k1 + W1) >>> 0;
  }
  const M0H = M0 >>> 16, M0L = M0 & 0xffff, M1H = M1 >>> 16, M1L = M1 & 0xffff;
  for (let i = 0; i < count; i++) {
    const b = first + i;
    let x0 = b >>> 0, x1 = Math.floor(b / 4294967296) >>> 0, x2 = c2, x3 = c3;
    for (let r = 0; r < 10; r++) {
      // high words of M0·x0 and M1·x2, exactly, as in mulHi
      const l0 = x0 & 0xffff, h0 = x0 >>> 16, l2 = x2 & 0xffff, h2 = x2 >>> 16;
      const a0 = M0L * h0, b0 = M0H * l0, a1 = M1L * h2, b1 = M1H * l2;
      const hi0 = (M0H * h0 + Math.floor(a0 / 65536) + Math.floor(b0 / 65536) +
        Math.floor((((M0L * l0) >>> 16) + (a0 & 0xffff) + (b0 & 0xffff)) / 65536)) >>> 0;
      const hi1 = (M1H * h2 + Math.floor(a1 / 65536) + Math.floor(b1 / 65536) +
        Math.floor((((M1L * l2) >>> 16) + (a1 & 0xffff) + (b1 & 0xffff)) / 65536)) >>> 0;
      const lo0 = Math.imul(M0, x0) >>> 0, lo1 = Math.imul(M1, x2) >>> 0;
      x0 = (hi1 ^ x1 ^ ks0[r]) >>> 0;
      x1 = lo1;
      x2 = (hi0 ^ x3 ^ ks1[r]) >>> 0;
      x3 = lo0;
    }
    const o = offset + 4 * i;
    out[o] = x0;
    out[o + 1] = x1;
    out[o + 2] = x2;
    out[o + 3] = x3;
  }
}
