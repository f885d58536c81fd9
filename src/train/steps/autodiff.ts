/**
 * The updates by TF.js autodiff: the 2014 code's simultaneous update, and Algorithm 1's
 * discriminator and generator updates. Each runs inside the caller's tf.tidy and returns
 * the step's recorded scalars (kept) when `record` is set.
 */
import { type Tensor, tf, type Variable } from "../../backend/tf.ts";
import { forward, type Network } from "../../models/network.ts";
import { detach } from "../../models/ops.ts";
import type { Optimizer } from "../../models/optimizers.ts";
import { gradientNorm, type Masks, type Objectives, type Scalars } from "../objectives.ts";

/** The two networks, their optimisers, and what follows every update (max column norms). */
export interface Players {
  G: Network;
  D: Network;
  gVars: Variable[];
  dVars: Variable[];
  gOpt: Optimizer;
  dOpt: Optimizer;
  /** Before each D step (WGAN's weight clipping, as its reference code). */
  beforeDStep(): void;
  afterUpdate(): void;
}

/** One simultaneous step's inputs as tensors. */
export interface SimultaneousBatch {
  x: Tensor;
  z: Tensor;
  realMasks: Masks;
  fakeMasks: Masks;
  epoch: number;
  /** The iteration: counts the gradient penalty's draws. */
  step: number;
}

/** Both gradients at the current parameters, from the same z and masks, then both updates. */
export function simultaneousUpdate(
  p: Players,
  objectives: Objectives,
  b: SimultaneousBatch,
  record: boolean,
): Scalars {
  const stats: Scalars = {};
  // One G forward serves both gradients: G's tape keeps a detached G(z) (same memory,
  // invisible to tapes) on which D's gradients are taken afterwards, so D's tape stops at
  // the samples. Not nested: a tape open around D's backward pass would hold every tensor
  // it saves until G's closes.
  let fake: Tensor | undefined;
  p.beforeDStep(); // both gradients at the clipped critic
  const g = tf.variableGrads(() => {
    const f = forward(p.G, b.z);
    fake = tf.keep(detach(f));
    return objectives.generator(f, b.fakeMasks, record ? stats : undefined);
  }, p.gVars);
  const d = tf.variableGrads(
    () =>
      objectives.discriminator(
        b.x,
        fake!,
        b.realMasks,
        b.fakeMasks,
        b.step,
        record ? stats : undefined,
      ),
    p.dVars,
  );
  fake!.dispose();
  // the norms of the gradients the updates apply, taken before they apply them
  const norms: Scalars = record
    ? { dGradNorm: gradientNorm(d.grads), gGradNorm: gradientNorm(g.grads) }
    : {};
  p.dOpt.step(p.dVars.map((v) => d.grads[v.name]), b.epoch);
  p.gOpt.step(p.gVars.map((v) => g.grads[v.name]), b.epoch);
  p.afterUpdate();
  if (!record) return {};
  const { dReal, dFake, fakeMean, fakeStd, dAccuracy } = stats;
  return { dReal, dFake, fakeMean, fakeStd, dLoss: d.value, gLoss: g.value, dAccuracy, ...norms };
}

/** Algorithm 1's discriminator update (G fixed) on a real and a generated batch. */
export function discriminatorUpdate(
  p: Players,
  objectives: Objectives,
  b: {
    x: Tensor;
    fake: Tensor;
    realMasks: Masks;
    fakeMasks: Masks;
    epoch: number;
    step: number;
  },
  record: boolean,
): Scalars {
  const stats: Scalars = {};
  p.beforeDStep();
  const d = tf.variableGrads(
    () =>
      objectives.discriminator(
        b.x,
        b.fake,
        b.realMasks,
        b.fakeMasks,
        b.step,
        record ? stats : undefined,
      ),
    p.dVars,
  );
  const norm = record ? gradientNorm(d.grads) : null;
  p.dOpt.step(p.dVars.map((v) => d.grads[v.name]), b.epoch);
  p.afterUpdate();
  return record ? { ...stats, dLoss: d.value, dGradNorm: norm! } : {};
}

/** Algorithm 1's generator update (D fixed). */
export function generatorUpdate(
  p: Players,
  objectives: Objectives,
  b: { z: Tensor; masks: Masks; epoch: number },
  record: boolean,
): Scalars {
  const stats: Scalars = {};
  const g = tf.variableGrads(
    () => objectives.generator(forward(p.G, b.z), b.masks, record ? stats : undefined),
    p.gVars,
  );
  const norm = record ? gradientNorm(g.grads) : null;
  p.gOpt.step(p.gVars.map((v) => g.grads[v.name]), b.epoch);
  p.afterUpdate();
  return record ? { ...stats, gLoss: g.value, gGradNorm: norm! } : {};
}
