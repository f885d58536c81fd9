/**
 * The shared memory between the main thread and one BLAS helper thread
 * (src/backend/blas-threads.ts, src/backend/blas-worker.ts): a state word to wait on, then
 * one `cblas_sgemm` call's arguments, the operands as raw pointers.
 */

/** The state word's values: who acts next. */
export const STATE = { starting: -1, idle: 0, job: 1, done: 2, quit: 3 } as const;

export const CONTROL = {
  bytes: 96,
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
  },
  /** Where the three pointers (A, B, C) start, as BigInt64. */
  pointerByte: 64,
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
