/**
 * PacGAN's packing (Lin et al. 2018, docs/mixtures.md §Packing): D sees m samples of one
 * batch concatenated into one input, so a [n, d] batch becomes [n / m, m·d], pack j holding
 * rows j·m … j·m + m − 1 side by side.
 */
import { type Tensor, tf } from "../backend/tf.ts";

/** A [n, d] batch as n / m packs of m consecutive rows; m = 1 returns the batch itself. */
export function packRows(batch: Tensor, m: number): Tensor {
  if (m === 1) return batch;
  const [n, d] = batch.shape as [number, number];
  if (n % m !== 0) {
    throw new Error(`training.pack ${m} does not divide a batch of ${n} rows into whole packs`);
  }
  return tf.reshape(batch, [n / m, m * d]);
}
