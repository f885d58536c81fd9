/**
 * A KernelArena: one WebAssembly memory holding a training step's scratch arrays (carved once,
 * at the sizes given, so no view is ever detached by growth), with the elementwise kernels of
 * arena-kernels.wat over it, four floats per instruction. The fused MLP step keeps its
 * activations, deltas and dropout masks in one; each kernel computes exactly what the JavaScript
 * loop it stands in for computes, and that loop stays for arrays outside any arena
 * (test/arena_kernels_test.ts holds the two equal, bit for bit).
 */
import { ARENA_KERNELS_WASM_BASE64 } from "./arena-kernels-wasm.ts";

interface Exports {
  multiply(n: number, dst: number, src: number, mask: number): void;
  relu(n: number, x: number): void;
  reluBackward(n: number, delta: number, outDelta: number, out: number): void;
}

const PAGE = 65536;
/** Every array starts on a 16-byte boundary (one SIMD vector). */
const ALIGN = 16;
let compiled: WebAssembly.Module | null = null;
/** The arena each memory belongs to, by its buffer. */
const arenas = new WeakMap<ArrayBufferLike, KernelArena>();

/** Bytes that arrays of these element counts (4 bytes each) take in an arena, each aligned. */
export function arenaBytes(sizes: number[]): number {
  return sizes.reduce((sum, n) => sum + Math.ceil((4 * n) / ALIGN) * ALIGN, 0);
}

export class KernelArena {
  readonly #memory: WebAssembly.Memory;
  readonly #kernels: Exports;
  readonly #capacity: number;
  #used = 0;
  #masks: Float32Array;

  /**
   * Room for arrays of the given element counts (4 bytes each, float32 or int32), plus a
   * scratch of `maskFloats` for masks that arrive from outside.
   */
  constructor(sizes: number[], maskFloats = 0) {
    const bytes = arenaBytes([...sizes, maskFloats]);
    this.#capacity = bytes;
    this.#memory = new WebAssembly.Memory({ initial: Math.max(1, Math.ceil(bytes / PAGE)) });
    compiled ??= new WebAssembly.Module(
      Uint8Array.from(atob(ARENA_KERNELS_WASM_BASE64), (c) => c.charCodeAt(0)),
    );
    const instance = new WebAssembly.Instance(compiled, { env: { memory: this.#memory } });
    this.#kernels = instance.exports as unknown as Exports;
    this.#masks = this.f32(maskFloats);
    arenas.set(this.#memory.buffer, this);
  }

  /** The arena holding `a`, or null. */
  static of(a: Float32Array | Int32Array): KernelArena | null {
    return arenas.get(a.buffer) ?? null;
  }

  f32(n: number): Float32Array {
    return new Float32Array(this.#memory.buffer, this.#take(n), n);
  }

  i32(n: number): Int32Array {
    return new Int32Array(this.#memory.buffer, this.#take(n), n);
  }

  #take(n: number): number {
    const at = this.#used, bytes = Math.ceil((4 * n) / ALIGN) * ALIGN;
    if (at + bytes > this.#capacity) {
      throw new RangeError(`the arena has no room for ${n} more values`);
    }
    this.#used += bytes;
    return at;
  }

  #holds(...arrays: (Float32Array | Int32Array)[]): boolean {
    return arrays.every((a) => a.buffer === this.#memory.buffer);
  }

  /** An address in the arena for `a`'s first n values: a itself, or a copy in the mask scratch. */
  #inside(a: Float32Array, n: number): number | null {
    if (this.#holds(a)) return a.byteOffset;
    if (n > this.#masks.length) return null;
    this.#masks.set(a.subarray(0, n));
    return this.#masks.byteOffset;
  }

  /** dst[at + k] = src[at + k] · mask[k], k < n; false where dst or src is not in the arena. */
  multiplyInto(dst: Float32Array, at: number, src: Float32Array, mask: Float32Array, n: number) {
    if (!this.#holds(dst, src) || at + n > dst.length || at + n > src.length) return false;
    const m = this.#inside(mask, n);
    if (m === null) return false;
    this.#kernels.multiply(n, dst.byteOffset + 4 * at, src.byteOffset + 4 * at, m);
    return true;
  }

  /** x[k] = (x[k] + |x[k]|) / 2, k < n. */
  relu(x: Float32Array, n: number): boolean {
    if (!this.#holds(x) || n > x.length) return false;
    this.#kernels.relu(n, x.byteOffset);
    return true;
  }

  /** delta[d0 + k] = outDelta[d0 + k] · (out[f0 + k] > 0), k < n. */
  reluBackward(
    delta: Float32Array,
    outDelta: Float32Array,
    out: Float32Array,
    d0: number,
    f0: number,
    n: number,
  ): boolean {
    if (!this.#holds(delta, outDelta, out)) return false;
    if (d0 + n > delta.length || d0 + n > outDelta.length || f0 + n > out.length) return false;
    this.#kernels.reluBackward(
      n,
      delta.byteOffset + 4 * d0,
      outDelta.byteOffset + 4 * d0,
      out.byteOffset + 4 * f0,
    );
    return true;
  }
}
