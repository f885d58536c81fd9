/**
 * Backend choice. `auto` takes WebGPU only on a hardware adapter (a software fallback
 * adapter is ~25× slower than wasm here), else wasm, else the pure-JS cpu backend.
 */
import { tf } from "./tf.ts";

export const BACKEND_CHOICES = ["auto", "webgpu", "wasm", "cpu"] as const;
export type BackendChoice = typeof BACKEND_CHOICES[number];

export interface AdapterInfo {
  description: string;
  vendor: string;
  architecture: string;
  isFallbackAdapter: boolean;
}

export interface BackendInfo {
  /** The TF.js backend that ran. */
  name: string;
  requested: BackendChoice;
  /** The WebGPU adapter when `name` is "webgpu", else null. */
  adapter: AdapterInfo | null;
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
export async function selectBackend(requested: BackendChoice): Promise<BackendInfo> {
  if (requested === "auto") {
    const adapter = await queryWebGpuAdapter();
    if (adapter && !adapter.isFallbackAdapter && await tf.setBackend("webgpu")) {
      return { name: "webgpu", requested, adapter };
    }
    for (const name of ["wasm", "cpu"]) {
      if (await tf.setBackend(name)) return { name, requested, adapter: null };
    }
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
  if (!await tf.setBackend(requested)) {
    throw new Error(`--backend ${requested}: the TF.js backend failed to initialise`);
  }
  return { name: requested, requested, adapter };
}

/** Reads a tensor back on any backend (webgpu forbids synchronous reads). */
export async function readFloats(t: tf.Tensor): Promise<Float32Array> {
  return new Float32Array(await t.data() as Float32Array);
}
