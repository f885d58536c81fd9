/**
 * What the discriminator sees of a batch. Per-example D sees the rows; the "GANs in 50
 * lines" discriminators see one row per batch (its moments, or the samples with their
 * powered deviations from the batch mean).
 */
import { type Tensor, tf } from "../backend/tf.ts";
import type { DiscriminatorInputConfig } from "../config/schema.ts";

/** [B, d] batch → [rows, features] discriminator input. */
export function discriminatorInput(input: DiscriminatorInputConfig, batch: Tensor): Tensor {
  switch (input.kind) {
    case "identity":
      return batch;
    case "moments":
      return batchMoments(batch);
    case "data-and-diffs": {
      const row = tf.reshape(batch, [1, -1]);
      const diffs = tf.pow(tf.sub(row, constantMean(row)), input.exponent);
      return tf.concat([row, diffs], 1);
    }
  }
}

/** [mean, population std, skew, excess kurtosis] of all values, as a [1, 4] row. */
export function batchMoments(x: Tensor): Tensor {
  const mean = tf.mean(x);
  const diffs = tf.sub(x, mean);
  const std = tf.sqrt(tf.mean(tf.square(diffs)));
  const z = tf.div(diffs, std);
  const skew = tf.mean(tf.pow(z, 3));
  const kurtosis = tf.sub(tf.mean(tf.pow(z, 4)), 3);
  return tf.reshape(tf.stack([mean, std, skew, kurtosis]), [1, 4]);
}

/** The mean of all values, with no gradient through it (the reference reads `.data`). */
const constantMean = tf.customGrad(
  ((x: Tensor) => ({
    value: tf.mean(x),
    gradFunc: (_dy: Tensor) => tf.zerosLike(x),
  })) as unknown as Parameters<typeof tf.customGrad>[0],
) as (x: Tensor) => Tensor;
