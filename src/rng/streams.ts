/**
 * Named, counter-based random streams. Every random draw in ganbench comes from
 * `rng.stream(name).at(step)`: the key is a hash of (root seed, name), the counter is
 * (block index, step). A resumed run at step t therefore draws exactly what an
 * uninterrupted run draws at step t, and adding a stream never shifts another one.
 */
import { createHash } from "node:crypto";
import { philox4x32, philox4x32Blocks } from "./philox.ts";

const TWO_POW_32 = 4294967296;
const TWO_POW_M24 = 1 / 16777216;
const TWO_POW_M53 = 1 / 9007199254740992;
/** Words per bulk draw (a multiple of 4: whole pairs for Draw.normal; 16 KB, in L1). */
const CHUNK = 4096;
/**
 * The words of the chunk a draw is turning into values, shared by every draw so that none
 * allocates its own: a draw runs to its end without yielding (a worker has its module's own).
 */
const scratch = new Uint32Array(CHUNK);

export class Rng {
  readonly #keys = new Map<string, [number, number]>();
  constructor(readonly seed: number) {
    if (!Number.isSafeInteger(seed) || seed < 0) {
      throw new RangeError(`seed must be a non-negative integer, got ${seed}`);
    }
  }

  stream(name: string): Stream {
    let key = this.#keys.get(name);
    if (!key) {
      const digest = createHash("sha256").update(`ganbench/v1/${this.seed}/${name}`).digest();
      key = [digest.readUInt32LE(0), digest.readUInt32LE(4)];
      this.#keys.set(name, key);
    }
    return new Stream(name, key[0], key[1]);
  }
}

export class Stream {
  constructor(readonly name: string, readonly k0: number, readonly k1: number) {}

  /** A cursor over the numbers of this stream at `step` (0 ≤ step < 2^53). */
  at(step: number): Draw {
    if (!Number.isSafeInteger(step) || step < 0) {
      throw new RangeError(`step must be a non-negative integer, got ${step}`);
    }
    return new Draw(this.k0, this.k1, step >>> 0, Math.floor(step / TWO_POW_32) >>> 0);
  }
}

/** Sequential reads from one (stream, step); successive calls continue where the last stopped. */
export class Draw {
  #block = 0;
  #buf = new Uint32Array(4);
  #pos = 4;

  constructor(
    private readonly k0: number,
    private readonly k1: number,
    private readonly stepLo: number,
    private readonly stepHi: number,
  ) {}

  nextUint32(): number {
    if (this.#pos === 4) {
      const b = this.#block++;
      philox4x32(
        b >>> 0,
        Math.floor(b / TWO_POW_32) >>> 0,
        this.stepLo,
        this.stepHi,
        this.k0,
        this.k1,
        this.#buf,
      );
      this.#pos = 0;
    }
    return this.#buf[this.#pos++];
  }

  /** The next n uint32 of the stream, in order: whole blocks go straight into the result. */
  uint32s(n: number): Uint32Array {
    const out = new Uint32Array(n);
    this.#fill(out, n);
    return out;
  }

  /** Writes the next n uint32 of the stream into out[0 … n − 1]. */
  #fill(out: Uint32Array, n: number): void {
    let i = 0;
    while (i < n && this.#pos < 4) out[i++] = this.#buf[this.#pos++];
    const whole = Math.floor((n - i) / 4);
    philox4x32Blocks(this.#block, whole, this.stepLo, this.stepHi, this.k0, this.k1, out, i);
    this.#block += whole;
    i += 4 * whole;
    while (i < n) out[i++] = this.nextUint32();
  }

  /** Uniform on [0, 1) with 24 bits, so the value is exact in float32. */
  nextFloat24(): number {
    return (this.nextUint32() >>> 8) * TWO_POW_M24;
  }

  /** Uniform on [0, 1) with 53 bits. */
  nextFloat53(): number {
    const a = this.nextUint32() >>> 5, b = this.nextUint32() >>> 6;
    return (a * 67108864 + b) * TWO_POW_M53;
  }

  /** n draws from U[low, high). */
  uniform(n: number, low = 0, high = 1): Float32Array {
    return this.uniformInto(new Float32Array(n), low, high);
  }

  /** Fills `out` with draws from U[low, high): the numbers uniform(out.length) gives. */
  uniformInto(out: Float32Array, low = 0, high = 1): Float32Array {
    const n = out.length, span = high - low;
    for (let start = 0; start < n; start += CHUNK) {
      const m = Math.min(CHUNK, n - start);
      this.#fill(scratch, m);
      for (let k = 0; k < m; k++) out[start + k] = low + span * ((scratch[k] >>> 8) * TWO_POW_M24);
    }
    return out;
  }

  /**
   * n draws from N(mean, std²) by the Box–Muller transform on 53-bit uniforms: per pair of
   * outputs, u1 = 1 − nextFloat53() then u2 = nextFloat53() (four words; an odd n draws the
   * last pair whole). The words come from the bulk generator, CHUNK at a time: the same words
   * in the same order as four nextUint32 calls per pair, so the same numbers.
   */
  normal(n: number, mean = 0, std = 1): Float32Array {
    return this.normalInto(new Float32Array(n), mean, std);
  }

  /** Fills `out` with draws from N(mean, std²): the numbers normal(out.length) gives. */
  normalInto(out: Float32Array, mean = 0, std = 1): Float32Array {
    const n = out.length;
    for (let start = 0; start < n; start += CHUNK / 2) {
      const end = Math.min(n, start + CHUNK / 2);
      const words = 2 * (end - start + ((end - start) & 1));
      this.#fill(scratch, words);
      for (let i = start, k = 0; i < end; i += 2, k += 4) {
        // (0, 1]: log stays finite
        const u1 = 1 - ((scratch[k] >>> 5) * 67108864 + (scratch[k + 1] >>> 6)) * TWO_POW_M53;
        const u2 = ((scratch[k + 2] >>> 5) * 67108864 + (scratch[k + 3] >>> 6)) * TWO_POW_M53;
        const r = Math.sqrt(-2 * Math.log(u1));
        out[i] = mean + std * r * Math.cos(2 * Math.PI * u2);
        if (i + 1 < n) out[i + 1] = mean + std * r * Math.sin(2 * Math.PI * u2);
      }
    }
    return out;
  }

  /** n independent Bernoulli(p) draws as 0 or `one` (e.g. dropout masks: 0 or 1/keep). */
  bernoulli(n: number, p: number, one = 1): Float32Array {
    return this.bernoulliInto(new Float32Array(n), p, one);
  }

  /** Fills `out` with Bernoulli(p) draws as 0 or `one`: the numbers bernoulli(out.length) gives. */
  bernoulliInto(out: Float32Array, p: number, one = 1): Float32Array {
    const n = out.length;
    for (let start = 0; start < n; start += CHUNK) {
      const m = Math.min(CHUNK, n - start);
      this.#fill(scratch, m);
      // arithmetic, not a branch: the outcome is random, so a branch mispredicts (6× slower)
      for (let k = 0; k < m; k++) out[start + k] = one * +((scratch[k] >>> 8) * TWO_POW_M24 < p);
    }
    return out;
  }

  /** A uniform random permutation of 0..n-1 (Fisher–Yates with unbiased bounded ints). */
  permutation(n: number): Int32Array {
    const out = new Int32Array(n);
    for (let i = 0; i < n; i++) out[i] = i;
    for (let i = n - 1; i > 0; i--) {
      const j = this.nextBelow(i + 1);
      const t = out[i];
      out[i] = out[j];
      out[j] = t;
    }
    return out;
  }

  /** Uniform integer in [0, bound) by rejection, so there is no modulo bias. */
  nextBelow(bound: number): number {
    if (!(bound >= 1 && bound <= TWO_POW_32)) throw new RangeError(`bad bound ${bound}`);
    const limit = TWO_POW_32 - (TWO_POW_32 % bound);
    for (;;) {
      const u = this.nextUint32();
      if (u < limit) return u % bound;
    }
  }
}
