/**
 * The fused MLP step (./fused-mlp.ts) as a training step: the simultaneous update on
 * OpenBLAS, from the same draws and streams as the autodiff one (./simultaneous.ts).
 */
import type { OpenBlas } from "../../backend/openblas.ts";
import { tf } from "../../backend/tf.ts";
import { SIGNAL_SERIES, STEP_SERIES } from "../../record/history.ts";
import type { BceObjective } from "../losses.ts";
import type { Scalars } from "../objectives.ts";
import { DrawAhead } from "./draw-ahead.ts";
import { FusedMlpStep } from "./fused-mlp.ts";
import type { StepParts, TrainStep } from "./step.ts";

export class FusedSimultaneousStep implements TrainStep {
  readonly name = "fused";
  readonly #draws: DrawAhead;
  readonly #step: FusedMlpStep;

  /** `parts` must pass fusedStepUnsupported (./fused-mlp.ts). */
  constructor(readonly parts: StepParts, blas: OpenBlas) {
    const { config, players } = parts;
    this.#draws = new DrawAhead(parts.inputs);
    this.#step = new FusedMlpStep(blas, players.G, players.D, players.gOpt, players.dOpt, {
      batchSize: config.training.batchSize,
      dLoss: config.training.dLoss,
      objective: config.training.objective as BceObjective, // the fused step takes BCE only
      flipGLoss: parts.flipGLoss,
      maxColNorm: {
        generator: config.generator.maxColNorm,
        discriminator: config.discriminator.maxColNorm,
      },
    });
  }

  async run(t: number, record: boolean): Promise<Scalars> {
    const drawn = await this.#draws.take(t);
    const { inputs } = this.parts;
    const b = inputs.realArrays(t);
    const out = this.#step.step({
      rows: b.rows,
      real: b.values,
      ...inputs.simultaneousInputs(t, b.rows, drawn),
      epoch: b.epoch,
    }, record); // max column norms included
    // the update has read every array: the worker may draw into its own again
    this.#draws.done(drawn);
    if (!out) return {};
    return Object.fromEntries(
      [...STEP_SERIES, ...SIGNAL_SERIES].map((k) => [k, tf.scalar(out[k])]),
    );
  }

  drawAhead(seed: number, first: number): void {
    this.#draws.start(seed, first);
  }

  close(): void {
    this.#draws.close();
    this.#step.close();
  }
}
