/**
 * The fused MLP step (./fused-mlp.ts) as Algorithm 1's alternating update on OpenBLAS: per
 * iteration dSteps D updates (G fixed), then gSteps G updates against the D just updated,
 * from the same streams, batches and epochs as the autodiff one (./alternating.ts).
 */
import type { OpenBlas } from "../../backend/openblas.ts";
import { tf } from "../../backend/tf.ts";
import type { BceObjective } from "../losses.ts";
import type { Scalars } from "../objectives.ts";
import { FusedMlpStep } from "./fused-mlp.ts";
import type { StepParts, TrainStep } from "./step.ts";

export class FusedAlternatingStep implements TrainStep {
  readonly name = "fused";
  readonly #step: FusedMlpStep;

  /** `parts` must pass fusedStepUnsupported (./fused-mlp.ts). */
  constructor(readonly parts: StepParts, blas: OpenBlas) {
    const { config, players } = parts;
    this.#step = new FusedMlpStep(blas, players.G, players.D, players.gOpt, players.dOpt, {
      batchSize: config.training.batchSize,
      dLoss: config.training.dLoss,
      objective: config.training.objective as BceObjective, // the fused step takes BCE only
      flipGLoss: parts.flipGLoss,
    });
  }

  /** D step t = it·dSteps + k reads real batch t; the G steps take the last D step's epoch. */
  run(it: number, record: boolean): Promise<Scalars> {
    const { config, real, inputs } = this.parts;
    const { dSteps, gSteps, batchSize } = config.training;
    let values: Record<string, number> = {};
    let epoch = 0;
    for (let k = 0; k < dSteps; k++) {
      const t = it * dSteps + k;
      // the autodiff step's order of draws: real batch, noise, then the masks
      const b = inputs.realArrays(t);
      epoch = real.batchesPerEpoch ? Math.floor(t / real.batchesPerEpoch) : 0;
      const z = inputs.noise("train/z/d", t, b.rows);
      const out = this.#step.discriminatorStep({
        rows: b.rows,
        real: b.values,
        z,
        realMasks: inputs.dropoutMasks("D/dropout/real", t, b.rows),
        fakeMasks: inputs.dropoutMasks("D/dropout/fake", t, b.rows),
        epoch: b.epoch,
      }, record && k === dSteps - 1);
      if (out) values = { ...values, ...out };
    }
    for (let k = 0; k < gSteps; k++) {
      const u = it * gSteps + k;
      const z = inputs.noise("train/z/g", u, batchSize);
      const out = this.#step.generatorStep({
        rows: batchSize,
        z,
        masks: inputs.dropoutMasks("D/dropout/g", u, batchSize),
        epoch,
      }, record && k === gSteps - 1);
      if (out) values = { ...values, ...out };
    }
    return Promise.resolve(
      Object.fromEntries(Object.entries(values).map(([k, v]) => [k, tf.scalar(v)])),
    );
  }

  close(): void {
    this.#step.close();
  }
}
