/**
 * The hand-written gradients (src/models/ops.ts) against central finite differences, and
 * the convolution ones also against TF.js's built-in gradients on the cpu backend.
 */
import assert from "node:assert/strict";
import { selectBackend } from "../src/backend/select.ts";
import { type Tensor, tf } from "../src/backend/tf.ts";
import {
  conv2dPadded,
  conv2dTransposeValid,
  dense,
  maxout,
  maxPoolConvnet,
} from "../src/models/ops.ts";
import { batchNormTraining } from "../src/models/batch-norm.ts";
import { Rng } from "../src/rng/streams.ts";

await selectBackend("wasm");

const random = (n: number, seed: number) => new Rng(seed).stream("gradcheck").at(0).normal(n);

/**
 * Checks d/dθ Σ f(θ)·R at `probes` coordinates of each input against central differences
 * computed in float64 from float32 forward passes.
 */
function gradcheck(
  name: string,
  f: (...xs: Tensor[]) => Tensor,
  inputs: { shape: number[]; values: Float32Array }[],
  { eps = 1e-3, probes = 12, tol = 2e-2 } = {},
) {
  const xs = inputs.map((i) => tf.tensor(i.values, i.shape));
  const outShape = tf.tidy(() => f(...xs)).shape;
  const R = random(outShape.reduce((a, b) => a * b, 1), 99);
  const loss = (args: Tensor[]) => {
    const out = tf.tidy(() => f(...args));
    const v = out.dataSync();
    out.dispose();
    let s = 0;
    for (let i = 0; i < v.length; i++) s += v[i] * R[i];
    return s;
  };
  const Rt = tf.tensor(R, outShape);
  const analytic = tf.grads((...args: Tensor[]) => tf.sum(tf.mul(f(...args), Rt)))(xs);
  let checked = 0;
  inputs.forEach((input, k) => {
    const g = analytic[k].dataSync();
    const d = new Rng(k).stream("probe").at(0);
    const at0 = loss(xs);
    for (let p = 0; p < probes; p++) {
      const at = d.nextBelow(input.values.length);
      const shifted = (delta: number) => {
        const v = input.values.slice();
        v[at] += delta;
        const args = xs.map((x, j) => (j === k ? tf.tensor(v, input.shape) : x));
        const value = loss(args);
        args[k].dispose();
        return value;
      };
      const up = (shifted(eps) - at0) / eps, down = (at0 - shifted(-eps)) / eps;
      // a max (maxout, pooling) switching inside [x − ε, x + ε] is a kink, not an error
      if (Math.abs(up - down) > tol * Math.max(1, Math.abs(up))) continue;
      checked++;
      const numeric = (up + down) / 2;
      assert.ok(
        Math.abs(numeric - g[at]) <= tol * Math.max(1, Math.abs(g[at])),
        `${name}: d/dx${k}[${at}] analytic ${g[at]} vs numeric ${numeric}`,
      );
    }
  });
  assert.ok(
    checked >= 0.75 * probes * inputs.length,
    `${name}: only ${checked} probes away from kinks`,
  );
  tf.dispose([...xs, ...analytic, Rt]);
}

Deno.test("dense: x·W + b", () => {
  gradcheck("dense", (x, W, b) => dense(x, W, b), [
    { shape: [4, 5], values: random(20, 1) },
    { shape: [5, 3], values: random(15, 2) },
    { shape: [3], values: random(3, 3) },
  ]);
});

Deno.test("batch normalisation in training mode: through the batch mean and deviation, γ and β", () => {
  // every output depends on every row of its column through μ and σ²
  gradcheck("batch norm", (x, g, b) => batchNormTraining(x, g, b, 1e-3).y, [
    { shape: [6, 3], values: random(18, 11) },
    { shape: [3], values: random(3, 12) },
    { shape: [3], values: random(3, 13) },
  ]);
});

Deno.test("maxout over contiguous pieces", () => {
  gradcheck("maxout", (z) => maxout(z, 4), [{ shape: [3, 12], values: random(36, 4) }], {
    probes: 24,
  });
  // the grouping is contiguous: unit u is the max of entries 4u … 4u + 3
  const z = tf.tensor2d([[1, 9, 2, 3, 0, -1, 5, 4]]);
  assert.deepEqual([...maxout(z, 4).dataSync()], [9, 5]);
  z.dispose();
});

Deno.test("convolutional maxout with cuda-convnet pooling (whole layer)", () => {
  // 9×9 input, 3×3 kernel, pad 1 → 9×9; pool 2 stride 2 → ⌈7/2⌉ + 1 = 5 (needs −∞ padding)
  const layer = (x: Tensor, W: Tensor, b: Tensor) =>
    maxPoolConvnet(maxout(tf.add(conv2dPadded(x, W, 1), b), 2), 2, 2);
  const shape =
    tf.tidy(() => layer(tf.zeros([1, 9, 9, 3]), tf.zeros([3, 3, 3, 4]), tf.zeros([4]))).shape;
  assert.deepEqual(shape, [1, 5, 5, 2]);
  gradcheck("conv maxout", layer, [
    { shape: [2, 9, 9, 3], values: random(2 * 81 * 3, 5) },
    { shape: [3, 3, 3, 4], values: random(108, 6) },
    { shape: [4], values: random(4, 7) },
  ], { probes: 16 });
});

Deno.test("transposed convolution, stride 3", () => {
  gradcheck("deconv", (x, W) => conv2dTransposeValid(x, W, 3), [
    { shape: [2, 3, 3, 4], values: random(72, 8) },
    { shape: [5, 5, 2, 4], values: random(200, 9) },
  ]);
  const out = tf.tidy(() =>
    conv2dTransposeValid(tf.zeros([1, 10, 10, 80]), tf.zeros([5, 5, 3, 80]), 3)
  );
  assert.deepEqual(out.shape, [1, 32, 32, 3]); // 3·(10 − 1) + 5 = 32, as the paper's generator
  out.dispose();
});

Deno.test("conv and deconv gradients equal TF.js's built-in ones on the cpu backend", async () => {
  const x = random(2 * 7 * 7 * 3, 10), W = random(3 * 3 * 3 * 5, 11);
  const xd = random(2 * 4 * 4 * 5, 12), Wd = random(4 * 4 * 3 * 5, 13);
  const R = random(2 * 7 * 7 * 5, 14), Rd = random(2 * 13 * 13 * 3, 15);
  const ours = () =>
    tf.tidy(() => {
      const [gx, gW] = tf.grads((a: Tensor, b: Tensor) =>
        tf.sum(tf.mul(conv2dPadded(a, b, 1), tf.tensor(R, [2, 7, 7, 5])))
      )([
        tf.tensor(x, [2, 7, 7, 3]),
        tf.tensor(W, [3, 3, 3, 5]),
      ]);
      const [dx, dW] = tf.grads((a: Tensor, b: Tensor) =>
        tf.sum(tf.mul(conv2dTransposeValid(a, b, 3), tf.tensor(Rd, [2, 13, 13, 3])))
      )([
        tf.tensor(xd, [2, 4, 4, 5]),
        tf.tensor(Wd, [4, 4, 3, 5]),
      ]);
      return [gx, gW, dx, dW].map((t) => t.dataSync());
    });
  const builtIn = () =>
    tf.tidy(() => {
      const [gx, gW] = tf.grads((a: Tensor, b: Tensor) =>
        tf.sum(
          tf.mul(
            tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, [[0, 0], [1, 1], [1, 1], [0, 0]]),
            tf.tensor(R, [2, 7, 7, 5]),
          ),
        )
      )([tf.tensor(x, [2, 7, 7, 3]), tf.tensor(W, [3, 3, 3, 5])]);
      const [dx, dW] = tf.grads((a: Tensor, b: Tensor) =>
        tf.sum(
          tf.mul(
            tf.conv2dTranspose(a as tf.Tensor4D, b as tf.Tensor4D, [2, 13, 13, 3], 3, "valid"),
            tf.tensor(Rd, [2, 13, 13, 3]),
          ),
        )
      )([tf.tensor(xd, [2, 4, 4, 5]), tf.tensor(Wd, [4, 4, 3, 5])]);
      return [gx, gW, dx, dW].map((t) => t.dataSync());
    });
  const a = ours();
  await selectBackend("cpu");
  const b = builtIn();
  await selectBackend("wasm");
  ["conv dx", "conv dW", "deconv dx", "deconv dW"].forEach((name, k) => {
    assert.equal(a[k].length, b[k].length, name);
    for (let i = 0; i < a[k].length; i++) {
      assert.ok(
        Math.abs(a[k][i] - b[k][i]) <= 1e-4 * Math.max(1, Math.abs(b[k][i])),
        `${name}[${i}]: ${a[k][i]} vs ${b[k][i]}`,
      );
    }
  });
});

Deno.test("cuda-convnet pooling: values as tf.maxPool on −∞-padded input; gradients as cpu's", async () => {
  const v = random(2 * 9 * 9 * 4, 5), R = random(2 * 5 * 5 * 4, 9);
  // 9 → ⌈(9 − 2)/2⌉ + 1 = 5 windows: one −∞ row and column at the bottom/right
  const reference = (a: Tensor) =>
    tf.maxPool(
      tf.pad(a, [[0, 0], [0, 1], [0, 1], [0, 0]], -Infinity) as tf.Tensor4D,
      2,
      2,
      "valid",
    );
  const run = (f: (a: Tensor) => Tensor) =>
    tf.tidy(() => {
      const x = tf.tensor(v, [2, 9, 9, 4]);
      const g = tf.grad((a: Tensor) => tf.sum(tf.mul(f(a), tf.tensor(R, [2, 5, 5, 4]))))(x);
      return [f(x).dataSync(), g.dataSync()];
    });
  const [ourValues, ourGrad] = run((a) => maxPoolConvnet(a, 2, 2));
  await selectBackend("cpu");
  const [refValues, refGrad] = run(reference);
  await selectBackend("wasm");
  // equal as numbers (the mask products may give −0 where the reference has 0)
  const same = (a: ArrayLike<number>, b: ArrayLike<number>) =>
    a.length === b.length && Array.from(a).every((v, i) => v === b[i]);
  assert.ok(same(ourValues, refValues), "pooled values");
  assert.ok(same(ourGrad, refGrad), "gradients");
});

Deno.test("cuda-convnet pooling when pool is not a multiple of stride (strided views)", async () => {
  const v = random(1 * 8 * 8 * 2, 21);
  // 8 → ⌈(8 − 3)/2⌉ + 1 = 4 windows of 3 at stride 2: one −∞ row and column
  const run = (f: (a: Tensor) => Tensor, outSide: number) =>
    tf.tidy(() => {
      const x = tf.tensor(v, [1, 8, 8, 2]);
      const Rt = tf.tensor(random(outSide * outSide * 2, 22), [1, outSide, outSide, 2]);
      const g = tf.grad((a: Tensor) => tf.sum(tf.mul(f(a), Rt)))(x);
      return [f(x).dataSync(), g.dataSync()];
    });
  const [ours, ourGrad] = run((a) => maxPoolConvnet(a, 3, 2), 4);
  await selectBackend("cpu");
  const [ref, refGrad] = run(
    (a) =>
      tf.maxPool(
        tf.pad(a, [[0, 0], [0, 1], [0, 1], [0, 0]], -Infinity) as tf.Tensor4D,
        3,
        2,
        "valid",
      ),
    4,
  );
  await selectBackend("wasm");
  const same = (a: ArrayLike<number>, b: ArrayLike<number>) =>
    a.length === b.length && Array.from(a).every((x, i) => x === b[i]);
  assert.ok(same(ours, ref), "pooled values");
  assert.ok(same(ourGrad, refGrad), "gradients");
});
