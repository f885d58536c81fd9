/**
 * The shared memory between the main thread and one BLAS helper thread
 * (src/backend/blas-threads.ts, src/backend/blas-worker.ts): a state word to wait on, then
 * one job's arguments (a `cblas_sgemm` call's, or an im2col's), the arrays as raw pointers.
 */

/** The state word's values: who acts next. */
export const STATE = { starting: -1, idle: 0, job: 1, done: 2, quit: 3, failed: 4 } as const;

/** What a job is: rows of a product, or rows of an im2col matrix (src/backend/conv-blas.ts). */
export const JOB = { gemm: 0, im2col: 1 } as const;

export const CONTROL = {
  bytes: 160,
  /** Int32 (and Float32, for alpha and beta) slots after the state word. */
  ints: {
    order: 1,
    transA: 2,
    transB: 3,
    M: 4,
    N: 5,
    K: 6,
    lda: 7,
    ldb: 8,
    ldc: 9,
    alpha: 10,
    beta: 11,
    kind: 12,
    /** An im2col job: rows [r0, r1) counted from the first image's, the entries of the images and of the rows. */
    r0: 13,
    r1: 14,
    imageEntries: 15,
    colsEntries: 16,
    /** Then the window geometry's 11 numbers, in heap-kernels.ts's order. */
    geometry: 17,
  },
  /** Where the three pointers (A, B, C; for im2col the images and the rows) start, as BigInt64. */
  pointerByte: 128,
} as const;
/** `cblas_sgemm`'s parameters with the operands as pointers. */
export const GEMM_PARAMETERS = [
  "i32", // order
  "i32", // transA
  "i32", // transB
  "i32", // M
  "i32", // N
  "i32", // K
  "f32", // alpha
  "pointer", // A
  "i32", // lda
  "pointer", // B
  "i32", // ldb
  "f32", // beta
  "pointer", // C
  "i32", // ldc
] as const;
