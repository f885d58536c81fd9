/**
 * Algorithm 1 of the paper by TF.js autodiff: per iteration, dSteps discriminator updates (G
 * fixed), then gSteps generator updates (D fixed), each on its own noise and dropout masks
 * (with generator.dropout, G's too: one set per G forward pass, G/dropout/d in a D step and
 * G/dropout/g in a G step).
 */
import { type Tensor, tf } from "../../backend/tf.ts";
import { forward } from "../../models/network.ts";
import { gradientNorm, type Masks, type Objectives, type Scalars } from "../objectives.ts";
import type { MaskValues } from "../inputs.ts";
import { type UnrollBatch, unrolledGeneratorLoss, unrollSteps } from "../unroll.ts";
import type { Players, StepParts, TrainStep } from "./step.ts";

export class AutodiffAlternatingStep implements TrainStep {
  readonly name = "autodiff";
  /**
   * With unrolling: the last D step's real batch and its real-row masks, which the G steps'
   * unrolled D steps train on (drawn once: a second read would count as a repeated draw). The
   * masks are StepInputs' own arrays, which only the next D step draws into again.
   */
  #lastReal: { x: Tensor; masks: MaskValues | null } | null = null;

  constructor(readonly parts: StepParts) {}

  /** D step t = it·dSteps + k reads real batch t; the G steps take the last D step's epoch. */
  run(it: number, record: boolean): Promise<Scalars> {
    const { dSteps, gSteps } = this.parts.config.training;
    const batchesPerEpoch = this.parts.real.batchesPerEpoch;
    let scalars: Scalars = {};
    let epoch = 0;
    for (let k = 0; k < dSteps; k++) {
      const t = it * dSteps + k;
      epoch = batchesPerEpoch ? Math.floor(t / batchesPerEpoch) : 0;
      scalars = { ...scalars, ...this.discriminatorStep(t, record && k === dSteps - 1) };
    }
    for (let k = 0; k < gSteps; k++) {
      const u = it * gSteps + k;
      scalars = { ...scalars, ...this.generatorStep(u, epoch, record && k === gSteps - 1) };
    }
    this.#lastReal?.x.dispose();
    this.#lastReal = null;
    return Promise.resolve(scalars);
  }

  close(): void {
    this.#lastReal?.x.dispose();
    this.#lastReal = null;
  }

  /** One D update (G fixed), on real batch t. */
  discriminatorStep(t: number, record: boolean): Scalars {
    const { inputs, players, objectives } = this.parts;
    return tf.tidy(() => {
      const { x, rows, epoch } = inputs.realBatch(t);
      const generatorMasks = inputs.generatorMaskTensors(
        inputs.generatorMasks("G/dropout/d", t, rows),
        rows,
      );
      const fake = forward(
        players.G,
        inputs.noiseTensor(inputs.noise("train/z/d", t, rows), rows),
        { training: true, masks: generatorMasks },
      );
      const realValues = inputs.dropoutMasks("D/dropout/real", t, rows);
      if (unrollSteps(this.parts) > 0) {
        this.#lastReal?.x.dispose();
        this.#lastReal = { x: tf.keep(x.clone()), masks: realValues };
      }
      const realMasks = inputs.maskTensors(realValues, rows);
      const fakeMasks = inputs.maskTensors(inputs.dropoutMasks("D/dropout/fake", t, rows), rows);
      return discriminatorUpdate(
        players,
        objectives,
        { x, fake, realMasks, fakeMasks, epoch, step: t },
        record,
      );
    });
  }

  /**
   * One G update (D fixed), G step u. Unrolled: D's K steps train on the last D step's real
   * batch (and real-row masks) and this step's G(z) (and masks).
   */
  generatorStep(u: number, epoch: number, record: boolean): Scalars {
    const { inputs, players, objectives } = this.parts;
    const rows = this.parts.config.training.batchSize;
    return tf.tidy(() => {
      const z = inputs.noiseTensor(inputs.noise("train/z/g", u, rows), rows);
      const masks = inputs.maskTensors(inputs.dropoutMasks("D/dropout/g", u, rows), rows);
      const generatorMasks = inputs.generatorMaskTensors(
        inputs.generatorMasks("G/dropout/g", u, rows),
        rows,
      );
      const steps = unrollSteps(this.parts);
      const last = this.#lastReal;
      const unroll = steps > 0 && last
        ? {
          steps,
          x: last.x,
          realMasks: inputs.maskTensors(last.masks, last.x.shape[0]),
          step: u,
        }
        : undefined;
      return generatorUpdate(
        players,
        objectives,
        { z, masks, generatorMasks, epoch },
        record,
        unroll,
      );
    });
  }
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

/**
 * Algorithm 1's generator update (D fixed): `masks` are D's on G's samples, `generatorMasks`
 * G's own (absent: none). With `unroll`, Unrolled GAN's: G's loss at D
 * after `unroll.steps` steps of D's optimiser on `unroll.x` and G(z), through those steps
 * (../unroll.ts); nothing of D is written.
 */
export function generatorUpdate(
  p: Players,
  objectives: Objectives,
  b: { z: Tensor; masks: Masks; generatorMasks?: Masks; epoch: number },
  record: boolean,
  unroll?: Omit<UnrollBatch, "fake" | "fakeMasks"> & { steps: number },
): Scalars {
  const stats: Scalars = {};
  const g = tf.variableGrads(() => {
    const fake = forward(p.G, b.z, { training: true, masks: b.generatorMasks });
    if (!unroll) return objectives.generator(fake, b.masks, record ? stats : undefined);
    return unrolledGeneratorLoss(
      p,
      objectives,
      { ...unroll, fake, fakeMasks: b.masks, gMasks: b.masks },
      unroll.steps,
      record ? stats : undefined,
    );
  }, p.gVars);
  const norm = record ? gradientNorm(g.grads) : null;
  p.gOpt.step(p.gVars.map((v) => g.grads[v.name]), b.epoch);
  p.afterUpdate();
  return record ? { ...stats, gLoss: g.value, gGradNorm: norm! } : {};
}
