/**
 * The 2014 code's simultaneous update (k = 1) by TF.js autodiff: per minibatch, D's and G's
 * gradients are taken at the same parameters, from the same z and the same dropout masks
 * (D's, and G's in the one G forward pass both take), then both are applied. The fused MLP step (./fused-mlp.ts) computes the same update and is
 * held to this one (test/fused_mlp_test.ts).
 */
import { type Tensor, tf } from "../../backend/tf.ts";
import { forward } from "../../models/network.ts";
import { detach } from "../../models/ops.ts";
import {
  type ConditioningLabels,
  gradientNorm,
  type Masks,
  type Objectives,
  type Scalars,
} from "../objectives.ts";
import { unrolledGeneratorLoss, unrollSteps } from "../unroll.ts";
import { DrawAhead } from "./draw-ahead.ts";
import type { Players, StepParts, TrainStep } from "./step.ts";

export class AutodiffSimultaneousStep implements TrainStep {
  readonly name = "autodiff";
  readonly #draws: DrawAhead;

  constructor(readonly parts: StepParts) {
    this.#draws = new DrawAhead(parts.inputs);
  }

  async run(t: number, record: boolean): Promise<Scalars> {
    const drawn = await this.#draws.take(t);
    const { inputs, players, objectives } = this.parts;
    const scalars = tf.tidy(() => {
      const { x, rows, epoch, labels: realLabels } = inputs.realBatch(t);
      const arrays = inputs.simultaneousInputs(t, rows, drawn);
      const z = inputs.noiseTensor(arrays.z, rows);
      const realMasks = inputs.maskTensors(arrays.realMasks, rows);
      const fakeMasks = inputs.maskTensors(arrays.fakeMasks, rows);
      const generatorMasks = inputs.generatorMaskTensors(arrays.generatorMasks, rows);
      const fakeLabels = inputs.fakeLabels(t, rows);
      const labels = realLabels && fakeLabels ? { real: realLabels, fake: fakeLabels } : null;
      return simultaneousUpdate(
        players,
        objectives,
        { x, z, realMasks, fakeMasks, generatorMasks, epoch, step: t, labels },
        record,
        unrollSteps(this.parts),
      );
    });
    // the tensors made of the drawn arrays are disposed: the worker may draw into them again
    this.#draws.done(drawn);
    return scalars;
  }

  drawAhead(seed: number, first: number): void {
    this.#draws.start(seed, first);
  }

  close(): void {
    this.#draws.close();
  }
}

/** One simultaneous step's inputs as tensors. */
export interface SimultaneousBatch {
  x: Tensor;
  z: Tensor;
  realMasks: Masks;
  fakeMasks: Masks;
  /**
   * G's own dropout masks (generator.dropout), on its layers' inputs in its one forward pass;
   * absent: none. (D's masks on G's samples are `fakeMasks`.)
   */
  generatorMasks?: Masks;
  epoch: number;
  /** The iteration: counts the gradient penalty's draws. */
  step: number;
  /**
   * A conditional run's one-hot labels (docs/conditional.md): the real rows' own, and those
   * G is conditioned on (appended to z, and to G(z, y) where D scores it). Absent: none.
   */
  labels?: ConditioningLabels | null;
}

/**
 * Both gradients at the current parameters, from the same z and masks, then both updates.
 * Runs inside the caller's tf.tidy; the recorded scalars (kept) when `record`. With `unroll`
 * K > 0, G's gradient is Unrolled GAN's: of its loss at D after K steps of D's optimiser on
 * this batch, through those steps (../unroll.ts); D's update is the ordinary one.
 *
 * G's update is applied, and its gradients freed, before D's gradient is taken: D's gradient
 * sees G only through the detached samples, made before, so it is the same as at the old G,
 * and G's gradients (the size of G) are not held through D's backward pass.
 */
export function simultaneousUpdate(
  p: Players,
  objectives: Objectives,
  b: SimultaneousBatch,
  record: boolean,
  unroll = 0,
): Scalars {
  const stats: Scalars = {};
  // One G forward serves both gradients: G's tape keeps a detached G(z) (same memory,
  // invisible to tapes) on which D's gradients are taken afterwards, so D's tape stops at
  // the samples. Not nested: a tape open around D's backward pass would hold every tensor
  // it saves until G's closes.
  let fake: Tensor | undefined;
  p.beforeDStep(); // both gradients at the clipped critic
  const g = tf.variableGrads(() => {
    const y = b.labels?.fake;
    const f = forward(p.G, y ? tf.concat([b.z, y], 1) : b.z, {
      training: true,
      masks: b.generatorMasks,
    });
    fake = tf.keep(detach(f));
    if (unroll === 0) return objectives.generator(f, b.fakeMasks, record ? stats : undefined, y);
    // unrolling takes no labels: the schema refuses it with conditioning
    return unrolledGeneratorLoss(
      p,
      objectives,
      { ...b, fake: f, gMasks: b.fakeMasks },
      unroll,
      record ? stats : undefined,
    );
  }, p.gVars);
  // the norms of the gradients the updates apply, taken before they apply them
  const gGradNorm = record ? gradientNorm(g.grads) : null;
  p.gOpt.step(p.gVars.map((v) => g.grads[v.name]), b.epoch);
  tf.dispose(Object.values(g.grads));
  const d = tf.variableGrads(
    () =>
      objectives.discriminator(
        b.x,
        fake!,
        b.realMasks,
        b.fakeMasks,
        b.step,
        record ? stats : undefined,
        b.labels ?? undefined,
      ),
    p.dVars,
  );
  fake!.dispose();
  const dGradNorm = record ? gradientNorm(d.grads) : null;
  p.dOpt.step(p.dVars.map((v) => d.grads[v.name]), b.epoch);
  p.afterUpdate();
  if (!record) return {};
  const { dReal, dFake, fakeMean, fakeStd, dAccuracy } = stats;
  return {
    dReal,
    dFake,
    fakeMean,
    fakeStd,
    dLoss: d.value,
    gLoss: g.value,
    dAccuracy,
    dGradNorm: dGradNorm!,
    gGradNorm: gGradNorm!,
  };
}
