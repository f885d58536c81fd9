/**
 * The freeing backward pass (src/backend/lean-backprop.ts) against TF.js's own, which keeps
 * everything to the end: the same gradients bit for bit (chains, a tensor used twice, one
 * gradient handed to two inputs, a saved tensor handed back as a gradient, a gradient taken
 * inside another's tape, a caller's dy), a lower peak, and nothing left behind.
 */
import assert from "node:assert/strict";
import { keepingGradients } from "../src/backend/lean-backprop.ts";
import { selectBackend } from "../src/backend/select.ts";
import { type Tensor, tf } from "../src/backend/tf.ts";

type GradFn = Parameters<typeof tf.customGrad>[0];
const custom = <F>(f: unknown): F => tf.customGrad(f as GradFn) as unknown as F;

const bits = (t: Tensor) => [...new Uint32Array((t.dataSync() as Float32Array).slice().buffer)];

function values(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    out[i] = (x / 2 ** 32 - 0.5) * 4;
  }
  return out;
}

/** Both passes' gradients of f at xs: the freeing one (tf's) and TF.js's keeping one. */
function both(f: () => tf.Scalar, xs: tf.Variable[], dy?: Tensor) {
  const lean = tf.engine().gradients(f, xs, dy);
  const keeping = keepingGradients()!(f, xs, dy);
  return { lean, keeping };
}

function assertSame(
  r: ReturnType<typeof both>,
  what: string,
): void {
  assert.deepEqual(bits(r.lean.value), bits(r.keeping.value), `${what}: value`);
  r.lean.grads.forEach((g, i) =>
    assert.deepEqual(bits(g), bits(r.keeping.grads[i]), `${what}: gradient ${i}`)
  );
  tf.dispose([r.lean.value, r.keeping.value, ...r.lean.grads, ...r.keeping.grads]);
}

/** A chain of elementwise ops, each saving its input: a long tape over one big tensor. */
const chain = (x: Tensor, links: number) => {
  let h = x;
  for (let k = 0; k < links; k++) h = tf.sin(tf.mul(h, 1.01));
  return tf.sum(tf.square(h)) as tf.Scalar;
};

Deno.test("lean backprop: TF.js's gradients bit for bit, on wasm and cpu", async () => {
  for (const backend of ["wasm", "cpu"] as const) {
    await selectBackend(backend);
    const x = tf.variable(tf.tensor2d(values(600, 1), [20, 30]));
    const w = tf.variable(tf.tensor2d(values(30 * 7, 2), [30, 7]));
    const before = tf.memory().numTensors;
    // a chain, a matrix product, a tensor used twice (x·w and x²)
    assertSame(both(() => chain(x, 12), [x]), `${backend} chain`);
    assertSame(
      both(() => tf.sum(tf.add(tf.sum(tf.matMul(x, w)), tf.sum(tf.mul(x, x)))) as tf.Scalar, [
        x,
        w,
      ]),
      `${backend} product and square`,
    );
    // one gradient object handed to two inputs, each going on to other ops
    const fork = custom<(a: Tensor, b: Tensor) => Tensor>((a: Tensor, b: Tensor) => ({
      value: tf.add(a, b),
      gradFunc: (dy: Tensor) => [dy, dy],
    }));
    assertSame(
      both(() => tf.sum(tf.exp(fork(tf.mul(x, 2), tf.sin(x)))) as tf.Scalar, [x]),
      `${backend} one gradient for two inputs`,
    );
    // a saved tensor handed back as the gradient
    const savedBack = custom<(a: Tensor) => Tensor>((a: Tensor, save: (t: Tensor[]) => void) => {
      const y = tf.square(a);
      save([y]);
      return { value: y, gradFunc: (_dy: Tensor, [s]: Tensor[]) => [s] };
    });
    assertSame(
      both(() => tf.sum(tf.cos(savedBack(tf.mul(x, 0.5)))) as tf.Scalar, [x]),
      `${backend} saved tensor as gradient`,
    );
    // a gradient inside the tape (WGAN-GP's): d/dx Σ (∂/∂x Σ x³)² = Σ 36·x³, in tape order
    const nested = both(() => {
      const inner = tf.grad((v: Tensor) => tf.sum(tf.pow(v, 3)))(x);
      return tf.sum(tf.square(inner)) as tf.Scalar;
    }, [x]);
    const xs = x.dataSync(), g = nested.lean.grads[0].dataSync();
    for (const i of [0, 7, 599]) {
      assert.ok(Math.abs(g[i] - 36 * xs[i] ** 3) <= 1e-4 * Math.max(1, Math.abs(g[i])));
    }
    assertSame(nested, `${backend} gradient of a gradient`);
    // the outer pass goes back through the inner pass's own forward nodes too
    assertSame(
      both(() => {
        const inner = tf.valueAndGrad((v: Tensor) => tf.sum(tf.pow(v, 3)) as tf.Scalar)(x);
        return tf.add(inner.value, tf.sum(tf.square(inner.grad))) as tf.Scalar;
      }, [x]),
      `${backend} value and gradient inside the tape`,
    );
    // the caller's dy is the caller's
    const dy = tf.scalar(0.5);
    const seeded = both(() => chain(x, 3), [x], dy);
    assert.equal(dy.isDisposed, false);
    assertSame(seeded, `${backend} with dy`);
    dy.dispose();
    assert.equal(tf.memory().numTensors, before, `${backend}: nothing left behind`);
    tf.dispose([x, w]);
  }
  await selectBackend("wasm");
});

Deno.test("lean backprop: a long tape's backward pass holds its frontier, not all of it", async () => {
  await selectBackend("wasm");
  const x = tf.variable(tf.tensor1d(values(10_000, 3)));
  // the most data buffers alive at once (tf.memory's bytes count a buffer once per tensor
  // on it, and a saved tensor shares its buffer), sampled after every kernel
  const peak = (gradients: typeof tf.engine.prototype.gradients) => {
    const engine = tf.engine() as unknown as { runKernel: (...a: unknown[]) => unknown };
    const runKernel = engine.runKernel;
    const base = tf.memory().numDataBuffers;
    let most = 0;
    engine.runKernel = (...a: unknown[]) => {
      const out = runKernel.apply(engine, a);
      most = Math.max(most, tf.memory().numDataBuffers - base);
      return out;
    };
    try {
      const r = gradients.call(tf.engine(), () => chain(x, 20), [x]);
      tf.dispose([r.value, ...r.grads]);
    } finally {
      engine.runKernel = runKernel;
    }
    return most;
  };
  const lean = peak(tf.engine().gradients);
  const keeping = peak(keepingGradients()! as typeof tf.engine.prototype.gradients);
  // the forward pass holds about 63 (20 products, 20 sines, their 20 scalar factors, the
  // square and its sum); TF.js then adds a gradient for each, kept to the end; freed as it
  // goes, a few at a time
  assert.ok(keeping >= 100, `keeping: ${keeping} buffers`);
  assert.ok(lean <= 70, `lean: ${lean} buffers (keeping ${keeping})`);
  x.dispose();
});
