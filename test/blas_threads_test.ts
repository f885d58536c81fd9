/**
 * Products split over threads (src/backend/blas-threads.ts): where the rows are cut, and
 * that 1, 2 and 4 threads give the same numbers bit for bit on the products the MLP models
 * and the convolutions run (the thread count is then no part of a result's identity).
 */
import assert from "node:assert/strict";
import { MIN_FLOPS_PER_RANGE, ROW_ALIGN, rowBounds } from "../src/backend/blas-threads.ts";
import {
  chunkRows,
  convBackpropFilter,
  convBackpropInput,
  convForward,
  type ConvGeometry,
} from "../src/backend/conv-blas.ts";
import { HeapArray } from "../src/backend/heap-kernels.ts";
import { openBlas, openBlasUnavailableReason } from "../src/backend/openblas.ts";
import { selectBackend } from "../src/backend/select.ts";

const blas = openBlas();
const ignore = blas === null;
if (ignore) console.warn(`BLAS thread tests skipped: ${openBlasUnavailableReason()}`);

/** Deterministic values in [−0.5, 0.5) without touching any backend. */
function values(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    out[i] = x / 2 ** 32 - 0.5;
  }
  return out;
}

/** The entries where a and b differ (as bits: NaN or −0 would count). */
function differing(a: Float32Array, b: Float32Array): number {
  const x = new Int32Array(a.buffer, a.byteOffset, a.length);
  const y = new Int32Array(b.buffer, b.byteOffset, b.length);
  let n = 0;
  for (let i = 0; i < x.length; i++) n += +(x[i] !== y[i]);
  return n;
}

/** `f`'s output at each thread count; threads back to 1 afterwards. */
function atThreads(counts: number[], f: () => Float32Array): Float32Array[] {
  try {
    return counts.map((n) => {
      blas!.setThreads(n);
      return f();
    });
  } finally {
    blas!.setThreads(1);
  }
}

Deno.test("rows are cut at multiples of ROW_ALIGN, evenly, never into too little work", () => {
  assert.equal(ROW_ALIGN, 24);
  // mnist-mlp's G layer 2 (100 rows), D's layers (200 and 300 rows), an update (1200 rows)
  assert.deepEqual(rowBounds(100, 1200, 1200, 1), [0, 100]);
  assert.deepEqual(rowBounds(100, 1200, 1200, 2), [0, 48, 100]);
  assert.deepEqual(rowBounds(100, 1200, 1200, 4), [0, 24, 48, 72, 100]);
  assert.deepEqual(rowBounds(100, 1200, 1200, 8), [0, 24, 48, 72, 100]);
  assert.deepEqual(rowBounds(300, 240, 1200, 2), [0, 144, 300]);
  assert.deepEqual(rowBounds(1200, 1200, 100, 3), [0, 408, 792, 1200]);
  // under two aligned ranges' rows, or too little work per range: one call
  assert.deepEqual(rowBounds(47, 1200, 1200, 4), [0, 47]);
  assert.deepEqual(rowBounds(48, 1200, 1200, 4), [0, 24, 48]);
  const flops = (M: number, N: number, K: number) => 2 * M * N * K;
  assert.ok(flops(200, 1, 240) < MIN_FLOPS_PER_RANGE);
  assert.deepEqual(rowBounds(200, 1, 240, 4), [0, 200]);
  assert.deepEqual(rowBounds(240, 80, 240, 4), [0, 120, 240]);
});

// [transA, transB, M, N, K, beta]: mnist-mlp's fused step (G forward, D forward on 2B rows,
// input deltas on 3B rows, the weight updates Xᵀ·δ into the velocity), a rows count that is
// no multiple of ROW_ALIGN, and both operands transposed
const PRODUCTS: [boolean, boolean, number, number, number, number][] = [
  [false, false, 100, 1200, 1200, 1],
  [false, false, 200, 1200, 784, 1],
  [false, true, 300, 240, 1200, 0],
  [false, true, 100, 784, 1200, 0],
  [true, false, 784, 1200, 200, 0.5],
  [true, false, 1200, 1200, 100, 0.5],
  [false, false, 131, 257, 190, 0],
  [true, true, 150, 170, 310, 0],
];

for (const [transA, transB, M, N, K, beta] of PRODUCTS) {
  const name = `${transA ? "Aᵀ" : "A"}·${transB ? "Bᵀ" : "B"} ${M}×${N}×${K}`;
  Deno.test({
    name: `${name}: 1, 2 and 4 threads give the same bits (cut into several ranges)`,
    ignore,
    fn() {
      assert.ok(rowBounds(M, N, K, 2).length > 2, "the product is cut on 2 threads");
      const A = values(M * K, M), B = values(K * N, N), C0 = values(M * N, K);
      const [one, two, four] = atThreads([1, 2, 4], () => {
        const C = C0.slice();
        blas!.gemm(transA, transB, M, N, K, 0.75, A, B, beta, C);
        return C;
      });
      assert.equal(differing(one, two), 0);
      assert.equal(differing(one, four), 0);
      // a real product, not a copy of C: entry (1, 2) against a float64 sum
      let sum = 0;
      for (let k = 0; k < K; k++) {
        const a = transA ? A[k * M + 1] : A[1 * K + k], b = transB ? B[2 * K + k] : B[k * N + 2];
        sum += a * b;
      }
      const expected = 0.75 * sum + beta * C0[1 * N + 2];
      assert.ok(Math.abs(one[1 * N + 2] - expected) < 1e-4, `${one[1 * N + 2]} vs ${expected}`);
    },
  });
}

/** cifar10-conv's D layer 1 (8×8 filter, pad 4, 32×32×3 in, 32 × 2 pieces out), batch 6. */
const CONV: ConvGeometry = {
  batch: 6,
  inHeight: 32,
  inWidth: 32,
  inChannels: 3,
  outHeight: 33,
  outWidth: 33,
  outChannels: 64,
  filterHeight: 8,
  filterWidth: 8,
  strideHeight: 1,
  strideWidth: 1,
  padTop: 4,
  padLeft: 4,
};

/** cifar10-conv's D layer 2 (8×8 filter, pad 3, 16×16×32 in), batch 20: three im2col chunks. */
const CONV_CHUNKED: ConvGeometry = {
  ...CONV,
  batch: 20,
  inHeight: 16,
  inWidth: 16,
  inChannels: 32,
  outHeight: 15,
  outWidth: 15,
  padTop: 3,
  padLeft: 3,
};

for (const g of [CONV, CONV_CHUNKED]) {
  Deno.test({
    name: `convolutions (forward, input and filter gradients), ${g.inHeight}×${g.inWidth}×` +
      `${g.inChannels} batch ${g.batch}: 1, 2 and 4 threads give the same bits`,
    ignore,
    fn: () => convolutionsAtThreads(g),
  });
}

async function convolutionsAtThreads(g: ConvGeometry) {
  // the kernels run on the wasm heap: every array there, allocated before any view is taken
  // (an allocation may grow the heap, detaching the views before it)
  await selectBackend("wasm+openblas");
  const positions = g.batch * g.outHeight * g.outWidth;
  const window = g.filterHeight * g.filterWidth * g.inChannels;
  const sizes = {
    x: g.batch * g.inHeight * g.inWidth * g.inChannels,
    filter: window * g.outChannels,
    dy: positions * g.outChannels,
    y: positions * g.outChannels,
    cols: chunkRows(window) * window,
  };
  const arrays = {
    x: new HeapArray(),
    filter: new HeapArray(),
    dy: new HeapArray(),
    y: new HeapArray(),
    dx: new HeapArray(),
    df: new HeapArray(),
    cols: new HeapArray(),
  };
  const length = { ...sizes, dx: sizes.x, df: sizes.filter };
  const views = () => {
    for (const [name, a] of Object.entries(arrays)) a.view(length[name as keyof typeof length]);
    return Object.fromEntries(
      Object.entries(arrays).map((
        [name, a],
      ) => [name, a.view(length[name as keyof typeof length])]),
    ) as Record<keyof typeof arrays, Float32Array>;
  };
  const none = () => {};
  const run = () => {
    const v = views();
    v.x.set(values(sizes.x, 1));
    v.filter.set(values(sizes.filter, 2));
    v.dy.set(values(sizes.dy, 3));
    convForward(blas!, none, v.x, v.filter, g, v.y, v.cols);
    convBackpropInput(blas!, none, v.dy, v.filter, g, v.dx, v.cols);
    convBackpropFilter(blas!, none, v.x, v.dy, g, v.df, v.cols);
    const all = new Float32Array(v.y.length + v.dx.length + v.df.length);
    all.set(v.y);
    all.set(v.dx, v.y.length);
    all.set(v.df, v.y.length + v.dx.length);
    return all;
  };
  const [one, two, four] = atThreads([1, 2, 4], run);
  for (const a of Object.values(arrays)) a.free();
  assert.equal(differing(one, two), 0);
  assert.equal(differing(one, four), 0);
  assert.ok(one.some((v) => v !== 0));
}

Deno.test({
  name: "setThreads: the count is recorded, and refused when not a positive integer",
  ignore,
  fn() {
    try {
      blas!.setThreads(3);
      assert.equal(blas!.info().threads, 3);
    } finally {
      blas!.setThreads(1);
    }
    assert.equal(blas!.info().threads, 1);
    assert.throws(() => blas!.setThreads(0), /BLAS threads must be ≥ 1, got 0/);
  },
});
