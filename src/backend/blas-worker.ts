/**
 * One helper thread of src/backend/blas-threads.ts: waits on its control block, computes the
 * rows of a product it is handed with single-threaded OpenBLAS (the same library, loaded
 * once per process, so the same kernels), and says when it is done. It reads and writes the
 * main thread's memory through raw pointers, valid because the main thread waits meanwhile.
 */
import { workerData } from "node:worker_threads";
import { CONTROL, GEMM_PARAMETERS, STATE } from "./blas-control.ts";

const { path, control } = workerData as { path: string; control: SharedArrayBuffer };
const ints = new Int32Array(control), floats = new Float32Array(control);
const pointers = new BigInt64Array(control, CONTROL.pointerByte, 3);
const lib = Deno.dlopen(path, {
  cblas_sgemm: { parameters: GEMM_PARAMETERS, result: "void" },
});
Atomics.store(ints, 0, STATE.idle);
Atomics.notify(ints, 0);

for (;;) {
  // idle, or done until the main thread has taken the result: wait for a change
  const state = Atomics.load(ints, 0);
  if (state === STATE.quit) break;
  if (state !== STATE.job) {
    Atomics.wait(ints, 0, state);
    continue;
  }
  const p = (i: number) => Deno.UnsafePointer.create(pointers[i]);
  const i = CONTROL.ints;
  lib.symbols.cblas_sgemm(
    ints[i.order],
    ints[i.transA],
    ints[i.transB],
    ints[i.M],
    ints[i.N],
    ints[i.K],
    floats[i.alpha],
    p(0),
    ints[i.lda],
    p(1),
    ints[i.ldb],
    floats[i.beta],
    p(2),
    ints[i.ldc],
  );
  Atomics.store(ints, 0, STATE.done);
  Atomics.notify(ints, 0);
}
lib.close();
