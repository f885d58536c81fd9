import assert from "node:assert/strict";
import { adamOnHeap, HeapArray, momentumOnHeap } from "../src/backend/heap-kernels.ts";
import { selectBackend } from "../src/backend/select.ts";
import { tf } from "../src/backend/tf.ts";
import {
  adamUpdateArrays,
  heapViewForUpdate,
  maxoutBackwardWasm,
  maxoutForwardWasm,
  momentumIncrementArrays,
} from "../src/backend/wasm-kernels.ts";
import { Rng } from "../src/rng/streams.ts";

/** Values that test the rounding: wide magnitudes, signed zeros, subnormals, exact ties. */
function awkward(seed: number, n: number): Float32Array {
  const d = new Rng(seed).stream("heap-kernels").at(0);
  const out = d.normal(n);
  const special = [0, -0, 1e-45, -1e-40, 3.4e38, -1, 1, 0.5, 1e-20, 65504];
  for (let i = 0; i < n; i++) {
    const scale = 10 ** Math.floor(d.nextFloat24() * 12 - 6);
    out[i] = i % 37 < special.length ? special[i % 37] : out[i] * scale;
  }
  return out;
}

const bits = (a: Float32Array) => new Uint32Array(a.buffer, a.byteOffset, a.length);
const ADAM = {
  beta1: 0.5,
  beta2: 0.999,
  c1: 1 - 0.5 ** 7,
  c2: 1 - 0.999 ** 7,
  lr: 2e-4,
  epsilon: 1e-8,
};

Deno.test("Adam's heap kernel gives adamUpdateArrays' JavaScript numbers bit for bit", async () => {
  await selectBackend("wasm");
  for (const n of [1, 3, 4, 1003, 4096]) {
    const [p, g, m, v] = [1, 2, 3, 4].map((s) => awkward(s + n, n));
    for (let i = 0; i < n; i++) v[i] = Math.abs(v[i]); // a second moment is not negative
    // the reference: plain arrays, so adamUpdateArrays runs its JavaScript loop
    const ref = { P: p.slice(), M: m.slice(), V: v.slice() };
    adamUpdateArrays(n, { P: p, G: g, M: m, V: v }, ref, ADAM);
    // the same on the heap, in place as the fused step does it
    const t = [p, g, m, v].map((a) => tf.tensor1d(a));
    const [P, G, M, V] = t.map(heapViewForUpdate);
    assert.equal(
      adamOnHeap(n, { P, G, M, V }, { P, M, V }, {
        b1: Math.fround(0.5),
        a1: Math.fround(0.5),
        b2: Math.fround(0.999),
        a2: Math.fround(1 - 0.999),
        c2: Math.fround(ADAM.c2),
        step: Math.fround(ADAM.lr / ADAM.c1),
        eps: Math.fround(1e-8),
      }),
      true,
    );
    for (const [name, heap, js] of [["p", P, ref.P], ["m", M, ref.M], ["v", V, ref.V]] as const) {
      const a = bits(heap), b = bits(js);
      for (let i = 0; i < n; i++) {
        if (a[i] !== b[i]) {
          assert.fail(`n ${n}, ${name}[${i}]: heap ${heap[i]}, JavaScript ${js[i]}`);
        }
      }
    }
    t.forEach((x) => x.dispose());
  }
});

Deno.test("adamUpdateArrays takes the heap kernel only when every array is on the heap", async () => {
  await selectBackend("wasm");
  const on = tf.tensor1d([1, 2, 3]), view = heapViewForUpdate(on), off = new Float32Array(3);
  const c = { b1: 0.5, a1: 0.5, b2: 0.9, a2: 0.1, c2: 0.1, step: 0.01, eps: 1e-8 };
  assert.equal(
    adamOnHeap(3, { P: view, G: off, M: view, V: view }, { P: view, M: view, V: view }, c),
    false,
  );
  assert.throws(
    () => adamOnHeap(4, { P: view, G: view, M: view, V: view }, { P: view, M: view, V: view }, c),
    /Adam over 4 values: an array holds 3/,
  );
  on.dispose();
});

Deno.test("a HeapArray lies on the wasm heap, keeps its memory until freed, and is plain elsewhere", async () => {
  await selectBackend("wasm");
  const heap = (tf.backend() as unknown as { wasm: { HEAPU8: Uint8Array } }).wasm.HEAPU8;
  const a = new HeapArray();
  const first = a.view(1000);
  assert.equal(first.buffer, heap.buffer);
  first[999] = 7;
  const again = a.view(500); // smaller: the same memory
  assert.equal(again.byteOffset, first.byteOffset);
  assert.equal(a.view(1000)[999], 7);
  a.free();
  await tf.setBackend("cpu");
  const plain = new HeapArray().view(4);
  assert.notEqual(plain.buffer, heap.buffer);
  assert.equal(plain.length, 4);
  await selectBackend("wasm");
});

Deno.test("the momentum heap kernel gives momentumIncrementArrays' JavaScript numbers bit for bit", async () => {
  await selectBackend("wasm");
  const [mu, lr] = [Math.fround(0.7), Math.fround(0.004)];
  for (const n of [1, 3, 4, 1003, 4096]) {
    const [v, g] = [5, 6].map((s) => awkward(s + n, n));
    // the reference: plain arrays, so momentumIncrementArrays runs its JavaScript loop
    const ref = new Float32Array(n);
    momentumIncrementArrays(n, { V: v, G: g }, ref, mu, lr);
    const t = [v, g, new Float32Array(n)].map((a) => tf.tensor1d(a));
    const [V, G, INC] = t.map(heapViewForUpdate);
    assert.equal(momentumOnHeap(n, { V, G }, INC, mu, lr), true);
    const a = bits(INC), b = bits(ref);
    for (let i = 0; i < n; i++) {
      if (a[i] !== b[i]) assert.fail(`n ${n}, inc[${i}]: heap ${INC[i]}, JavaScript ${ref[i]}`);
    }
    // in place over the velocity, as the kernel allows
    assert.equal(momentumOnHeap(n, { V, G }, V, mu, lr), true);
    assert.deepEqual(bits(V), bits(ref));
    t.forEach((x) => x.dispose());
  }
  const on = tf.tensor1d([1, 2, 3]), view = heapViewForUpdate(on);
  assert.equal(momentumOnHeap(3, { V: view, G: new Float32Array(3) }, view, mu, lr), false);
  assert.throws(
    () => momentumOnHeap(4, { V: view, G: view }, view, mu, lr),
    /a momentum increment over 4 values: an array holds 3/,
  );
  on.dispose();
});

Deno.test("Sum over leading axes on the heap is the wasm backend's own Sum bit for bit", async () => {
  await selectBackend("wasm");
  const cases: { shape: number[]; axes: number[]; keepDims?: boolean }[] = [
    { shape: [16, 9, 9, 20], axes: [0, 1, 2] }, // a conv layer's bias gradient
    { shape: [128, 803], axes: [0] }, // a dense layer's
    { shape: [3, 7, 5], axes: [1, 0], keepDims: true },
    { shape: [4001, 1], axes: [0] },
  ];
  for (const { shape, axes, keepDims = false } of cases) {
    const n = shape.slice(0, axes.length).reduce((p, d) => p * d, 1);
    const c = shape.slice(axes.length).reduce((p, d) => p * d, 1);
    const values = awkward(n + c, n * c).map((v) => Math.min(Math.abs(v), 1e30) * Math.sign(v));
    const x = tf.tensor(values, shape);
    const got = tf.sum(x, axes, keepDims);
    // TF.js's own kernel: the reduced axes moved last by hand, so no replacement takes the call
    const order = [...shape.keys()].filter((a) => !axes.includes(a)).concat(axes.toSorted());
    const rest = shape.length - axes.length;
    const moved = tf.transpose(x, order);
    const own = tf.sum(moved, [...Array(axes.length).keys()].map((i) => rest + i), keepDims);
    const want = new Float32Array(c);
    for (let p = 0; p < n; p++) {
      for (let j = 0; j < c; j++) want[j] = Math.fround(want[j] + values[p * c + j]);
    }
    const wantShape = keepDims
      ? shape.map((d, a) => (axes.includes(a) ? 1 : d))
      : shape.slice(axes.length);
    assert.deepEqual(got.shape, wantShape, `${shape} over ${axes}`);
    const gotValues = got.dataSync() as Float32Array;
    assert.deepEqual(
      bits(gotValues),
      bits(own.dataSync() as Float32Array),
      `${shape} over ${axes}`,
    );
    assert.deepEqual(bits(gotValues), bits(want), `${shape} over ${axes}: the sequential sum`);
    tf.dispose([x, got, moved, own]);
  }
  // what it does not take goes to the backend's own kernel: int32, trailing axes, every axis
  const ints = tf.tensor([[1, 2], [3, 4]], [2, 2], "int32");
  assert.deepEqual(Array.from(tf.sum(ints, 0).dataSync()), [4, 6]);
  assert.deepEqual(Array.from(tf.sum(tf.tensor([[1, 2], [3, 4]]), 1).dataSync()), [3, 7]);
  assert.equal(tf.sum(tf.tensor([[1, 2], [3, 4]])).dataSync()[0], 10);
});

Deno.test("maxout over pairs on the heap: values, winners and gradients bit for bit as defined", async () => {
  await selectBackend("wasm");
  // 4·k groups take four lanes at a time, the rest one at a time: 4 · 250 + 3 groups
  const groups = 1003;
  const z = awkward(7, 2 * groups);
  // ties, zeros of both signs and NaN in either piece
  const pairs: [number, number][] = [[1, 1], [0, -0], [-0, 0], [NaN, 1], [1, NaN], [-1, -2]];
  pairs.forEach(([a, b], i) => {
    z[2 * i] = a;
    z[2 * i + 1] = b;
    z[2 * (groups - 1 - i)] = a; // the one-lane tail too
    z[2 * (groups - 1 - i) + 1] = b;
  });
  const dy = awkward(8, groups);
  const x = tf.tensor(z, [groups, 2]);
  const { value, winner } = maxoutForwardWasm(x, 2)!;
  const dyt = tf.tensor(dy);
  const dz = maxoutBackwardWasm(dyt, winner, 2, [groups, 2])!;
  const wantValue = new Float32Array(groups), wantWinner = new Int32Array(groups);
  const wantDz = new Float32Array(2 * groups);
  for (let g = 0; g < groups; g++) {
    const second = z[2 * g + 1] > z[2 * g];
    wantValue[g] = second ? z[2 * g + 1] : z[2 * g];
    wantWinner[g] = second ? 1 : 0;
    wantDz[2 * g + wantWinner[g]] = dy[g];
  }
  assert.deepEqual(bits(value.dataSync() as Float32Array), bits(wantValue));
  assert.deepEqual([...winner.dataSync()], [...wantWinner]);
  assert.deepEqual(bits(dz.dataSync() as Float32Array), bits(wantDz));
  tf.dispose([x, dyt, value, winner, dz]);
});
