/**
 * The two players' objectives on TF.js tensors: D's loss on a real and a generated batch and
 * G's loss on D's view of its samples (src/train/losses.ts), with the recorded scalars of a
 * step (D(x), D(G(z)), the generated batch's mean and std) when asked for them.
 */
import { type Tensor, tf } from "../backend/tf.ts";
import { sumOfSquaresWasm } from "../backend/wasm-kernels.ts";
import type { DiscriminatorInputConfig, TrainingConfig } from "../config/schema.ts";
import { discriminatorInput } from "../models/discriminator-input.ts";
import { forward, type Network } from "../models/network.ts";
import { packRows } from "../models/pack.ts";
import type { Objective } from "../config/objective-names.ts";
import type { Rng, Stream } from "../rng/streams.ts";
import type { ResolvedConfig } from "../config/load.ts";
import {
  bceWithLogits,
  discriminatorObjective,
  generatorObjective,
  gradientPenalty,
} from "./losses.ts";

/** A step's recorded scalars by history series name, as tensors kept for the loop to read. */
export type Scalars = Record<string, Tensor>;
/** Dropout masks for each D layer's input (null: none), or undefined without dropout. */
export type Masks = (Tensor | null)[] | undefined;

/** One-hot labels of a conditional step's real rows and of those G was conditioned on. */
export interface ConditioningLabels {
  real: Tensor;
  fake: Tensor;
}

export interface ObjectiveOptions {
  /** How D sees a batch (identity, or batch statistics). */
  input: DiscriminatorInputConfig;
  dLoss: TrainingConfig["dLoss"];
  objective: Objective;
  /** The flip-g-loss canary (src/train/faults.ts): G ascends its loss. */
  flipGLoss: boolean;
  /** WGAN-GP: the penalty's λ and the stream of its per-row ε (null: no penalty). */
  gradientPenalty: { lambda: number; eps: Stream } | null;
  /** PacGAN's packing degree m: D scores packs of m samples (1: each sample alone). */
  pack: number;
}

export class Objectives {
  /** `dParams`: D's parameters to score with instead of its variables (see `at`). */
  constructor(
    private readonly D: Network,
    private readonly options: ObjectiveOptions,
    private readonly dParams?: Tensor[],
  ) {}

  /**
   * The same objectives with D evaluated at `dParams` (one tensor per D parameter, in
   * networkParams order) instead of its variables: the unrolled D's (src/train/unroll.ts).
   */
  at(dParams: Tensor[]): Objectives {
    return new Objectives(this.D, this.options, dParams);
  }

  /** The objective pair (src/train/losses.ts) these objectives compute. */
  get objective(): Objective {
    return this.options.objective;
  }

  /**
   * D's logits for a batch: one per pack of `pack` rows. With `labels` (a conditional run,
   * where pack is 1 and D's input "identity"), D(x, y) sees each row followed by its label.
   */
  discriminate(x: Tensor, masks: Masks, labels?: Tensor): Tensor {
    if (labels) return this.discriminatePacked(tf.concat([x, labels], 1), masks);
    return this.discriminatePacked(packRows(x, this.options.pack), masks);
  }

  /** D's logits for a batch already packed. */
  private discriminatePacked(packed: Tensor, masks: Masks): Tensor {
    return forward(this.D, discriminatorInput(this.options.input, packed), {
      logits: true,
      masks,
      params: this.dParams,
    });
  }

  /**
   * D's loss on a real batch and a generated one at D step `step` (which counts the penalty's
   * ε draws); with `stats`, D(x), D(G(z)) and D's accuracy; with `labels`, D(x, y) and
   * D(G(z, y), y) of a conditional run.
   */
  discriminator(
    x: Tensor,
    fake: Tensor,
    realMasks: Masks,
    fakeMasks: Masks,
    step: number,
    stats?: Scalars,
    labels?: ConditioningLabels,
  ): tf.Scalar {
    const realLogits = this.discriminate(x, realMasks, labels?.real);
    const fakeLogits = this.discriminate(fake, fakeMasks, labels?.fake);
    if (stats) {
      // kept: they must outlive the gradient scope; the loop disposes them
      stats.dReal = tf.keep(tf.mean(tf.sigmoid(realLogits)));
      stats.dFake = tf.keep(tf.mean(tf.sigmoid(fakeLogits)));
      stats.dAccuracy = tf.keep(accuracy(realLogits, fakeLogits));
    }
    const { objective, dLoss, gradientPenalty: gp } = this.options;
    const loss = discriminatorObjective(objective, realLogits, fakeLogits, dLoss) as tf.Scalar;
    if (!gp) return loss;
    // WGAN-GP: one ε per D input (a pack), the norm of D's gradient at each packed x̂; D
    // without dropout masks at x̂
    const { pack } = this.options;
    const realPacked = packRows(x, pack), fakePacked = packRows(fake, pack);
    const rows = realPacked.shape[0];
    const eps = tf.tensor2d(gp.eps.at(step).uniform(rows), [rows, 1]);
    const penalty = gradientPenalty(
      (v) => this.discriminatePacked(v, undefined),
      realPacked,
      fakePacked,
      eps,
      gp.lambda,
    );
    return tf.add(loss, penalty) as tf.Scalar;
  }

  /**
   * G's loss on generated samples; with `stats`, their mean and std; with `labels` (a
   * conditional run), D scores each sample with the label G made it for.
   */
  generator(fake: Tensor, masks: Masks, stats?: Scalars, labels?: Tensor): tf.Scalar {
    if (stats) {
      const { mean, variance } = tf.moments(fake);
      stats.fakeMean = tf.keep(mean);
      stats.fakeStd = tf.keep(tf.sqrt(variance));
    }
    const loss = generatorObjective(
      this.options.objective,
      this.discriminate(fake, masks, labels),
    ) as tf.Scalar;
    return this.options.flipGLoss ? tf.neg(loss) : loss;
  }

  /**
   * G's loss against an unrolled D (src/train/unroll.ts): `generator`'s, plus for the minimax
   * objective the value function's real-data term −E log D(x) = −E softplus(−D(x)) (on a
   * real batch `x`), which depends on θ_G once D's parameters do: the game's value
   * E log D(x) + E log(1 − D(G(z))) is what the minimax G minimises (Goodfellow et al. 2014,
   * eq. 1; the Unrolled GAN notebook's G minimises it whole). The other objectives' G losses
   * have no real-data term.
   */
  unrolledGenerator(
    fake: Tensor,
    masks: Masks,
    x: Tensor,
    realMasks: Masks,
    stats?: Scalars,
  ): tf.Scalar {
    const loss = this.generator(fake, masks, stats);
    if (this.options.objective !== "minimax") return loss;
    const real = tf.neg(bceWithLogits(this.discriminate(x, realMasks), 1));
    return tf.add(loss, this.options.flipGLoss ? tf.neg(real) : real) as tf.Scalar;
  }
}

/** The share of real rows D scores positive and generated rows negative, (real + fake) / 2. */
function accuracy(realLogits: Tensor, fakeLogits: Tensor): Tensor {
  const right = (t: Tensor) => tf.mean(tf.cast(t, "float32"));
  return tf.mul(tf.add(right(tf.greater(realLogits, 0)), right(tf.less(fakeLogits, 0))), 0.5);
}

/** The global L2 norm of a player's gradient, √(Σ g²) over all of its parameters. */
export function gradientNorm(grads: Record<string, Tensor>): Tensor {
  // each square freed once summed: the caller's tidy would hold them all through the updates
  return tf.tidy(() => {
    const squares = Object.values(grads).map((g) =>
      sumOfSquaresWasm(g) ?? tf.tidy(() => tf.sum(tf.square(g)))
    );
    return tf.sqrt(tf.addN(squares));
  });
}

/** A config's objectives; the gradient penalty (WGAN-GP) draws its ε from `train/gp-eps`. */
export function objectivesOf(
  config: ResolvedConfig["config"],
  D: Network,
  rng: Rng,
  flipGLoss: boolean,
): Objectives {
  const { training } = config;
  return new Objectives(D, {
    input: config.discriminator.input,
    dLoss: training.dLoss,
    objective: training.objective,
    flipGLoss,
    gradientPenalty: training.gradientPenalty
      ? { lambda: training.gradientPenalty, eps: rng.stream("train/gp-eps") }
      : null,
    pack: training.pack ?? 1,
  });
}
