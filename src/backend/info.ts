/**
 * What a run records about the backend and runtime that computed it (result.json `backend`,
 * `versions`): types and names only, so the run record and the CLI's argument checks load
 * no TF.js.
 */
import type { BlasInfo } from "./openblas.ts";

export const BACKEND_CHOICES = ["auto", "webgpu", "wasm+openblas", "wasm", "cpu"] as const;
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
  /** OpenBLAS and its thread count when `name` is "wasm+openblas", else null. */
  blas: BlasInfo | null;
}

export interface Versions {
  deno: string;
  v8: string;
  tfjs: string;
  /** ganbench's git commit, with "+dirty" when the work tree has uncommitted changes. */
  ganbench: string | null;
}
