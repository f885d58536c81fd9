/**
 * Unrolled GAN's generator objective (Metz et al. 2017, arXiv:1611.02163; docs/mixtures.md
 * §Unrolling): G's loss at D's parameters after K steps of D's own optimiser from where D is
 * now, θ_D^K(θ_G), differentiated through those K steps. Each unrolled step takes the gradient
 * of D's loss at the current unrolled parameters (tf.grads, recorded on G's tape, so G's
 * gradient reaches θ_G through D's backward pass: a second-order gradient) and applies the
 * optimiser's update as tensor operations (Optimizer.differentiable), its state (Adam's
 * moments and step count) starting from the optimiser's and advancing with the unrolled
 * steps. Every step uses the same real batch, generated batch and dropout masks, as the
 * authors' notebook does (one graph, its data and noise tensors read once per iteration).
 * Nothing is written: D's actual update stays the ordinary one step, θ_D ← θ_D^1.
 */
import { type Tensor, tf } from "../backend/tf.ts";
import type { Players } from "./steps/step.ts";
import type { Masks, Objectives, Scalars } from "./objectives.ts";

/** What the unrolled D steps train on: one real batch and G's samples (on G's tape). */
export interface UnrollBatch {
  x: Tensor;
  /** G(z), not detached: the unrolled parameters depend on θ_G through it. */
  fake: Tensor;
  realMasks: Masks;
  fakeMasks: Masks;
  /** The D step's counter (the gradient penalty's draws; unrolling refuses a penalty). */
  step: number;
}

/**
 * θ_D^K: D's parameters after `steps` updates of D's optimiser on `b`, as tensors
 * differentiable with respect to everything `b` depends on. `steps` 0 gives D's variables.
 */
export function unrolledDiscriminator(
  p: Players,
  objectives: Objectives,
  b: UnrollBatch,
  steps: number,
): Tensor[] {
  let params: Tensor[] = p.dVars;
  if (steps === 0) return params;
  const rule = p.dOpt.differentiable?.();
  if (!rule) throw new Error("unrolling needs an optimiser with a differentiable update for D");
  let state = rule.state;
  for (let k = 0; k < steps; k++) {
    const grads = tf.grads((...ps: Tensor[]) =>
      objectives.at(ps).discriminator(b.x, b.fake, b.realMasks, b.fakeMasks, b.step)
    )(params);
    ({ params, state } = rule.step(params, grads, state, k));
  }
  return params;
}

/**
 * The surrogate G minimises: G's loss on `b.fake` (scored with `gMasks`) at θ_D^K. For the
 * minimax objective G's loss is the game's value function, so it carries the real-data term
 * −E log D(x) too (objectives.unrolledGenerator). Runs on G's tape, inside the caller's tidy.
 */
export function unrolledGeneratorLoss(
  p: Players,
  objectives: Objectives,
  b: UnrollBatch & { gMasks: Masks },
  steps: number,
  stats?: Scalars,
): tf.Scalar {
  const dK = unrolledDiscriminator(p, objectives, b, steps);
  return objectives.at(dK).unrolledGenerator(b.fake, b.gMasks, b.x, b.realMasks, stats);
}

/** Unrolled GAN's K (training.unroll.steps), or 0: G's ordinary loss. */
export function unrollSteps(parts: { config: { training: { unroll?: { steps: number } } } }) {
  return parts.config.training.unroll?.steps ?? 0;
}
