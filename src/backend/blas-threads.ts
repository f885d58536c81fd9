/**
 * Matrix products split over threads so that the thread count changes no number.
 *
 * OpenBLAS's own threads cut a product where the thread count says, and some entries are
 * then summed differently (docs/performance.md, "Threads"). Here the rows of C are cut into
 * contiguous ranges whose boundaries are multiples of ROW_ALIGN, and each range is one
 * single-threaded `cblas_sgemm`, the first on the calling thread, the others on helper
 * threads. OpenBLAS packs the rows of a product in panels that start at multiples of
 * ROW_ALIGN, so on the kernels checked (Haswell, Zen, Sandybridge, Prescott) a product cut
 * there computes every entry exactly as the whole product on one thread does
 * (test/blas_threads_test.ts): any thread count gives the one-thread numbers.
 *
 * The helpers are Node-style workers (`node:worker_threads`, unreferenced, so they never
 * keep the process alive) waiting on shared memory: the calling thread hands out the
 * pointers and blocks until every helper is done, so the memory they point to stays put.
 */
import { Worker } from "node:worker_threads";
import { CONTROL, STATE } from "./blas-control.ts";

/** Row boundaries are multiples of this: a multiple of OpenBLAS's panel widths checked. */
export const ROW_ALIGN = 24;

/** A product is cut only into ranges of at least this much work (a hand-off costs ~50 µs). */
export const MIN_FLOPS_PER_RANGE = 1 << 22;

/** How long a helper may take to load the library before setThreads gives up. */
const START_TIMEOUT_MS = 30_000;

export interface RowProduct {
  transA: boolean;
  transB: boolean;
  M: number;
  N: number;
  K: number;
  alpha: number;
  A: Float32Array;
  B: Float32Array;
  beta: number;
  C: Float32Array;
}

/**
 * The row boundaries [0, …, M] of an M×N×K product on `threads` threads: as even as
 * multiples of ROW_ALIGN allow, the last range taking the remainder, no range under
 * MIN_FLOPS_PER_RANGE of work. Only the shapes and the thread count decide it; where the
 * cuts fall changes no number (see above).
 */
export function rowBounds(M: number, N: number, K: number, threads: number): number[] {
  const units = Math.floor(M / ROW_ALIGN);
  const byWork = Math.floor((2 * M * N * K) / MIN_FLOPS_PER_RANGE);
  const parts = Math.max(1, Math.min(threads, units, byWork));
  const bounds = [0];
  for (let p = 1; p < parts; p++) bounds.push(Math.round((p * units) / parts) * ROW_ALIGN);
  bounds.push(M);
  return bounds;
}

/** Rows [i0, i1) of a product as its own product: the operands' views and strides. */
export function rowSlice(p: RowProduct, i0: number, i1: number) {
  const { transA, transB, M, N, K } = p;
  return {
    M: i1 - i0,
    A: p.A.subarray(transA ? i0 : i0 * K),
    lda: transA ? M : K,
    ldb: transB ? K : N,
    C: p.C.subarray(i0 * N),
    ldc: N,
  };
}

const address = (a: Float32Array) =>
  BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(a as Float32Array<ArrayBuffer>)));

interface Helper {
  worker: Worker;
  ints: Int32Array;
  floats: Float32Array;
  pointers: BigInt64Array;
}

/** `count` helper threads, each with OpenBLAS (at `path`) loaded; started synchronously. */
export class BlasHelpers {
  readonly #helpers: Helper[] = [];

  constructor(path: string, count: number) {
    for (let h = 0; h < count; h++) {
      const control = new SharedArrayBuffer(CONTROL.bytes);
      const ints = new Int32Array(control);
      ints[0] = STATE.starting;
      const worker = new Worker(new URL("./blas-worker.ts", import.meta.url), {
        workerData: { path, control },
      });
      worker.unref();
      this.#helpers.push({
        worker,
        ints,
        floats: new Float32Array(control),
        pointers: new BigInt64Array(control, CONTROL.pointerByte, 3),
      });
    }
    const deadline = performance.now() + START_TIMEOUT_MS;
    for (const { ints } of this.#helpers) {
      while (Atomics.load(ints, 0) === STATE.starting) {
        if (performance.now() > deadline) {
          this.close();
          throw new Error(`a BLAS helper thread did not load ${path} within 30 s`);
        }
        Atomics.wait(ints, 0, STATE.starting, 100);
      }
    }
  }

  get count(): number {
    return this.#helpers.length;
  }

  /**
   * Rows [bounds[r], bounds[r+1]) of the product: range 0 by `own` on this thread, range r
   * on helper r − 1; returns when all are done. Needs bounds.length − 2 ≤ count.
   */
  run(p: RowProduct, bounds: number[], own: (i0: number, i1: number) => void): void {
    const f = CONTROL.ints;
    const started: Helper[] = [];
    for (let r = 1; r + 1 < bounds.length; r++) {
      const h = this.#helpers[r - 1], s = rowSlice(p, bounds[r], bounds[r + 1]);
      const { ints, floats, pointers } = h;
      ints[f.order] = 101;
      ints[f.transA] = p.transA ? 112 : 111;
      ints[f.transB] = p.transB ? 112 : 111;
      ints[f.M] = s.M;
      ints[f.N] = p.N;
      ints[f.K] = p.K;
      ints[f.lda] = s.lda;
      ints[f.ldb] = s.ldb;
      ints[f.ldc] = s.ldc;
      floats[f.alpha] = p.alpha;
      floats[f.beta] = p.beta;
      pointers[0] = address(s.A);
      pointers[1] = address(p.B);
      pointers[2] = address(s.C);
      Atomics.store(ints, 0, STATE.job);
      Atomics.notify(ints, 0);
      started.push(h);
    }
    own(bounds[0], bounds[1]);
    for (const { ints } of started) {
      while (Atomics.load(ints, 0) !== STATE.done) Atomics.wait(ints, 0, STATE.job);
      Atomics.store(ints, 0, STATE.idle);
    }
  }

  /** Stops the helpers (each finishes waiting and exits). */
  close(): void {
    for (const { ints, worker } of this.#helpers) {
      Atomics.store(ints, 0, STATE.quit);
      Atomics.notify(ints, 0);
      worker.unref();
    }
    this.#helpers.length = 0;
  }
}
