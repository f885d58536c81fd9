/**
 * Kernels of the wasm backend replaced or added where its own are slow (measured by
 * `deno task perf`; docs/performance.md, docs/platform.md):
 * - BatchMatMul on OpenBLAS, reading and writing the wasm heap in place (when OpenBLAS is
 *   chosen); switching back to plain wasm restores the original kernel.
 * - Conv2D, Conv2DBackpropInput and Conv2DBackpropFilter (absent from the wasm backend) on
 *   OpenBLAS as im2col products (src/backend/conv-blas.ts), likewise only with OpenBLAS.
 * - Identity shares its input's memory instead of copying it, as the cpu backend's does:
 *   TF.js clones every tensor it saves for a backward pass, each a full copy on wasm.
 * - Sum over leading axes (the bias gradients) in one pass on the heap: wasm's Sum transposes
 *   its input first so that the reduced axes come last.
 * - Maxout's forward (max and winning piece in one pass) and backward (scatter to the
 *   winner), on the heap: wasm's Max/ArgMax over a last axis of 5 are generic reductions.
 * None changes a number: products aside (matMul's and the convolutions': a different
 * summation order), each computes exactly what it replaces (a NaN
 * after the first piece of a maxout group is not propagated; that run has diverged anyway).
 */
import { tf } from "./tf.ts";
import type { OpenBlas } from "./openblas.ts";
import { blasConvKernels } from "./conv-blas.ts";
import {
  adamOnHeap,
  addToOnHeap,
  blockMaxBackwardOnHeap,
  blockMaxForwardOnHeap,
  HeapArray,
  maxout2BackwardOnHeap,
  maxout2ForwardOnHeap,
  momentumOnHeap,
  neighbourhoodMaxBackwardOnHeap,
  neighbourhoodMaxForwardOnHeap,
  neighbourhoodScratchLength,
  sumLeadingOnHeap,
} from "./heap-kernels.ts";

type KernelConfig = ReturnType<typeof tf.getKernel> & object;
type TensorInfo = tf.TensorInfo;
interface WasmBackend {
  makeOutput(shape: number[], dtype: tf.DataType): TensorInfo;
  typedArrayFromHeap(t: TensorInfo): Float32Array | Int32Array;
  incRef(dataId: object): void;
  refCount(dataId: object): number;
}

/** The wasm backend's own kernels (null: it has none of that name). */
const originals = new Map<string, KernelConfig | null>();
const CONV_KERNELS = ["Conv2D", "Conv2DBackpropInput", "Conv2DBackpropFilter"] as const;
let blasActive = false;
let identityShared = false;
let sumReplaced = false;
/**
 * Training's work on OpenBLAS since the process started (the matMul kernel's and the fused
 * step's products, not Parzen's): the benchmarks' executed-FLOP count.
 */
const counters = { calls: 0, flops: 0, seconds: 0 };

export function blasCounters(): Readonly<typeof counters> {
  return { ...counters };
}

/** Counts one product run on OpenBLAS outside the kernel (src/train/steps/fused-mlp.ts). */
export function countBlasProduct(flops: number, seconds: number): void {
  counters.calls++;
  counters.flops += flops;
  counters.seconds += seconds;
}

/** True while matMul runs on OpenBLAS: the wasm backend is active with the BLAS kernel. */
export function blasKernelsActive(): boolean {
  return blasActive && tf.getBackend() === "wasm";
}

function replaceKernel(name: string, kernelFunc: KernelConfig["kernelFunc"] | null): void {
  if (!originals.has(name)) {
    originals.set(name, (tf.getKernel(name, "wasm") ?? null) as KernelConfig);
  }
  const original = originals.get(name)!;
  if (tf.getKernel(name, "wasm")) tf.unregisterKernel(name, "wasm");
  // the original's setup (binding its wasm function) runs again if the backend is re-created
  const setupFunc = original?.setupFunc;
  if (kernelFunc) {
    tf.registerKernel({ kernelName: name, backendName: "wasm", kernelFunc, setupFunc });
  } else if (original) tf.registerKernel(original);
}

/** Configures the wasm backend's kernels: call after `tf.setBackend("wasm")`. */
export function configureWasmKernels(blas: OpenBlas | null): void {
  if (!identityShared) {
    const fallback = tf.getKernel("Identity", "wasm")!.kernelFunc;
    replaceKernel("Identity", (args) => {
      const { x } = args.inputs as { x: TensorInfo };
      if (x.dtype === "string") return fallback(args);
      (args.backend as WasmBackend).incRef(x.dataId);
      return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
    });
    identityShared = true;
  }
  if (!sumReplaced) {
    const fallback = tf.getKernel("Sum", "wasm")!.kernelFunc;
    replaceKernel("Sum", (args) => sumOverLeadingAxes(args) ?? fallback(args));
    sumReplaced = true;
  }
  if (!blas) {
    replaceKernel("BatchMatMul", null);
    for (const name of CONV_KERNELS) replaceKernel(name, null);
    blasActive = false;
    return;
  }
  const own = (name: string) =>
    originals.has(name) ? originals.get(name)?.kernelFunc : tf.getKernel(name, "wasm")?.kernelFunc;
  const conv = blasConvKernels(blas, countBlasProduct, {
    Conv2D: own("Conv2D"),
    Conv2DBackpropInput: own("Conv2DBackpropInput"),
  });
  for (const name of CONV_KERNELS) replaceKernel(name, conv[name]);
  const fallback = originals.get("BatchMatMul")?.kernelFunc ??
    tf.getKernel("BatchMatMul", "wasm")!.kernelFunc;
  replaceKernel("BatchMatMul", (args) => {
    const { a, b } = args.inputs as { a: TensorInfo; b: TensorInfo };
    const { transposeA, transposeB } = args.attrs as unknown as {
      transposeA: boolean;
      transposeB: boolean;
    };
    const batchA = batchSize(a.shape), batchB = batchSize(b.shape);
    const sameOrBroadcast = batchA === batchB || batchA === 1 || batchB === 1;
    if (a.dtype !== "float32" || b.dtype !== "float32" || !sameOrBroadcast) {
      return fallback(args);
    }
    return blasBatchMatMul(
      blas,
      args.backend as unknown as WasmBackend,
      a,
      b,
      transposeA,
      transposeB,
    );
  });
  blasActive = true;
}

/**
 * A float32 Sum whose axes are the leading ones (not all), on the heap; null for any other
 * (the wasm backend's own kernel takes it). Computes exactly what that kernel does.
 */
function sumOverLeadingAxes(args: Parameters<KernelConfig["kernelFunc"]>[0]): TensorInfo | null {
  const { x } = args.inputs as { x: TensorInfo };
  const { axis, keepDims } = args.attrs as unknown as {
    axis: number | number[];
    keepDims: boolean;
  };
  const rank = x.shape.length;
  const axes = tf.util.parseAxisParam(axis, x.shape).sort((a, b) => a - b);
  const k = axes.length;
  if (x.dtype !== "float32" || k === 0 || k === rank || axes.some((a, i) => a !== i)) return null;
  const n = x.shape.slice(0, k).reduce((p, d) => p * d, 1);
  const rest = x.shape.slice(k), c = rest.reduce((p, d) => p * d, 1);
  if (n * c === 0) return null;
  const backend = args.backend as unknown as WasmBackend;
  const out = backend.makeOutput(keepDims ? [...axes.map(() => 1), ...rest] : rest, "float32");
  // views only after makeOutput: its allocation may grow the heap
  const view = (t: TensorInfo) => backend.typedArrayFromHeap(t) as Float32Array;
  sumLeadingOnHeap(view(x), n, c, view(out));
  return out;
}

function batchSize(shape: number[]): number {
  return shape.slice(0, -2).reduce((p, d) => p * d, 1);
}

function blasBatchMatMul(
  blas: OpenBlas,
  backend: WasmBackend,
  a: TensorInfo,
  b: TensorInfo,
  transposeA: boolean,
  transposeB: boolean,
): TensorInfo {
  const ra = a.shape.length, rb = b.shape.length;
  const M = transposeA ? a.shape[ra - 1] : a.shape[ra - 2];
  const K = transposeA ? a.shape[ra - 2] : a.shape[ra - 1];
  const kB = transposeB ? b.shape[rb - 1] : b.shape[rb - 2];
  const N = transposeB ? b.shape[rb - 2] : b.shape[rb - 1];
  if (K !== kB) {
    throw new Error(
      `matMul: inner dimensions ${K} and ${kB} differ (shapes ${a.shape} and ${b.shape}, ` +
        `transposeA=${transposeA}, transposeB=${transposeB})`,
    );
  }
  const outer = tf.broadcast_util.assertAndGetBroadcastShape(
    a.shape.slice(0, -2),
    b.shape.slice(0, -2),
  );
  const batch = outer.reduce((p, d) => p * d, 1);
  const out = backend.makeOutput([...outer, M, N], "float32");
  if (M * N === 0) return out;
  // views only after makeOutput: its allocation may grow the heap, detaching older views
  const A = backend.typedArrayFromHeap(a) as Float32Array;
  const B = backend.typedArrayFromHeap(b) as Float32Array;
  const C = backend.typedArrayFromHeap(out) as Float32Array;
  if (K === 0) {
    C.fill(0);
    return out;
  }
  const batchA = batchSize(a.shape), batchB = batchSize(b.shape);
  const t0 = performance.now();
  for (let i = 0; i < batch; i++) {
    const ia = batchA === 1 ? 0 : i, ib = batchB === 1 ? 0 : i;
    blas.sgemm(
      transposeA,
      transposeB,
      M,
      N,
      K,
      A.subarray(ia * M * K, (ia + 1) * M * K),
      B.subarray(ib * K * N, (ib + 1) * K * N),
      C.subarray(i * M * N, (i + 1) * M * N),
    );
  }
  counters.calls++;
  counters.flops += 2 * batch * M * N * K;
  counters.seconds += (performance.now() - t0) / 1000;
  return out;
}

/** The current backend when it is wasm, else null. */
/** True when tensors live on the wasm backend's heap, where the heap ops below run. */
export function wasmHeapActive(): boolean {
  return tf.getBackend() === "wasm";
}

function wasmBackend(): WasmBackend | null {
  return tf.getBackend() === "wasm" ? tf.backend() as unknown as WasmBackend : null;
}

function wrap(info: TensorInfo): tf.Tensor {
  return tf.engine().makeTensorFromTensorInfo(info);
}

/**
 * Maxout forward on the wasm heap: z [..., units·pieces] → the max of each group and the
 * index of its first maximal piece, or null on another backend.
 */
export function maxoutForwardWasm(
  z: tf.Tensor,
  pieces: number,
): { value: tf.Tensor; winner: tf.Tensor } | null {
  const backend = wasmBackend();
  if (!backend || z.dtype !== "float32") return null;
  const outShape = [...z.shape.slice(0, -1), z.shape[z.shape.length - 1] / pieces];
  const valueInfo = backend.makeOutput(outShape, "float32");
  const winnerInfo = backend.makeOutput(outShape, "int32");
  const x = backend.typedArrayFromHeap(z as unknown as TensorInfo) as Float32Array;
  const value = backend.typedArrayFromHeap(valueInfo) as Float32Array;
  const winner = backend.typedArrayFromHeap(winnerInfo) as Int32Array;
  if (pieces === 2) {
    maxout2ForwardOnHeap(x, value, winner, value.length);
    return { value: wrap(valueInfo), winner: wrap(winnerInfo) };
  }
  for (let g = 0, o = 0; g < value.length; g++, o += pieces) {
    let best = x[o], at = 0;
    for (let p = 1; p < pieces; p++) {
      const v = x[o + p];
      // branch-free selects: which piece wins is data-dependent, a branch mispredicts
      const wins = v > best;
      at = wins ? p : at;
      best = wins ? v : best;
    }
    value[g] = best;
    winner[g] = at;
  }
  return { value: wrap(valueInfo), winner: wrap(winnerInfo) };
}

/** Maxout backward on the wasm heap: dy of each group to its winning piece, 0 elsewhere. */
export function maxoutBackwardWasm(
  dy: tf.Tensor,
  winner: tf.Tensor,
  pieces: number,
  shape: number[],
): tf.Tensor | null {
  const backend = wasmBackend();
  if (!backend || dy.dtype !== "float32") return null;
  const outInfo = backend.makeOutput(shape, "float32");
  const g = backend.typedArrayFromHeap(dy as unknown as TensorInfo) as Float32Array;
  const w = backend.typedArrayFromHeap(winner as unknown as TensorInfo) as Int32Array;
  const out = backend.typedArrayFromHeap(outInfo) as Float32Array;
  if (pieces === 2) {
    maxout2BackwardOnHeap(g, w, out, g.length);
    return wrap(outInfo);
  }
  out.fill(0);
  for (let i = 0; i < g.length; i++) out[i * pieces + w[i]] = g[i];
  return wrap(outInfo);
}

/**
 * The wasm backend's linear memory in bytes (null off wasm). It grows when an allocation
 * needs it and never shrinks: its size is the most the heap ever held at once.
 */
export function wasmHeapBytes(): number | null {
  if (tf.getBackend() !== "wasm") return null;
  const backend = tf.backend() as unknown as { wasm: { HEAPU8: Uint8Array } };
  return backend.wasm.HEAPU8.length;
}

/**
 * A float32 tensor's values on the wasm heap, to read without a copy (valid until the next
 * allocation on the heap), or null off the wasm backend.
 */
export function heapViewForRead(t: tf.Tensor): Float32Array | null {
  const backend = wasmBackend();
  if (!backend || t.dtype !== "float32") return null;
  return backend.typedArrayFromHeap(t as unknown as TensorInfo) as Float32Array;
}

/**
 * A float32 tensor's memory on the wasm heap, to be updated in place (a fused training step
 * writing its parameters). Valid until the next allocation on the heap. Throws when another
 * tensor shares the memory: the write would change that tensor too.
 */
export function heapViewForUpdate(t: tf.Tensor): Float32Array {
  const backend = wasmBackend();
  if (!backend || t.dtype !== "float32") {
    throw new Error("in-place updates need a float32 tensor on the wasm backend");
  }
  if (backend.refCount(t.dataId) !== 1) {
    throw new Error(
      `${(t as tf.Variable).name ?? "a tensor"} shares its memory; not updated in place`,
    );
  }
  return backend.typedArrayFromHeap(t as unknown as TensorInfo) as Float32Array;
}

/**
 * x[0, n) ← sigmoid(x) or tanh(x) by the wasm backend's own kernels (SIMD), for arrays off
 * the heap. Allocates on the heap: views taken before it may be detached.
 */
export function unaryInPlaceWasm(op: "sigmoid" | "tanh", x: Float32Array, n: number): void {
  const backend = wasmBackend();
  if (!backend) throw new Error(`${op} in place needs the wasm backend`);
  const input = tf.tensor1d(x.subarray(0, n));
  const output = op === "sigmoid" ? tf.sigmoid(input) : tf.tanh(input);
  x.set(backend.typedArrayFromHeap(output as unknown as TensorInfo) as Float32Array);
  tf.dispose([input, output]);
}

/**
 * The max over s × s blocks of x [B, H, W, C] padded with −∞ to `padded` [Hp, Wp] (multiples
 * of s; x's own size by default) → [B, Hp/s, Wp/s, C], as tf.max over the blocks of tf.pad's
 * result computes it (the padding is never read: −∞ never takes over), or null off wasm.
 */
export function blockMaxForwardWasm(
  x: tf.Tensor,
  s: number,
  padded: [number, number] = [x.shape[1]!, x.shape[2]!],
): tf.Tensor | null {
  const backend = wasmBackend();
  if (!backend || x.dtype !== "float32") return null;
  const [B, , , C] = x.shape;
  const outInfo = backend.makeOutput([B, padded[0] / s, padded[1] / s, C], "float32");
  const v = backend.typedArrayFromHeap(x as unknown as TensorInfo) as Float32Array;
  const out = backend.typedArrayFromHeap(outInfo) as Float32Array;
  // the block's first entry first, a later one taking over when greater or NaN (NaN
  // propagates, as in the wasm Max kernel)
  if (out.length > 0) blockMaxForwardOnHeap(v, out, x.shape, s, padded);
  return wrap(outInfo);
}

/**
 * The gradient of `blockMaxForwardWasm` with respect to x, exactly as TF.js's Max gradient
 * (then Pad's, a slice) computes it: dx = dy · (x == max of its block), so every entry equal
 * to its block's max gets dy. The blocks are y's, [B, Hp/s, Wp/s, C].
 */
export function blockMaxBackwardWasm(
  dy: tf.Tensor,
  x: tf.Tensor,
  y: tf.Tensor,
  s: number,
): tf.Tensor | null {
  const backend = wasmBackend();
  if (!backend || dy.dtype !== "float32") return null;
  const outInfo = backend.makeOutput(x.shape, "float32");
  const g = backend.typedArrayFromHeap(dy as unknown as TensorInfo) as Float32Array;
  const v = backend.typedArrayFromHeap(x as unknown as TensorInfo) as Float32Array;
  const m = backend.typedArrayFromHeap(y as unknown as TensorInfo) as Float32Array;
  const out = backend.typedArrayFromHeap(outInfo) as Float32Array;
  const padded: [number, number] = [y.shape[1]! * s, y.shape[2]! * s];
  if (out.length > 0) blockMaxBackwardOnHeap(g, v, m, out, x.shape, s, padded);
  return wrap(outInfo);
}

/**
 * cuda-convnet pooling's second half on the wasm heap: the max over each k × k neighbourhood
 * of x [B, H, W, C] → [B, H − k + 1, W − k + 1, C] (C a multiple of 4: poolingShapeOnHeap),
 * exactly as src/models/ops.ts's chain of k² slices and tf.maximum computes it: views
 * t = di·k + dj in order, the running max m ← v > m ? v : m (the wasm Maximum kernel's
 * choice: on a tie or a NaN in v, m stays).
 */
export function neighbourhoodMaxForwardWasm(x: tf.Tensor, k: number): tf.Tensor | null {
  const backend = wasmBackend();
  if (!backend || x.dtype !== "float32") return null;
  const [B, H, W, C] = x.shape;
  const outInfo = backend.makeOutput([B, H - k + 1, W - k + 1, C], "float32");
  const v = backend.typedArrayFromHeap(x as unknown as TensorInfo) as Float32Array;
  const out = backend.typedArrayFromHeap(outInfo) as Float32Array;
  neighbourhoodMaxForwardOnHeap(v, out, x.shape, k);
  return wrap(outInfo);
}

/** What each view of each output entry got, for the gradient below. */
const neighbourhoodScratch = new HeapArray();

/**
 * The gradient of `neighbourhoodMaxForwardWasm` with respect to x, exactly as TF.js's tape
 * computes it through the slices and maxima: backwards along each chain, view t gets
 * g·[m < v_t] and the running max before it g·[m ≥ v_t] (Maximum's gradient), and each entry
 * of x sums what its views got, the last view's first (the tape's reverse order), views that
 * do not reach it adding Slice's padding of +0.
 */
export function neighbourhoodMaxBackwardWasm(
  dy: tf.Tensor,
  x: tf.Tensor,
  k: number,
): tf.Tensor | null {
  const backend = wasmBackend();
  if (!backend || dy.dtype !== "float32" || x.dtype !== "float32") return null;
  const scratchLength = neighbourhoodScratchLength(dy.size, k);
  // allocations first (the scratch's, the output's), views after: an allocation may grow the
  // heap, detaching views taken before it
  neighbourhoodScratch.view(scratchLength);
  const outInfo = backend.makeOutput(x.shape, "float32");
  const view = (t: TensorInfo) => backend.typedArrayFromHeap(t) as Float32Array;
  neighbourhoodMaxBackwardOnHeap(
    view(dy as unknown as TensorInfo),
    view(x as unknown as TensorInfo),
    view(outInfo),
    neighbourhoodScratch.view(scratchLength),
    x.shape,
    k,
  );
  return wrap(outInfo);
}

/**
 * One Adam update on the wasm heap: the new m, v and parameter as fresh tensors (for the
 * caller to assign), or null off wasm. Not in place: the wasm backend's XNNPACK operators
 * keep packed copies of their weights keyed by tensor, so a weight must change by taking
 * new memory. Exactly the TF.js ops it replaces (src/train/optimizers.ts): each op rounds
 * to float32 (Math.fround; one double operation on float32 inputs rounds the same way),
 * with the scalars as float32 tensors hold them:
 *   m ← m·β1 + g·(1 − β1);  v ← v·β2 + g²·(1 − β2);  p ← p − (m·(lr/c1)) / (√(v/c2) + ε).
 */
export function adamUpdateWasm(
  p: tf.Tensor,
  g: tf.Tensor,
  m: tf.Tensor,
  v: tf.Tensor,
  c: AdamConstants,
): { p: tf.Tensor; m: tf.Tensor; v: tf.Tensor } | null {
  const backend = wasmBackend();
  if (!backend || [p, g, m, v].some((t) => t.dtype !== "float32")) return null;
  const outs = [p, m, v].map((t) => backend.makeOutput(t.shape, "float32"));
  // views only after the allocations: they may grow the heap, detaching older views
  const view = (t: TensorInfo | tf.Tensor) =>
    backend.typedArrayFromHeap(t as unknown as TensorInfo) as Float32Array;
  const [P, G, M, V] = [p, g, m, v].map(view);
  const [P1, M1, V1] = outs.map(view);
  adamUpdateArrays(P.length, { P, G, M, V }, { P: P1, M: M1, V: V1 }, c);
  const [pNew, mNew, vNew] = outs.map(wrap);
  return { p: pNew, m: mNew, v: vNew };
}

/** Adam's constants for one update (torch.optim.Adam's, bias corrections c1, c2 included). */
export interface AdamConstants {
  beta1: number;
  beta2: number;
  c1: number;
  c2: number;
  lr: number;
  epsilon: number;
}

/**
 * One Adam update of n values in float32 operations, `to` may be `from` (in place): the
 * arithmetic of adamUpdateWasm, shared with the fused MLP step.
 */
export function adamUpdateArrays(
  n: number,
  from: { P: Float32Array; G: Float32Array; M: Float32Array; V: Float32Array },
  to: { P: Float32Array; M: Float32Array; V: Float32Array },
  c: AdamConstants,
): void {
  const { P, G, M, V } = from, { P: P1, M: M1, V: V1 } = to;
  const f = Math.fround;
  const b1 = f(c.beta1), a1 = f(1 - c.beta1), b2 = f(c.beta2), a2 = f(1 - c.beta2);
  const c2 = f(c.c2), step = f(c.lr / c.c1), eps = f(c.epsilon);
  // the same float32 operations, four at a time, where every array is on the wasm heap
  if (adamOnHeap(n, from, to, { b1, a1, b2, a2, c2, step, eps })) return;
  for (let i = 0; i < n; i++) {
    const gi = G[i];
    const mi = f(f(M[i] * b1) + f(gi * a1));
    const vi = f(f(V[i] * b2) + f(f(gi * gi) * a2));
    M1[i] = mi;
    V1[i] = vi;
    P1[i] = P[i] - f(f(mi * step) / f(f(Math.sqrt(f(vi / c2))) + eps));
  }
}

/**
 * pylearn2's momentum increment v·μ − g·lr as one fresh tensor on the wasm heap (the caller
 * assigns it to the velocity and adds it to the parameter), or null off wasm. Exactly the
 * TF.js ops it replaces, `tf.sub(tf.mul(v, mu), tf.mul(g, lr))`, each product and the
 * difference rounded to float32, with μ and lr as float32 scalars hold them; in one pass that
 * allocates the result alone, where the ops hold two products of the variable's size besides.
 */
export function momentumIncrementWasm(
  v: tf.Tensor,
  g: tf.Tensor,
  mu: number,
  lr: number,
): tf.Tensor | null {
  const backend = wasmBackend();
  if (!backend || v.dtype !== "float32" || g.dtype !== "float32") return null;
  if (!tf.util.arraysEqual(v.shape, g.shape)) {
    throw new Error(`momentum increment: velocity ${v.shape} against gradient ${g.shape}`);
  }
  const out = backend.makeOutput(v.shape, "float32");
  // views only after the allocation: it may grow the heap, detaching older views
  const view = (t: TensorInfo | tf.Tensor) =>
    backend.typedArrayFromHeap(t as unknown as TensorInfo) as Float32Array;
  momentumIncrementArrays(v.size, { V: view(v), G: view(g) }, view(out), mu, lr);
  return wrap(out);
}

/**
 * Σ x² over a float32 tensor on the wasm heap as a float32 scalar tensor, or null off wasm:
 * exactly `tf.sum(tf.square(x))` there (the wasm Square rounds each x·x, its Sum adds them
 * one after another in float32), without the squares' tensor of x's size.
 */
export function sumOfSquaresWasm(x: tf.Tensor): tf.Tensor | null {
  const values = heapViewForRead(x);
  if (!values) return null;
  const f = Math.fround;
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum = f(sum + f(values[i] * values[i]));
  return tf.scalar(sum);
}

/**
 * pylearn2 momentum's whole step in place on the heap, v ← v·mu − g·lr then p ← p + v: the
 * ops the TF.js path runs (momentumIncrementWasm, then Add), so the same numbers, without its
 * two new tensors of the parameter's size (256 MB each for an 8000×8000 layer). Only while
 * matMul and the convolutions run on OpenBLAS: on plain wasm XNNPACK keeps packed copies of
 * weights keyed by tensor, and a weight changed in place would be used stale. Only when p and
 * v hold their memory alone (no saved copy of a tape shares it). False: nothing done.
 */
export function momentumStepInPlaceWasm(
  p: tf.Tensor,
  v: tf.Tensor,
  g: tf.Tensor,
  mu: number,
  lr: number,
): boolean {
  const backend = wasmBackend();
  if (!backend || !blasKernelsActive()) return false;
  if ([p, v, g].some((t) => t.dtype !== "float32")) return false;
  if (!tf.util.arraysEqual(p.shape, v.shape) || !tf.util.arraysEqual(v.shape, g.shape)) {
    throw new Error(
      `momentum step: parameter ${p.shape}, velocity ${v.shape}, gradient ${g.shape}`,
    );
  }
  if (backend.refCount(p.dataId) !== 1 || backend.refCount(v.dataId) !== 1) return false;
  const view = (t: tf.Tensor) =>
    backend.typedArrayFromHeap(t as unknown as TensorInfo) as Float32Array;
  const V = view(v);
  momentumIncrementArrays(v.size, { V, G: view(g) }, V, mu, lr);
  addToOnHeap(view(p), V, p.size);
  return true;
}

/**
 * inc ← v·μ − g·lr over n values in float32 operations (`inc` may be `V`): the arithmetic of
 * momentumIncrementWasm, by the heap kernel where every array is on the wasm heap.
 */
export function momentumIncrementArrays(
  n: number,
  from: { V: Float32Array; G: Float32Array },
  inc: Float32Array,
  mu: number,
  lr: number,
): void {
  const f = Math.fround, mu32 = f(mu), lr32 = f(lr);
  if (momentumOnHeap(n, from, inc, mu32, lr32)) return;
  const { V, G } = from;
  for (let i = 0; i < n; i++) inc[i] = f(V[i] * mu32) - f(G[i] * lr32);
}
