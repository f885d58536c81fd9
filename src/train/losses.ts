/** GAN losses computed from D's logits (softplus forms: no log(0), no overflow). */
import { type Tensor, tf } from "../backend/tf.ts";

/** Mean binary cross-entropy of sigmoid(logits) against a constant label 1 or 0. */
export function bceWithLogits(logits: Tensor, label: 0 | 1): Tensor {
  // −log σ(a) = softplus(−a);  −log(1 − σ(a)) = softplus(a)
  return tf.mean(tf.softplus(label === 1 ? tf.neg(logits) : logits));
}

export type Objective = "non-saturating" | "minimax";

/** The generator's loss on D's logits for generated data. */
export function generatorLoss(fakeLogits: Tensor, objective: Objective): Tensor {
  // non-saturating: minimise −log D(G(z)); minimax: minimise log(1 − D(G(z))) = −softplus(a)
  return objective === "non-saturating"
    ? bceWithLogits(fakeLogits, 1)
    : tf.neg(bceWithLogits(fakeLogits, 0));
}

/** D's loss: BCE(real, 1) + BCE(fake, 0), or half that ("mean", the 2014 code). */
export function discriminatorLoss(
  realLogits: Tensor,
  fakeLogits: Tensor,
  reduction: "sum" | "mean",
): Tensor {
  const sum = tf.add(bceWithLogits(realLogits, 1), bceWithLogits(fakeLogits, 0));
  return reduction === "sum" ? sum : tf.mul(sum, 0.5);
}
