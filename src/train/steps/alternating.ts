/**
 * Algorithm 1 of the paper by TF.js autodiff: per iteration, dSteps discriminator updates (G
 * fixed), then gSteps generator updates (D fixed), each on its own noise and dropout masks.
 */
import { type Tensor, tf } from "../../backend/tf.ts";
import { forward } from "../../models/network.ts";
import { gradientNorm, type Masks, type Objectives, type Scalars } from "../objectives.ts";
import type { Players, StepParts, TrainStep } from "./step.ts";

export class AutodiffAlternatingStep implements TrainStep {
  readonly name = "autodiff";

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
    return Promise.resolve(scalars);
  }

  close(): void {}

  /** One D update (G fixed), on real batch t. */
  discriminatorStep(t: number, record: boolean): Scalars {
    const { inputs, players, objectives } = this.parts;
    return tf.tidy(() => {
      const { x, rows, epoch } = inputs.realBatch(t);
      const fake = forward(
        players.G,
        inputs.noiseTensor(inputs.noise("train/z/d", t, rows), rows),
      );
      const realMasks = inputs.maskTensors(inputs.dropoutMasks("D/dropout/real", t, rows), rows);
      const fakeMasks = inputs.maskTensors(inputs.dropoutMasks("D/dropout/fake", t, rows), rows);
      return discriminatorUpdate(
        players,
        objectives,
        { x, fake, realMasks, fakeMasks, epoch, step: t },
        record,
      );
    });
  }

  /** One G update (D fixed), G step u. */
  generatorStep(u: number, epoch: number, record: boolean): Scalars {
    const { inputs, players, objectives } = this.parts;
    const rows = this.parts.config.training.batchSize;
    return tf.tidy(() => {
      const z = inputs.noiseTensor(inputs.noise("train/z/g", u, rows), rows);
      const masks = inputs.maskTensors(inputs.dropoutMasks("D/dropout/g", u, rows), rows);
      return generatorUpdate(players, objectives, { z, masks, epoch }, record);
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
