/**
 * The GPU check's report (benchmarks/gpu_check.ts): what navigator.gpu offered, and what each
 * timed stage got. Pure functions only (no TF.js, no GPU), so they are tested on any machine.
 */

/** The part of a GPUAdapter the report reads (Deno's, or a test's stand-in). */
export interface AdapterLike {
  info?: {
    vendor?: string;
    architecture?: string;
    device?: string;
    description?: string;
    isFallbackAdapter?: boolean;
  };
  /** Where older WebGPU implementations put it (now `info.isFallbackAdapter`). */
  isFallbackAdapter?: boolean;
  features?: Iterable<string>;
  limits?: object;
}

/** The limits that bound TF.js's matrix products and convolutions. */
export const KEY_LIMITS = [
  "maxBufferSize",
  "maxStorageBufferBindingSize",
  "maxStorageBuffersPerShaderStage",
  "maxComputeWorkgroupStorageSize",
  "maxComputeInvocationsPerWorkgroup",
  "maxComputeWorkgroupSizeX",
  "maxComputeWorkgroupsPerDimension",
] as const;

export type AdapterKind = "hardware" | "fallback" | "none";

export interface AdapterReport {
  navigatorGpu: boolean;
  kind: AdapterKind;
  adapter: {
    vendor: string;
    architecture: string;
    device: string;
    description: string;
    isFallbackAdapter: boolean;
    features: string[];
    limits: Record<string, number>;
  } | null;
  /** What requestAdapter() threw, if it threw. */
  error: string | null;
  /** One line for a person: which adapter, or why there is none. */
  summary: string;
}

export function describeAdapter(
  navigatorGpu: boolean,
  adapter: AdapterLike | null,
  error: string | null = null,
): AdapterReport {
  if (!adapter) {
    const why = !navigatorGpu
      ? "navigator.gpu is absent"
      : error
      ? `requestAdapter() threw: ${error}`
      : "requestAdapter() gave null (no Vulkan/GL driver that wgpu could use)";
    return { navigatorGpu, kind: "none", adapter: null, error, summary: `no adapter: ${why}` };
  }
  const info = adapter.info ?? {};
  const isFallbackAdapter = Boolean(info.isFallbackAdapter ?? adapter.isFallbackAdapter);
  const limits: Record<string, number> = {};
  for (const key of KEY_LIMITS) {
    const value = (adapter.limits as Record<string, unknown> | undefined)?.[key];
    if (typeof value === "number") limits[key] = value;
  }
  const described = {
    vendor: String(info.vendor ?? ""),
    architecture: info.architecture ?? "",
    device: String(info.device ?? ""),
    description: info.description ?? "",
    isFallbackAdapter,
    features: [...(adapter.features ?? [])].sort(),
    limits,
  };
  const name = described.description || `vendor ${described.vendor}, device ${described.device}`;
  const kind: AdapterKind = isFallbackAdapter ? "fallback" : "hardware";
  const summary = kind === "hardware"
    ? `hardware adapter: ${name}`
    : `no hardware adapter: only a software fallback adapter (${name})`;
  return { navigatorGpu, kind, adapter: described, error, summary };
}

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** GFLOP/s of `products` n×n by n×n float products done in `seconds` (2n³ each). */
export function sgemmGflops(n: number, products: number, seconds: number): number {
  return (2 * n ** 3 * products) / seconds / 1e9;
}

export interface IterationMark {
  iteration: number;
  /** performance.now() after the iteration, ms. */
  ms: number;
}

/**
 * Iterations per second over the marks after the warm-up (as benchmarks/train_step.ts times
 * them), from what a stage printed before it finished or was stopped; null with too few.
 */
export function partialRate(marks: readonly IterationMark[], warmup: number): number | null {
  const from = marks.find((m) => m.iteration === warmup);
  const last = marks.at(-1);
  if (!from || !last || last.iteration <= warmup) return null;
  return (last.iteration - warmup) / ((last.ms - from.ms) / 1000);
}

/** The iterations benchmarks/train_step.ts leaves out of its timing (the first hold compilation). */
export function trainWarmup(iterations: number): number {
  return Math.max(1, Math.min(5, Math.floor(iterations / 4)));
}

export type StageStatus = "ok" | "timeout" | "failed" | "skipped" | "not run";

export interface StageOutcome {
  status: StageStatus;
  /** Why it was skipped, failed or not run. */
  reason: string | null;
  limitSeconds: number;
  seconds: number;
  /** The stage's own result lines (JSON), in order. */
  results: unknown[];
  /** Iterations per second from the progress marks (train stages), whatever the status. */
  partialIterationsPerSecond: number | null;
  /** Train stages: iterations done, and seconds from the stage's start to the first one's end. */
  iterationsDone: number | null;
  firstIterationSeconds: number | null;
  /** The end of what the stage wrote to stderr (failed and timed-out stages). */
  stderrTail: string | null;
}

export interface GpuCheckReport {
  check: "ganbench gpu";
  startedAt: string;
  host: { deno: string; os: string; arch: string; cpus: number };
  /** The backend the stages asked for: webgpu, unless the path is being tried without a GPU. */
  backend: string;
  /** The variables that steer which Vulkan/EGL driver wgpu loads. */
  environment: Record<string, string | null>;
  adapter: AdapterReport | null;
  stages: Record<string, StageOutcome>;
  totalSeconds: number;
}

export const DRIVER_VARIABLES = [
  "VK_DRIVER_FILES",
  "VK_ICD_FILENAMES",
  "VK_ADD_DRIVER_FILES",
  "__EGL_VENDOR_LIBRARY_FILENAMES",
  "LD_LIBRARY_PATH",
  "WGPU_BACKEND",
] as const;

/** A stage left out: `reason` says why (no hardware adapter, budget spent, no data). */
export function notRun(reason: string, status: StageStatus = "not run"): StageOutcome {
  return {
    status,
    reason,
    limitSeconds: 0,
    seconds: 0,
    results: [],
    partialIterationsPerSecond: null,
    iterationsDone: null,
    firstIterationSeconds: null,
    stderrTail: null,
  };
}
