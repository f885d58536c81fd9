/**
 * Adam's update on the wasm heap (src/backend/wasm-kernels.ts, adamUpdateWasm) against the
 * TF.js op sequence it replaces, run on the cpu backend: bit for bit over several steps,
 * with the tensor count flat and each parameter on new memory after every step.
 */
import assert from "node:assert/strict";
import { selectBackend } from "../src/backend/select.ts";
import { tf } from "../src/backend/tf.ts";
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
  const shapes = [[37, 11], [11], [1]];
  const params = shapes.map((s, k) =>
    tf.tidy(() => tf.variable(tf.tensor(values(s.reduce((a, b) => a * b, 1), k + 1, 2), s)))
  );
  const opt = createOptimizer(
    { kind: "adam", lr: 2e-4, beta1: 0.5, beta2: 0.999, epsilon: 1e-8 },
    params,
    ["W", "b", "c"],
  );
  const counts: number[] = [];
  const memoryMoved: boolean[] = [];
  for (let t = 0; t < 6; t++) {
    // gradients over many magnitudes, zeros included: where rounding differs first
    const grads = params.map((p, k) =>
      tf.tensor(
        values(p.size, 100 + 7 * t + k, t % 2 ? 1e-3 : 10).map((g, i) => i % 5 ? g : 0),
        p.shape,
      )
    );
    const before = params.map((p) => p.dataId);
    opt.step(grads, 0);
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

Deno.test("Adam on the wasm heap equals TF.js's ops bit for bit; flat tensors; new memory", async () => {
  const wasm = await train("wasm");
  const cpu = await train("cpu");
  await selectBackend("wasm");
  assert.equal(wasm.state.length, 9);
  wasm.state.forEach((s, k) => assert.deepEqual(bits(s), bits(cpu.state[k]), `state ${k}`));
  assert.ok(wasm.counts.every((n) => n === wasm.counts[0]), `tensors ${wasm.counts}`);
  // XNNPACK keeps packed weights per tensor: an update must not write a weight in place
  assert.ok(wasm.memoryMoved.every(Boolean));
});
