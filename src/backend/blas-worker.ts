/**
 * One helper thread of src/backend/blas-threads.ts: waits on its control block, computes the
 * rows of a product it is handed with single-threaded OpenBLAS (the same library, loaded
 * once per process, so the same kernels), or rows of an im2col matrix with the main
 * thread's own wasm kernel (heap-kernels.wat) on a copy of the images in a memory of its own,
 * and says when it is done. It reads and writes the main thread's memory through raw
 * pointers, valid because the main thread waits meanwhile.
 */
import { workerData } from "node:worker_threads";
import { CONTROL, GEMM_PARAMETERS, JOB, STATE } from "./blas-control.ts";
import { HEAP_KERNELS_WASM_BASE64 } from "./heap-kernels-wasm.ts";

const { path, control } = workerData as { path: string; control: SharedArrayBuffer };
const ints = new Int32Array(control), floats = new Float32Array(control);
const pointers = new BigInt64Array(control, CONTROL.pointerByte, 3);
const lib = Deno.dlopen(path, {
  cblas_sgemm: { parameters: GEMM_PARAMETERS, result: "void" },
});
Atomics.store(ints, 0, STATE.idle);
Atomics.notify(ints, 0);

function pointer(i: number) {
  return Deno.UnsafePointer.create(pointers[i]);
}

function gemm(): void {
  const i = CONTROL.ints;
  lib.symbols.cblas_sgemm(
    ints[i.order],
    ints[i.transA],
    ints[i.transB],
    ints[i.M],
    ints[i.N],
    ints[i.K],
    floats[i.alpha],
    pointer(0),
    ints[i.lda],
    pointer(1),
    ints[i.ldb],
    floats[i.beta],
    pointer(2),
    ints[i.ldc],
  );
}

interface Kernels {
  memory: WebAssembly.Memory;
  im2col(x: number, cols: number, r0: number, r1: number, ...geometry: number[]): void;
}
let kernels: Kernels | null = null;

/** Rows of an im2col matrix: the images copied in, the rows made here, then copied out. */
function im2col(): void {
  const i = CONTROL.ints;
  const imageBytes = 4 * ints[i.imageEntries], colsBytes = 4 * ints[i.colsEntries];
  if (!kernels) {
    const bytes = Uint8Array.from(atob(HEAP_KERNELS_WASM_BASE64), (c) => c.charCodeAt(0));
    const memory = new WebAssembly.Memory({ initial: 1 });
    const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } });
    kernels = { memory, ...(instance.exports as unknown as Omit<Kernels, "memory">) };
  }
  const { memory } = kernels;
  const need = imageBytes + colsBytes - memory.buffer.byteLength;
  if (need > 0) memory.grow(Math.ceil(need / 65536));
  const heap = new Uint8Array(memory.buffer);
  const foreign = (p: number, n: number) =>
    new Uint8Array(Deno.UnsafePointerView.getArrayBuffer(pointer(p)!, n));
  heap.set(foreign(0, imageBytes));
  const geometry = Array.from(ints.subarray(i.geometry, i.geometry + 11));
  kernels.im2col(0, imageBytes, ints[i.r0], ints[i.r1], ...geometry);
  foreign(1, colsBytes).set(heap.subarray(imageBytes, imageBytes + colsBytes));
}

for (;;) {
  // idle, or done until the main thread has taken the result: wait for a change
  const state = Atomics.load(ints, 0);
  if (state === STATE.quit) break;
  if (state !== STATE.job) {
    Atomics.wait(ints, 0, state);
    continue;
  }
  let outcome: number = STATE.done;
  try {
    if (ints[CONTROL.ints.kind] === JOB.im2col) im2col();
    else gemm();
  } catch {
    outcome = STATE.failed; // the main thread throws; a helper that hung would hang it
  }
  Atomics.store(ints, 0, outcome);
  Atomics.notify(ints, 0);
}
lib.close();
