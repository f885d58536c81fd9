/**
 * Batch normalisation of a dense layer's pre-activations (Ioffe & Szegedy 2015), as the
 * Blocks brick PacGAN's generator uses (docs/mixtures.md §Batch normalisation):
 *
 * - training: each column is normalised by its minibatch mean μ and standard deviation
 *   s = √(σ² + ε), σ² the biased variance (divided by the batch size), then scaled and
 *   offset by the learned γ and β: y = γ·(x − μ)/s + β. Gradients flow through μ and s.
 * - inference: the same with the moving averages m and ŝ in place of μ and s, so a sample
 *   does not depend on the batch it is drawn in.
 * - after each training forward pass: m ← (1 − r)·m + r·μ and ŝ ← (1 − r)·ŝ + r·s (r the
 *   config's `rate`; the standard deviation is averaged, ε included, not the variance).
 *   m starts at 0 and ŝ at 1.
 */
import { type Tensor, tf, type Variable } from "../backend/tf.ts";
import { detach } from "./ops.ts";

/** y = γ·(x − μ)/√(σ² + ε) + β over the batch (axis 0), with that μ and √(σ² + ε). */
export function batchNormTraining(
  x: Tensor,
  gamma: Tensor,
  beta: Tensor,
  epsilon: number,
): { y: Tensor; mean: Tensor; stdev: Tensor } {
  const mean = tf.mean(x, 0);
  const centred = tf.sub(x, mean);
  // two passes (the mean first), as Blocks: never negative, steadier for small batches
  const variance = tf.mean(tf.square(centred), 0);
  const stdev = tf.sqrt(tf.add(variance, epsilon));
  const y = tf.add(tf.mul(tf.div(centred, stdev), gamma), beta);
  return { y, mean, stdev };
}

/** y = γ·(x − m)/ŝ + β with the moving averages m and ŝ. */
export function batchNormInference(
  x: Tensor,
  gamma: Tensor,
  beta: Tensor,
  mean: Tensor,
  stdev: Tensor,
): Tensor {
  return tf.add(tf.mul(tf.div(tf.sub(x, mean), stdev), gamma), beta);
}

/**
 * Moves the averages toward this batch's statistics: a ← (1 − rate)·a + rate·batch. The
 * statistics enter detached: no gradient reaches a parameter through an average.
 */
export function updateMovingAverages(
  averages: { mean: Variable; stdev: Variable },
  batch: { mean: Tensor; stdev: Tensor },
  rate: number,
): void {
  tf.tidy(() => {
    for (const key of ["mean", "stdev"] as const) {
      const a = averages[key];
      a.assign(tf.add(tf.mul(a, 1 - rate), tf.mul(detach(batch[key]), rate)));
    }
  });
}
