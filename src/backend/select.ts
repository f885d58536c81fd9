/**
 * Backend choice. `auto` takes WebGPU only on a hardware adapter (a software fallback
 * adapter is ~25× slower than wasm here), else wasm with its matrix products on OpenBLAS
 * (when Deno may use FFI and the library loads), else plain wasm, else the pure-JS cpu
 * backend. `wasm` is always the plain one: results are tied to the path that made them.
 */
import { configureWasmKernels, heapViewForRead } from "./wasm-kernels.ts";
import type { AdapterInfo, BackendChoice, BackendInfo } from "./info.ts";
import {
  type BlasInfo,
  openBlas,
  openBlasUnavailableReason,
  type ThreadSplit,
} from "./openblas.ts";
import { tf } from "./tf.ts";

export interface BackendOptions {
  /**
   * Threads for the matrix products on "wasm+openblas" (default 1); the count changes no
   * number (./blas-threads.ts).
   */
  blasThreads?: number;
  /** "rows" (default), or "openblas" to continue or re-run what OpenBLAS's threads made. */
  blasThreadSplit?: ThreadSplit;
}

interface GpuAdapterLike {
  info?: Partial<AdapterInfo>;
  isFallbackAdapter?: boolean;
}

export async function queryWebGpuAdapter(): Promise<AdapterInfo | null> {
  const gpu = (navigator as unknown as {
    gpu?: { requestAdapter(): Promise<GpuAdapterLike | null> };
  }).gpu;
  if (!gpu) return null;
  let adapter: GpuAdapterLike | null;
  try {
    adapter = await gpu.requestAdapter();
  } catch {
    return null;
  }
  if (!adapter) return null;
  const info = adapter.info ?? {};
  return {
    description: info.description ?? "",
    vendor: String(info.vendor ?? ""),
    architecture: info.architecture ?? "",
    isFallbackAdapter: Boolean(info.isFallbackAdapter ?? adapter.isFallbackAdapter),
  };
}

/** Activates a backend on the TF.js engine and says which one and on what adapter. */
export async function selectBackend(
  requested: BackendChoice,
  options: BackendOptions = {},
): Promise<BackendInfo> {
  if (requested === "auto") {
    const adapter = await queryWebGpuAdapter();
    if (adapter && !adapter.isFallbackAdapter && await tf.setBackend("webgpu")) {
      return { name: "webgpu", requested, adapter, blas: null };
    }
    if (await tf.setBackend("wasm")) {
      const blas = openBlas() ? setBlas(options) : (configureWasmKernels(null), null);
      return { name: blas ? "wasm+openblas" : "wasm", requested, adapter: null, blas };
    }
    if (await tf.setBackend("cpu")) return { name: "cpu", requested, adapter: null, blas: null };
    throw new Error("no TF.js backend could be initialised (tried webgpu, wasm, cpu)");
  }
  let adapter: AdapterInfo | null = null;
  if (requested === "webgpu") {
    adapter = await queryWebGpuAdapter();
    if (!adapter) {
      throw new Error(
        "--backend webgpu: navigator.gpu gave no adapter (no GPU, and no software Vulkan/GL " +
          "driver such as Mesa's lavapipe/llvmpipe); use --backend wasm or auto",
      );
    }
  }
  if (requested === "wasm+openblas" && !openBlas()) {
    throw new Error(`--backend wasm+openblas: ${openBlasUnavailableReason()}`);
  }
  const tfName = requested === "wasm+openblas" ? "wasm" : requested;
  if (!await tf.setBackend(tfName)) {
    throw new Error(`--backend ${requested}: the TF.js backend failed to initialise`);
  }
  let blas: BlasInfo | null = null;
  if (tfName === "wasm") {
    blas = requested === "wasm+openblas" ? setBlas(options) : (configureWasmKernels(null), null);
  }
  return { name: requested, requested, adapter, blas };
}

function setBlas(options: BackendOptions): BlasInfo {
  const blas = openBlas()!;
  blas.setThreads(options.blasThreads ?? 1, options.blasThreadSplit ?? "rows");
  configureWasmKernels(blas);
  return blas.info();
}

/** Reads a tensor back on any backend (webgpu forbids synchronous reads). */
export async function readFloats(t: tf.Tensor): Promise<Float32Array> {
  return new Float32Array(await t.data() as Float32Array);
}

/**
 * Hands a tensor's values to `use`: straight from the heap on wasm (a view valid only during
 * the call), else the backend's read-back.
 */
export async function withFloats(t: tf.Tensor, use: (values: Float32Array) => void): Promise<void> {
  use(heapViewForRead(t) ?? await t.data() as Float32Array);
}

/**
 * Copies a tensor's values into `out` from `offset`: straight from the heap on wasm, else
 * through the backend's read-back (no copy besides, which a state's read-back would leave to
 * the garbage collector).
 */
export async function readFloatsInto(
  t: tf.Tensor,
  out: Float32Array,
  offset: number,
): Promise<void> {
  const view = heapViewForRead(t);
  out.set(view ?? await t.data() as Float32Array, offset);
}
