/**
 * The kernels of heap-kernels.wat, run on the wasm backend's own memory: the module imports
 * TF.js's WebAssembly.Memory, so arrays on the heap (tensors, and HeapArray scratch) are
 * read and written in place by address. Each kernel computes exactly what the JavaScript loop
 * beside its caller computes; that loop stays for arrays elsewhere (another backend, a plain
 * Float32Array), and test/heap_kernels_test.ts holds the two equal.
 */
import { tf } from "./tf.ts";
import { HEAP_KERNELS_WASM_BASE64 } from "./heap-kernels-wasm.ts";

interface Exports {
  adam(
    n: number,
    p: number,
    g: number,
    m: number,
    v: number,
    p1: number,
    m1: number,
    v1: number,
    b1: number,
    a1: number,
    b2: number,
    a2: number,
    c2: number,
    step: number,
    eps: number,
  ): void;
  momentum(n: number, v: number, g: number, inc: number, mu: number, lr: number): void;
  im2col(from: number, to: number, r0: number, r1: number, ...geometry: number[]): void;
  col2imAdd(from: number, to: number, r0: number, r1: number, ...geometry: number[]): void;
  sumLeading(n: number, c: number, x: number, out: number): void;
  blockMaxForward(
    x: number,
    out: number,
    B: number,
    Hp: number,
    Wp: number,
    C: number,
    s: number,
    H: number,
    W: number,
  ): void;
  blockMaxBackward(
    dy: number,
    x: number,
    max: number,
    dx: number,
    B: number,
    Hp: number,
    Wp: number,
    C: number,
    s: number,
    H: number,
    W: number,
  ): void;
  neighbourhoodMaxForward(
    x: number,
    out: number,
    B: number,
    H: number,
    W: number,
    C: number,
    k: number,
  ): void;
  neighbourhoodMaxBackward(
    dy: number,
    x: number,
    dx: number,
    got: number,
    chain: number,
    B: number,
    H: number,
    W: number,
    C: number,
    k: number,
  ): void;
  maxout2Forward(n: number, z: number, value: number, winner: number): void;
  maxout2Backward(n: number, dy: number, winner: number, dz: number): void;
  addTo(n: number, dst: number, src: number): void;
}

interface EmscriptenModule {
  asm?: { memory?: WebAssembly.Memory };
  _malloc?: (bytes: number) => number;
  _free?: (address: number) => void;
}

const moduleBytes = Uint8Array.from(atob(HEAP_KERNELS_WASM_BASE64), (c) => c.charCodeAt(0));
let compiled: WebAssembly.Module | null = null;
let bound: { memory: WebAssembly.Memory; exports: Exports } | null = null;

/** The active backend's emscripten module, when it is the wasm backend. */
function wasmModule(): EmscriptenModule | null {
  if (tf.getBackend() !== "wasm") return null;
  return (tf.backend() as unknown as { wasm?: EmscriptenModule }).wasm ?? null;
}

/** The kernels bound to the wasm backend's memory, or null off that backend. */
function kernels(): { memory: WebAssembly.Memory; exports: Exports } | null {
  const memory = wasmModule()?.asm?.memory;
  if (!(memory instanceof WebAssembly.Memory)) return null;
  if (bound?.memory !== memory) {
    compiled ??= new WebAssembly.Module(moduleBytes);
    const instance = new WebAssembly.Instance(compiled, { env: { memory } });
    bound = { memory, exports: instance.exports as unknown as Exports };
  }
  return bound;
}

/** Byte addresses of the arrays on the heap, or null when any lies elsewhere. */
function addresses(memory: WebAssembly.Memory, arrays: Float32Array[]): number[] | null {
  const buffer = memory.buffer;
  return arrays.every((a) => a.buffer === buffer) ? arrays.map((a) => a.byteOffset) : null;
}

/** Adam's constants in float32, as adamUpdateArrays rounds them. */
export interface AdamFloat32 {
  b1: number;
  a1: number;
  b2: number;
  a2: number;
  c2: number;
  step: number;
  eps: number;
}

/**
 * adamUpdateArrays' update of n values by the heap kernel, when all seven arrays are on the
 * wasm backend's heap; false (nothing done) otherwise.
 */
export function adamOnHeap(
  n: number,
  from: { P: Float32Array; G: Float32Array; M: Float32Array; V: Float32Array },
  to: { P: Float32Array; M: Float32Array; V: Float32Array },
  c: AdamFloat32,
): boolean {
  const k = kernels();
  const at = k && addresses(k.memory, [from.P, from.G, from.M, from.V, to.P, to.M, to.V]);
  if (!at) return false;
  for (const a of [from.P, from.G, from.M, from.V, to.P, to.M, to.V]) {
    if (a.length < n) throw new RangeError(`Adam over ${n} values: an array holds ${a.length}`);
  }
  k.exports.adam(
    n,
    ...at as [number, number, number, number, number, number, number],
    c.b1,
    c.a1,
    c.b2,
    c.a2,
    c.c2,
    c.step,
    c.eps,
  );
  return true;
}

/**
 * momentumIncrementArrays' increment of n values (inc ← v·mu − g·lr, mu and lr already
 * float32) by the heap kernel, when the three arrays are on the wasm backend's heap; false
 * (nothing done) otherwise.
 */
export function momentumOnHeap(
  n: number,
  from: { V: Float32Array; G: Float32Array },
  inc: Float32Array,
  mu: number,
  lr: number,
): boolean {
  const k = kernels();
  const at = k && addresses(k.memory, [from.V, from.G, inc]);
  if (!at) return false;
  for (const a of [from.V, from.G, inc]) {
    if (a.length < n) {
      throw new RangeError(`a momentum increment over ${n} values: an array holds ${a.length}`);
    }
  }
  k.exports.momentum(n, at[0], at[1], at[2], mu, lr);
  return true;
}

/** A convolution's shape, in the order the heap kernels take it (src/backend/conv-blas.ts). */
export interface WindowGeometry {
  inHeight: number;
  inWidth: number;
  inChannels: number;
  outHeight: number;
  outWidth: number;
  filterHeight: number;
  filterWidth: number;
  strideHeight: number;
  strideWidth: number;
  padTop: number;
  padLeft: number;
}

const geometryArgs = (g: WindowGeometry) => [
  g.inHeight,
  g.inWidth,
  g.inChannels,
  g.outHeight,
  g.outWidth,
  g.filterHeight,
  g.filterWidth,
  g.strideHeight,
  g.strideWidth,
  g.padTop,
  g.padLeft,
];

/** Checks that rows [r0, r1) fit `cols` and that their images fit the NHWC array `image`. */
function checkWindows(
  kernel: string,
  g: WindowGeometry,
  r0: number,
  r1: number,
  cols: Float32Array,
  image: Float32Array,
): void {
  const rowEntries = g.filterHeight * g.filterWidth * g.inChannels;
  const images = Math.ceil(r1 / (g.outHeight * g.outWidth));
  if (!(0 <= r0 && r0 <= r1) || cols.length < (r1 - r0) * rowEntries) {
    throw new RangeError(`${kernel}: rows [${r0}, ${r1}) do not fit ${cols.length} entries`);
  }
  if (image.length < images * g.inHeight * g.inWidth * g.inChannels) {
    throw new RangeError(`${kernel}: ${images} images do not fit ${image.length} entries`);
  }
}

/**
 * Rows [r0, r1) of the im2col matrix of x (NHWC) into `cols` from entry 0: row r holds the
 * window of output position r in (ky, kx, c) order, zeros where it leaves the input. Both
 * arrays on the wasm backend's heap.
 */
export function im2colOnHeap(
  x: Float32Array,
  g: WindowGeometry,
  r0: number,
  r1: number,
  cols: Float32Array,
): void {
  checkWindows("im2col", g, r0, r1, cols, x);
  const { exports, at } = onHeap("im2col", [x, cols]);
  exports.im2col(at[0], at[1], r0, r1, ...geometryArgs(g));
}

/** Adds rows [r0, r1) of a gradient with respect to the im2col matrix back into dx (on the heap). */
export function col2imAddOnHeap(
  cols: Float32Array,
  g: WindowGeometry,
  r0: number,
  r1: number,
  dx: Float32Array,
): void {
  checkWindows("col2im", g, r0, r1, cols, dx);
  const { exports, at } = onHeap("col2im", [cols, dx]);
  exports.col2imAdd(at[0], at[1], r0, r1, ...geometryArgs(g));
}

/**
 * out[j] = Σ_p x[p·c + j] over the n rows of x [n, c], p in order from +0: TF.js's wasm Sum
 * over x's leading axes, bit for bit, without its transpose. Both arrays on the heap.
 */
export function sumLeadingOnHeap(x: Float32Array, n: number, c: number, out: Float32Array): void {
  if (x.length < n * c || out.length < c) {
    throw new RangeError(`a sum of ${n} rows of ${c}: arrays of ${x.length} and ${out.length}`);
  }
  const { exports, at } = onHeap("sumLeading", [x, out]);
  exports.sumLeading(n, c, at[0], at[1]);
}

/** The byte addresses of arrays on the heap, or an error naming the kernel that needs them. */
function onHeap(kernel: string, arrays: (Float32Array | Int32Array)[]) {
  const k = kernels();
  const buffer = k?.memory.buffer;
  if (!k || !arrays.every((a) => a.buffer === buffer)) {
    throw new Error(`${kernel} runs on the wasm backend's heap: an array lies elsewhere`);
  }
  return { exports: k.exports, at: arrays.map((a) => a.byteOffset) };
}

/** A shape [B, H, W, C] the pooling kernels take: every size positive, C a multiple of 4. */
export function poolingShapeOnHeap(shape: number[]): boolean {
  return shape.length === 4 && shape.every((d) => d > 0) && shape[3] % 4 === 0;
}

function checkSizes(kernel: string, arrays: [Float32Array | Int32Array, number][]): void {
  for (const [a, n] of arrays) {
    if (a.length < n) throw new RangeError(`${kernel}: an array of ${a.length} for ${n} entries`);
  }
}

/**
 * blockMaxForwardWasm's max over s × s blocks of x [B, H, W, C] padded with −∞ to [Hp, Wp]
 * (multiples of s, at least H and W) → out [B, Hp/s, Wp/s, C].
 */
export function blockMaxForwardOnHeap(
  x: Float32Array,
  out: Float32Array,
  [B, H, W, C]: number[],
  s: number,
  [Hp, Wp]: [number, number],
): void {
  checkPadding("blockMaxForward", H, W, s, Hp, Wp);
  checkSizes("blockMaxForward", [[x, B * H * W * C], [out, (B * Hp * Wp * C) / (s * s)]]);
  const { exports, at } = onHeap("blockMaxForward", [x, out]);
  exports.blockMaxForward(at[0], at[1], B, Hp, Wp, C, s, H, W);
}

/** blockMaxBackwardWasm's dx = dy of the block · (x == its max), blocks of x padded to [Hp, Wp]. */
export function blockMaxBackwardOnHeap(
  dy: Float32Array,
  x: Float32Array,
  max: Float32Array,
  dx: Float32Array,
  [B, H, W, C]: number[],
  s: number,
  [Hp, Wp]: [number, number],
): void {
  checkPadding("blockMaxBackward", H, W, s, Hp, Wp);
  const n = B * H * W * C, blocks = (B * Hp * Wp * C) / (s * s);
  checkSizes("blockMaxBackward", [[x, n], [dx, n], [dy, blocks], [max, blocks]]);
  const { exports, at } = onHeap("blockMaxBackward", [dy, x, max, dx]);
  exports.blockMaxBackward(at[0], at[1], at[2], at[3], B, Hp, Wp, C, s, H, W);
}

function checkPadding(kernel: string, H: number, W: number, s: number, Hp: number, Wp: number) {
  if (Hp % s || Wp % s || Hp < H || Wp < W) {
    throw new RangeError(`${kernel}: ${H}×${W} padded to ${Hp}×${Wp} is not in blocks of ${s}`);
  }
}

/** neighbourhoodMaxForwardWasm's max over k × k neighbourhoods. */
export function neighbourhoodMaxForwardOnHeap(
  x: Float32Array,
  out: Float32Array,
  [B, H, W, C]: number[],
  k: number,
): void {
  checkSizes("neighbourhoodMaxForward", [[x, B * H * W * C], [
    out,
    B * (H - k + 1) * (W - k + 1) * C,
  ]]);
  const { exports, at } = onHeap("neighbourhoodMaxForward", [x, out]);
  exports.neighbourhoodMaxForward(at[0], at[1], B, H, W, C, k);
}

/**
 * neighbourhoodMaxBackwardWasm's gradient; `scratch` holds k² arrays the size of dy and k²
 * more vectors of 4 (neighbourhoodScratchLength).
 */
export function neighbourhoodMaxBackwardOnHeap(
  dy: Float32Array,
  x: Float32Array,
  dx: Float32Array,
  scratch: Float32Array,
  [B, H, W, C]: number[],
  k: number,
): void {
  const n = B * (H - k + 1) * (W - k + 1) * C;
  checkSizes("neighbourhoodMaxBackward", [[dy, n], [x, B * H * W * C], [dx, B * H * W * C], [
    scratch,
    neighbourhoodScratchLength(n, k),
  ]]);
  const { exports, at } = onHeap("neighbourhoodMaxBackward", [dy, x, dx, scratch]);
  const chain = at[3] + 4 * k * k * n;
  exports.neighbourhoodMaxBackward(at[0], at[1], at[2], at[3], chain, B, H, W, C, k);
}

/** The scratch floats neighbourhoodMaxBackwardOnHeap needs for n output entries. */
export const neighbourhoodScratchLength = (n: number, k: number) => k * k * (n + 4);

/** maxoutForwardWasm over pairs: n groups of z into value and winner (0 or 1). */
export function maxout2ForwardOnHeap(
  z: Float32Array,
  value: Float32Array,
  winner: Int32Array,
  n: number,
): void {
  checkSizes("maxout2Forward", [[z, 2 * n], [value, n], [winner, n]]);
  const { exports, at } = onHeap("maxout2Forward", [z, value, winner]);
  exports.maxout2Forward(n, at[0], at[1], at[2]);
}

/** maxoutBackwardWasm over pairs: dy of each of n groups to its winner, +0 to the other. */
export function maxout2BackwardOnHeap(
  dy: Float32Array,
  winner: Int32Array,
  dz: Float32Array,
  n: number,
): void {
  checkSizes("maxout2Backward", [[dy, n], [winner, n], [dz, 2 * n]]);
  const { exports, at } = onHeap("maxout2Backward", [dy, winner, dz]);
  exports.maxout2Backward(n, at[0], at[1], at[2]);
}

/** dst ← dst + src over n floats, both on the heap (TF.js's Add, in place). */
export function addToOnHeap(dst: Float32Array, src: Float32Array, n: number): void {
  checkSizes("addTo", [[dst, n], [src, n]]);
  const { exports, at } = onHeap("addTo", [dst, src]);
  exports.addTo(n, at[0], at[1]);
}

/**
 * A float32 scratch array on the wasm backend's heap (malloc'd, outside TF.js's tensors), so
 * that the heap kernels can take it; a plain Float32Array off that backend. `view(n)` is
 * valid until the next allocation on the heap, like any heap view.
 */
export class HeapArray {
  #address = 0;
  #length = 0;
  #module: EmscriptenModule | null = null;
  #plain = new Float32Array(0);

  view(n: number): Float32Array {
    const module = wasmModule();
    if (!module?._malloc || !module._free || !module.asm?.memory) {
      if (this.#plain.length < n) this.#plain = new Float32Array(n);
      return this.#plain.subarray(0, n);
    }
    if (this.#module !== module || this.#length < n) {
      this.free();
      this.#address = module._malloc(4 * n);
      if (!this.#address) throw new RangeError(`the wasm heap has no room for ${n} floats`);
      this.#length = n;
      this.#module = module;
    }
    return new Float32Array(module.asm.memory.buffer, this.#address, n);
  }

  /** Gives the heap memory back (a later view allocates again). */
  free(): void {
    if (this.#module && this.#address) this.#module._free!(this.#address);
    this.#address = 0;
    this.#length = 0;
    this.#module = null;
  }
}
