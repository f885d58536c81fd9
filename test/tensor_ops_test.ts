/** Losses, D-input transforms and optimisers against closed forms (wasm backend). */
import assert from "node:assert/strict";
import { tf } from "../src/backend/tf.ts";
import { selectBackend } from "../src/backend/select.ts";
import { batchMoments, discriminatorInput } from "../src/models/discriminator-input.ts";
import { bceWithLogits, discriminatorLoss, generatorLoss } from "../src/train/losses.ts";
import { createOptimizer } from "../src/models/optimizers.ts";

await selectBackend("wasm");
const close = (a: number, b: number, tol: number, what = "") =>
  assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} vs ${b} (tol ${tol})`);
const scalar = (t: tf.Tensor) => {
  const v = t.dataSync()[0];
  t.dispose();
  return v;
};

Deno.test("BCE from logits: log 2 at 0, finite and exact at ±100", () => {
  close(scalar(bceWithLogits(tf.tensor1d([0]), 1)), Math.LN2, 1e-7, "label 1");
  close(scalar(bceWithLogits(tf.tensor1d([0]), 0)), Math.LN2, 1e-7, "label 0");
  // −log σ(−100) = 100 + log(1 + e^−100) ≈ 100; σ(100) → label 1 loss ≈ e^−100 ≈ 0
  close(scalar(bceWithLogits(tf.tensor1d([-100]), 1)), 100, 1e-4, "saturated real");
  close(scalar(bceWithLogits(tf.tensor1d([100]), 1)), 0, 1e-6, "confident real");
  close(
    scalar(bceWithLogits(tf.tensor1d([2, -1]), 0)),
    (Math.log1p(Math.exp(2)) + Math.log1p(Math.exp(-1))) / 2,
    1e-6,
    "mean",
  );
});

Deno.test("generator objectives: non-saturating −log D, minimax log(1 − D)", () => {
  const a = 0.7, d = 1 / (1 + Math.exp(-a));
  close(scalar(generatorLoss(tf.tensor1d([a]), "non-saturating")), -Math.log(d), 1e-6, "ns");
  close(scalar(generatorLoss(tf.tensor1d([a]), "minimax")), Math.log(1 - d), 1e-6, "minimax");
  const sum = scalar(discriminatorLoss(tf.tensor1d([a]), tf.tensor1d([-a]), "sum"));
  close(sum, -2 * Math.log(d), 1e-6, "D sum");
  close(
    scalar(discriminatorLoss(tf.tensor1d([a]), tf.tensor1d([-a]), "mean")),
    sum / 2,
    1e-6,
    "D mean",
  );
});

Deno.test("batch moments of 1, 2, 3, 4: mean 2.5, std √1.25, skew 0, kurtosis −1.36", () => {
  const m = batchMoments(tf.tensor2d([1, 2, 3, 4], [4, 1]));
  assert.deepEqual(m.shape, [1, 4]);
  const [mean, std, skew, kurt] = m.dataSync();
  m.dispose();
  close(mean, 2.5, 1e-6, "mean");
  close(std, Math.sqrt(1.25), 1e-6, "std");
  close(skew, 0, 1e-6, "skew");
  close(kurt, 6.56 / 4 - 3, 1e-5, "kurtosis"); // Σz⁴ = 10.25 / 1.5625 = 6.56
});

Deno.test("data-and-diffs: [x, (x − mean)²] with no gradient through the mean", () => {
  const x = tf.tensor2d([1, 2, 6], [3, 1]);
  const row = discriminatorInput({ kind: "data-and-diffs", exponent: 2 }, x);
  assert.deepEqual([...row.dataSync()], [1, 2, 6, 4, 1, 9]);
  // d/dx_i Σ_j (x_j − m)² with m held constant = 2(x_i − m) = [−4, −2, 6]; plus 1 from the data part
  const g = tf.grad((v: tf.Tensor) =>
    tf.sum(discriminatorInput({ kind: "data-and-diffs", exponent: 2 }, v))
  )(x);
  assert.deepEqual([...g.dataSync()], [-3, -1, 7]);
  tf.dispose([x, row, g]);
});

Deno.test("SGD with momentum follows PyTorch's update on f(θ) = θ²/2", () => {
  const theta = tf.variable(tf.tensor1d([1]));
  const opt = createOptimizer({ kind: "sgd", lr: 0.1, momentum: 0.9 }, [theta], ["θ"]);
  // g = θ. Step 1: v = 1, θ = 0.9. Step 2: v = 0.9·1 + 0.9 = 1.8, θ = 0.9 − 0.18 = 0.72
  for (const expected of [0.9, 0.72]) {
    const g = tf.clone(theta);
    opt.step([g], 0);
    g.dispose();
    close(theta.dataSync()[0], expected, 1e-6, "θ");
  }
  assert.equal(opt.slots().length, 1);
  close(opt.slots()[0][1].dataSync()[0], 1.8, 1e-6, "velocity");
  opt.dispose();
  theta.dispose();
});

Deno.test("Adam's first step moves each weight by lr·g/(|g| + ε)", () => {
  const theta = tf.variable(tf.tensor1d([1, -2, 0.5]));
  const opt = createOptimizer(
    { kind: "adam", lr: 0.01, beta1: 0.5, beta2: 0.999, epsilon: 1e-8 },
    [theta],
    ["θ"],
  );
  const g = tf.tensor1d([0.3, -4, 1e-3]);
  opt.step([g], 0);
  const after = theta.dataSync();
  [1, -2, 0.5].forEach((t0, i) => {
    const gi = [0.3, -4, 1e-3][i];
    close(after[i], t0 - 0.01 * gi / (Math.abs(gi) + 1e-8), 1e-6, `θ${i}`);
  });
  assert.equal(opt.steps, 1);
  assert.equal(opt.slots().length, 2);
  opt.dispose();
  tf.dispose([theta, g]);
});
