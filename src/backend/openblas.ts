/**
 * OpenBLAS through Deno's FFI: `cblas_sgemm` on float32 views, zero-copy (a view of the
 * wasm heap is passed as a pointer in place), several times faster than the wasm backend's
 * own matMul (docs/performance.md).
 *
 * Available only when Deno has `--allow-ffi` and the shared library loads (Debian
 * `libopenblas0`; `GANBENCH_OPENBLAS=/path/to/libopenblas.so` picks another build).
 *
 * OpenBLAS itself runs on one thread: more threads split a product by rows
 * (./blas-threads.ts), which keeps every number the one-thread number. OpenBLAS's own
 * threads (`setThreads(n, "openblas")`) remain only to continue or re-run what was made on
 * them before.
 */
import { BlasHelpers, rowBounds, rowSlice } from "./blas-threads.ts";
import { unrunnableCoreReason } from "./blas-probe.ts";

/**
 * How the threads share a product: "rows" (./blas-threads.ts), where the count changes no
 * number, or "openblas", OpenBLAS's own threads, where the numbers are tied to the count.
 * Results and checkpoints from before "rows" lack it: on more than one thread they were
 * made on OpenBLAS's own threads.
 */
export type ThreadSplit = "rows" | "openblas";

/** The library's identity and thread count, recorded with every result. */
export interface BlasInfo {
  library: string;
  /** `openblas_get_config()`, e.g. "OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY Haswell MAX_THREADS=64". */
  config: string;
  /** The kernel family OpenBLAS chose for this CPU (its results depend on it). */
  core: string;
  /** Threads the products are split over. */
  threads: number;
  threadSplit: ThreadSplit;
}

const SYMBOLS = {
  cblas_sgemm: {
    parameters: [
      "i32", // order
      "i32", // transA
      "i32", // transB
      "i32", // M
      "i32", // N
      "i32", // K
      "f32", // alpha
      "buffer", // A
      "i32", // lda
      "buffer", // B
      "i32", // ldb
      "f32", // beta
      "buffer", // C
      "i32", // ldc
    ],
    result: "void",
  },
  cblas_saxpy: {
    parameters: ["i32", "f32", "buffer", "i32", "buffer", "i32"], // n, alpha, x, incx, y, incy
    result: "void",
  },
  openblas_set_num_threads: { parameters: ["i32"], result: "void" },
  openblas_get_config: { parameters: [], result: "pointer" },
  openblas_get_corename: { parameters: [], result: "pointer" },
} as const;

const ROW_MAJOR = 101, NO_TRANS = 111, TRANS = 112;

export interface OpenBlas {
  info(): BlasInfo;
  /**
   * C[M×N] = op(A)·op(B), row-major, where op transposes when asked; A is [M, K] (or
   * [K, M] transposed), B is [K, N] (or [N, K]). The arrays may be views of any buffer.
   */
  sgemm(
    transA: boolean,
    transB: boolean,
    M: number,
    N: number,
    K: number,
    A: Float32Array,
    B: Float32Array,
    C: Float32Array,
  ): void;
  /**
   * C ← alpha·op(A)·op(B) + beta·C (shapes as for `sgemm`): a product accumulated into C,
   * e.g. a gradient into an optimiser's velocity.
   */
  gemm(
    transA: boolean,
    transB: boolean,
    M: number,
    N: number,
    K: number,
    alpha: number,
    A: Float32Array,
    B: Float32Array,
    beta: number,
    C: Float32Array,
  ): void;
  /** y ← alpha·x + y over the first `n` entries. */
  saxpy(n: number, alpha: number, x: Float32Array, y: Float32Array): void;
  /**
   * Threads for the products (the calling one and n − 1 helpers). Products are split by
   * rows where the split changes no number (./blas-threads.ts); saxpy stays on one.
   * "openblas": OpenBLAS's own n threads instead (numbers tied to n).
   */
  setThreads(n: number, split?: ThreadSplit): void;
}

let loaded: OpenBlas | null | undefined;
let loadError = "";

/** The library, or null (with `openBlasUnavailableReason()` saying why). Loaded once. */
export function openBlas(): OpenBlas | null {
  if (loaded !== undefined) return loaded;
  loaded = null;
  if (Deno.permissions.querySync({ name: "ffi" }).state !== "granted") {
    loadError = "Deno runs without --allow-ffi";
    return null;
  }
  const path = Deno.env.get("GANBENCH_OPENBLAS") || "libopenblas.so.0";
  let lib: Deno.DynamicLibrary<typeof SYMBOLS>;
  try {
    lib = Deno.dlopen(path, SYMBOLS);
  } catch (e) {
    loadError = `${path} could not be loaded (${(e as Error).message.split("\n")[0]}); ` +
      "on Debian/Ubuntu: apt-get install libopenblas0";
    return null;
  }
  const s = lib.symbols;
  const cString = (p: Deno.PointerValue) => p ? new Deno.UnsafePointerView(p).getCString() : "";
  const config = cString(s.openblas_get_config()).trim();
  const core = cString(s.openblas_get_corename()).trim();
  const unsupported = unrunnableCoreReason(path, core);
  if (unsupported) {
    lib.close();
    loadError = unsupported;
    return null;
  }
  // OpenBLAS's own threads would change numbers with their count; ours do not
  s.openblas_set_num_threads(1);
  let helpers: BlasHelpers | null = null;
  let ownThreads = 0;
  const gemm: OpenBlas["gemm"] = (transA, transB, M, N, K, alpha, A, B, beta, C) => {
    if (A.length < M * K || B.length < K * N || C.length < M * N) {
      throw new RangeError(`sgemm ${M}×${K}·${K}×${N}: an operand is too short`);
    }
    const product = { transA, transB, M, N, K, alpha, A, B, beta, C };
    const rows = (i0: number, i1: number) => {
      const r = rowSlice(product, i0, i1);
      s.cblas_sgemm(
        ROW_MAJOR,
        transA ? TRANS : NO_TRANS,
        transB ? TRANS : NO_TRANS,
        r.M,
        N,
        K,
        alpha,
        r.A,
        r.lda,
        B,
        r.ldb,
        beta,
        r.C,
        r.ldc,
      );
    };
    const bounds = helpers ? rowBounds(M, N, K, helpers.count + 1) : [0, M];
    if (bounds.length > 2) helpers!.run(product, bounds, rows);
    else rows(0, M);
  };
  loaded = {
    info: () => ({
      library: path,
      config,
      core,
      threads: ownThreads || (helpers?.count ?? 0) + 1,
      threadSplit: ownThreads ? "openblas" : "rows",
    }),
    sgemm(transA, transB, M, N, K, A, B, C) {
      gemm(transA, transB, M, N, K, 1, A, B, 0, C);
    },
    gemm,
    saxpy(n, alpha, x, y) {
      if (x.length < n || y.length < n) {
        throw new RangeError(`saxpy of ${n}: an operand is too short`);
      }
      s.cblas_saxpy(n, alpha, x, 1, y, 1);
    },
    setThreads(n, split = "rows") {
      if (!Number.isInteger(n) || n < 1) throw new RangeError(`BLAS threads must be ≥ 1, got ${n}`);
      s.openblas_set_num_threads(split === "openblas" ? n : 1);
      ownThreads = split === "openblas" ? n : 0;
      const count = split === "rows" ? n - 1 : 0;
      if ((helpers?.count ?? 0) === count) return;
      helpers?.close();
      helpers = count > 0 ? new BlasHelpers(path, count) : null;
    },
  };
  return loaded;
}

export function openBlasUnavailableReason(): string {
  openBlas();
  return loadError;
}
