/**
 * Kernels of the wasm backend replaced or added where its own are slow (measured by
 * `deno task perf`; docs/performance.md, docs/platform.md):
 * - BatchMatMul on OpenBLAS, reading and writing the wasm heap in place (when OpenBLAS is
 *   chosen); switching back to plain wasm restores the original kernel.
 * - Identity shares its input's memory instead of copying it, as the cpu backend's does:
 *   TF.js clones every tensor it saves for a backward pass, each a full copy on wasm.
 * - Maxout's forward (max and winning piece in one pass) and backward (scatter to the
 *   winner), on the heap: wasm's Max/ArgMax over a last axis of 5 are generic reductions.
 * None changes a number: products aside, each computes exactly what it replaces (a NaN
 * after the first piece of a maxout group is not propagated; that run has diverged anyway).
 */
import { tf } from "./tf.ts";
import type { OpenBlas } from "./openblas.ts";

type KernelConfig = ReturnType<typeof tf.getKernel> & object;
type TensorInfo = tf.TensorInfo;
interface WasmBackend {
  makeOutput(shape: number[], dtype: tf.DataType): TensorInfo;
  typedArrayFromHeap(t: TensorInfo): Float32Array | Int32Array;
  incRef(dataId: object): void;
  refCount(dataId: object): number;
}

const originals = new Map<string, KernelConfig>();
let blasActive = false;
let identityShared = false;
/**
 * Training's work on OpenBLAS since the process started (the matMul kernel's and the fused
 * step's products, not Parzen's): the benchmarks' executed-FLOP count.
 */
const counters = { calls: 0, flops: 0, seconds: 0 };

export function blasCounters(): Readonly<typeof counters> {
  return { ...counters };
}

/** Counts one product run on OpenBLAS outside the kernel (src/train/fused-mlp.ts). */
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
    const original = tf.getKernel(name, "wasm");
    if (!original) throw new Error(`the wasm backend registered no ${name} kernel`);
    originals.set(name, original as KernelConfig);
  }
  tf.unregisterKernel(name, "wasm");
  tf.registerKernel(
    kernelFunc ? { kernelName: name, backendName: "wasm", kernelFunc } : originals.get(name)!,
  );
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
  if (!blas) {
    replaceKernel("BatchMatMul", null);
    blasActive = false;
    return;
  }
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
  out.fill(0);
  for (let i = 0; i < g.length; i++) out[i * pieces + w[i]] = g[i];
  return wrap(outInfo);
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
