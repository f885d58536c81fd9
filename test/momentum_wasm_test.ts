/**
 * pylearn2's momentum update with its increment on the wasm heap (src/backend/wasm-kernels.ts,
 * momentumIncrementWasm) against the TF.js op sequence it replaces, run on the cpu backend:
 * bit for bit over several steps and a changing momentum, with the tensor count flat and each
 * parameter on new memory after every step.
 */
import assert from "node:assert/strict";
import { selectBackend } from "../src/backend/select.ts";
import { tf } from "../src/backend/tf.ts";
import { momentumIncrementWasm, sumOfSquaresWasm } from "../src/backend/wasm-kernels.ts";
import { createOptimizer } from "../src/models/optimizers.ts";

function values(n: number, seed: number, scale: number): Float32Array {
  const out = new Float32Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    out[i] = (x / 2 ** 32 - 0.5) * scale;
  }
  return out;
}

const bits = (a: Float32Array) => [...new Uint32Array(a.buffer, a.byteOffset, a.length)];

async function train(backend: "wasm" | "cpu") {
  await selectBackend(backend);
  // sizes with a scalar tail after the kernel's groups of four
  const shapes = [[37, 11], [11], [1]];
  const params = shapes.map((s, k) =>
    tf.tidy(() => tf.variable(tf.tensor(values(s.reduce((a, b) => a * b, 1), k + 1, 2), s)))
  );
  // an lr that float32 does not hold, decayed every step; momentum 0.5 → 0.7 over epochs 1–3
  const opt = createOptimizer(
    {
      kind: "momentum",
      lr: 0.004,
      decay: 1.37,
      minLr: 1e-6,
      momentum: { initial: 0.5, final: 0.7, start: 1, saturate: 3 },
    },
    params,
    ["W", "b", "c"],
  );
  const counts: number[] = [];
  const memoryMoved: boolean[] = [];
  for (let t = 0; t < 6; t++) {
    // gradients over many magnitudes, zeros included
    const grads = params.map((p, k) =>
      tf.tensor(
        values(p.size, 100 + 7 * t + k, t % 2 ? 1e-3 : 10).map((g, i) => i % 5 === 1 ? 0 : g),
        p.shape,
      )
    );
    const before = params.map((p) => p.dataId);
    opt.step(grads, t);
    memoryMoved.push(params.every((p, k) => p.dataId !== before[k]));
    tf.dispose(grads);
    counts.push(tf.memory().numTensors);
  }
  const state = [...params, ...opt.slots().map(([, v]) => v)].map((v) =>
    v.dataSync().slice() as Float32Array
  );
  opt.dispose();
  tf.dispose(params);
  return { state, counts, memoryMoved };
}

Deno.test("pylearn2 momentum on the wasm heap equals TF.js's ops bit for bit; flat tensors; new memory", async () => {
  const wasm = await train("wasm");
  const cpu = await train("cpu");
  await selectBackend("wasm");
  assert.equal(wasm.state.length, 6);
  wasm.state.forEach((s, k) => assert.deepEqual(bits(s), bits(cpu.state[k]), `state ${k}`));
  // the velocities moved: the comparison is not of zeros
  assert.ok(wasm.state.slice(3).every((v) => v.some((x) => x !== 0)));
  assert.ok(wasm.counts.every((n) => n === wasm.counts[0]), `tensors ${wasm.counts}`);
  // XNNPACK keeps packed weights per tensor: an update must not write a weight in place
  assert.ok(wasm.memoryMoved.every(Boolean));
});

Deno.test("the momentum increment on the heap is the ops' v·μ − g·lr; refuses unequal shapes; none off wasm", async () => {
  await selectBackend("wasm");
  const v = tf.tensor1d([1, -2, 0.1, 3e-39, 0, -0, 7]),
    g = tf.tensor1d([4, 0.25, -1, 1, 0, 0, 1e30]);
  const inc = momentumIncrementWasm(v, g, 0.6, 0.004)!;
  const f = Math.fround, mu = f(0.6), lr = f(0.004);
  const expected = [1, -2, 0.1, 3e-39, 0, -0, 7].map((x, i) =>
    f(f(f(x) * mu) - f(f([4, 0.25, -1, 1, 0, 0, 1e30][i]) * lr))
  );
  assert.deepEqual(bits(inc.dataSync() as Float32Array), bits(Float32Array.from(expected)));
  assert.ok(Object.is(inc.dataSync()[5], -0)); // (−0)·μ − 0·lr: a signed zero kept
  assert.throws(
    () => momentumIncrementWasm(v, tf.tensor1d([1, 2]), 0.5, 0.1),
    /^Error: momentum increment: velocity 7 against gradient 2$/,
  );
  tf.dispose([v, g, inc]);
  await tf.setBackend("cpu");
  const a = tf.tensor1d([1]);
  assert.equal(momentumIncrementWasm(a, a, 0.5, 0.1), null);
  a.dispose();
  await selectBackend("wasm");
});

Deno.test("Σ x² on the heap is tf.sum(tf.square(x)) bit for bit; none off wasm", async () => {
  await selectBackend("wasm");
  for (
    const [n, shape] of [[1, [1]], [7, [7]], [1003, [17, 59]], [300_000, [300, 1000]]] as const
  ) {
    // magnitudes from 1e-6 to 1e6: a float64 sum, or one in another order, rounds differently
    const x = tf.tensor(values(n, n, 2).map((v, i) => v * 10 ** ((i % 13) - 6)), [...shape]);
    const s = sumOfSquaresWasm(x)!, want = tf.sum(tf.square(x));
    assert.deepEqual(s.shape, []);
    assert.deepEqual(
      bits(s.dataSync() as Float32Array),
      bits(want.dataSync() as Float32Array),
      `n ${n}`,
    );
    tf.dispose([x, s, want]);
  }
  await tf.setBackend("cpu");
  const c = tf.tensor1d([3, 4]);
  assert.equal(sumOfSquaresWasm(c), null);
  c.dispose();
  await selectBackend("wasm");
});
