/**
 * GAN losses as pure functions of D's raw outputs (logits for the BCE objectives, in softplus
 * forms: no log(0), no overflow; the critic's value for the others): real = D(x) on a real
 * batch, fake = D(G(z)) on a generated one, each a scalar mean over the batch. The follow-up
 * objectives' papers and hand-derived gradients (tested against tf.grad) are in
 * docs/mixtures.md.
 */
import { type Tensor, tf, type Variable } from "../backend/tf.ts";
import type { Objective } from "../config/objective-names.ts";
import type { TrainingConfig } from "../config/schema.ts";
import { detach } from "../models/ops.ts";

/** Mean binary cross-entropy of sigmoid(logits) against a constant label 1 or 0. */
export function bceWithLogits(logits: Tensor, label: 0 | 1): Tensor {
  // −log σ(a) = softplus(−a);  −log(1 − σ(a)) = softplus(a)
  return tf.mean(tf.softplus(label === 1 ? tf.neg(logits) : logits));
}

/** The 2014 paper's two objectives, the ones with a sigmoid D. */
export type BceObjective = "non-saturating" | "minimax";

/** The generator's loss on D's logits for generated data. */
export function generatorLoss(fakeLogits: Tensor, objective: BceObjective): Tensor {
  // non-saturating: minimise −log D(G(z)); minimax: minimise log(1 − D(G(z))) = −softplus(a)
  return objective === "non-saturating"
    ? bceWithLogits(fakeLogits, 1)
    : tf.neg(bceWithLogits(fakeLogits, 0));
}

/** D's loss: BCE(real, 1) + BCE(fake, 0), or half that ("mean", the 2014 code). */
export function discriminatorLoss(
  realLogits: Tensor,
  fakeLogits: Tensor,
  reduction: TrainingConfig["dLoss"],
): Tensor {
  const sum = tf.add(bceWithLogits(realLogits, 1), bceWithLogits(fakeLogits, 0));
  return reduction === "sum" ? sum : tf.mul(sum, 0.5);
}

/**
 * D's loss (minimised). For the BCE objectives `reduction` is the config's dLoss ("sum":
 * BCE(real, 1) + BCE(fake, 0); "mean": half that); the others have one form each.
 */
export function discriminatorObjective(
  objective: Objective,
  real: Tensor,
  fake: Tensor,
  reduction: TrainingConfig["dLoss"] = "sum",
): Tensor {
  return tf.tidy(() => {
    switch (objective) {
      case "non-saturating":
      case "minimax": {
        const sum = tf.add(bceWithLogits(real, 1), bceWithLogits(fake, 0));
        return reduction === "sum" ? sum : tf.mul(sum, 0.5);
      }
      case "least-squares": // LSGAN, a = 0, b = c = 1: ½E[(D(x) − 1)²] + ½E[D(G(z))²]
        return tf.add(
          tf.mul(tf.mean(tf.square(tf.sub(real, 1))), 0.5),
          tf.mul(tf.mean(tf.square(fake)), 0.5),
        );
      case "wasserstein":
      case "wasserstein-gp": // the critic maximises E[D(x)] − E[D(G(z))]
        return tf.sub(tf.mean(fake), tf.mean(real));
      case "hinge":
        return tf.add(tf.mean(tf.relu(tf.sub(1, real))), tf.mean(tf.relu(tf.add(1, fake))));
      case "kl": // f-GAN, f(u) = u log u: g(v) = v, f*(t) = exp(t − 1)
        return tf.sub(tf.mean(tf.exp(tf.sub(fake, 1))), tf.mean(real));
      case "pearson": // f-GAN, f(u) = (u − 1)²: g(v) = v, f*(t) = t²/4 + t
        return tf.sub(tf.mean(tf.add(tf.mul(tf.square(fake), 0.25), fake)), tf.mean(real));
    }
  });
}

/** G's loss (minimised) on D's raw outputs for generated data. */
export function generatorObjective(objective: Objective, fake: Tensor): Tensor {
  return tf.tidy(() => {
    switch (objective) {
      case "non-saturating": // −log D(G(z))
        return bceWithLogits(fake, 1);
      case "minimax": // log(1 − D(G(z)))
        return tf.neg(bceWithLogits(fake, 0));
      case "least-squares": // ½E[(D(G(z)) − 1)²]
        return tf.mul(tf.mean(tf.square(tf.sub(fake, 1))), 0.5);
      case "wasserstein":
      case "wasserstein-gp":
      case "hinge":
      case "kl":
      case "pearson": // f-GAN's heuristic generator step: maximise E[g(V(G(z)))] (g = identity)
        return tf.neg(tf.mean(fake));
    }
  });
}

/**
 * WGAN-GP's penalty λ·E[(‖∇ₓD(x̂)‖₂ − 1)²] at x̂ = ε·x + (1 − ε)·x̃, one ε ~ U[0, 1] per row
 * (`eps`, shape [rows, 1]). `critic` maps a batch to one raw output per row; rows must not
 * interact (no batch statistics), so the gradient of the summed output is each row's own.
 * Differentiable with respect to the critic's variables (a second-order gradient).
 */
export function gradientPenalty(
  critic: (x: Tensor) => Tensor,
  real: Tensor,
  fake: Tensor,
  eps: Tensor,
  lambda: number,
): Tensor {
  return tf.tidy(() => {
    const mixed = tf.add(tf.mul(eps, real), tf.mul(tf.sub(1, eps), fake));
    const grad = inputGradient(critic, mixed);
    const norm = rowNorms(grad);
    return tf.mul(tf.mean(tf.square(tf.sub(norm, 1))), lambda);
  });
}

/**
 * ‖g_i‖₂ = √(Σ_j g_ij²) of each row, with the subgradient 0 where a row is exactly 0 (as
 * PyTorch's norm backward): √ has an infinite derivative at 0, and ∞·0 in the chain rule
 * would be NaN (a ReLU critic whose units are all off at x̂ has ∇ₓD(x̂) = 0). Where Σ g² > 0
 * the value and the gradient are those of √(Σ g²) bit for bit: the guard only selects.
 */
export function rowNorms(g: Tensor): Tensor {
  return tf.tidy(() => {
    const squares = tf.sum(tf.square(g), 1);
    // the test reads a detached copy: a comparison has no gradient, and needs none
    const positive = tf.greater(detach(squares), 0);
    // √ is taken of 1 where the sum is 0, so that its derivative there is finite; where()
    // then passes that branch's gradient on as 0
    const safe = tf.where(positive, squares, tf.onesLike(squares));
    return tf.where(positive, tf.sqrt(safe), tf.zerosLike(squares));
  });
}

/** ∂D(x)/∂x for each row of x (rows independent): [rows, dim]. */
export function inputGradient(critic: (x: Tensor) => Tensor, x: Tensor): Tensor {
  return tf.grad((v: Tensor) => tf.sum(critic(v)))(x);
}

/** Clips every variable to [−c, c] in place (WGAN's weight clipping). */
export function clipWeights(variables: Variable[], c: number): void {
  for (const v of variables) tf.tidy(() => v.assign(tf.clipByValue(v, -c, c)));
}
