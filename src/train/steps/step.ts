/**
 * A training step: what computes one iteration's updates. Four implement it, each in its own
 * module: the 2014 code's simultaneous update by autodiff (./simultaneous.ts), Algorithm 1's
 * alternating update (./alternating.ts) and the fused MLP step of each (./fused.ts,
 * ./fused-alternating.ts); ./choice.ts picks one for a run. A step draws its own random inputs (../inputs.ts), so iteration `it` reads
 * the same numbers whichever step runs it and wherever a run resumes.
 */
import type { Variable } from "../../backend/tf.ts";
import type { ResolvedConfig } from "../../config/load.ts";
import type { RealData } from "../../data/real-data.ts";
import { applyMaxColNorm, type Network, networkParams } from "../../models/network.ts";
import type { Optimizer } from "../../models/optimizers.ts";
import type { StepInputs } from "../inputs.ts";
import { clipWeights } from "../losses.ts";
import type { Objectives, Scalars } from "../objectives.ts";
import type { TrainStepName } from "./names.ts";

type Config = ResolvedConfig["config"];

export interface TrainStep {
  /** How its updates are computed, as result.json and checkpoints record it. */
  readonly name: TrainStepName;
  /**
   * Iteration `it`'s updates. With `record`, the recorded scalars (every HISTORY_SERIES key,
   * tensors kept for the loop to read and dispose); otherwise none.
   */
  run(it: number, record: boolean): Promise<Scalars>;
  /** From iteration `first` on, draw each iteration's random inputs a step ahead in a worker. */
  drawAhead?(seed: number, first: number): void;
  /** Releases what the step holds besides the networks (its draw worker). */
  close(): void;
}

/** What a step is built from. */
export interface StepParts {
  config: Config;
  real: RealData;
  inputs: StepInputs;
  players: Players;
  /** Both objectives on tensors (the autodiff steps). */
  objectives: Objectives;
  /** The flip-g-loss canary (src/train/faults.ts), for the fused step's own objective. */
  flipGLoss: boolean;
}

/** The two networks, their optimisers, and what surrounds every update. */
export interface Players {
  G: Network;
  D: Network;
  gVars: Variable[];
  dVars: Variable[];
  gOpt: Optimizer;
  dOpt: Optimizer;
  /** Before each D step (WGAN's weight clipping, as its reference code). */
  beforeDStep(): void;
  /** After every update: pylearn2's max column norms. */
  afterUpdate(): void;
}

/** The players of a config, with its per-step weight constraints. */
export function playersOf(
  config: Config,
  G: Network,
  D: Network,
  gOpt: Optimizer,
  dOpt: Optimizer,
): Players {
  const { training } = config;
  const gVars = networkParams(G).map((p) => p.variable);
  const dVars = networkParams(D).map((p) => p.variable);
  return {
    G,
    D,
    gVars,
    dVars,
    gOpt,
    dOpt,
    beforeDStep: () => {
      if (training.weightClip) clipWeights(dVars, training.weightClip);
    },
    afterUpdate: () => {
      if (config.generator.maxColNorm) applyMaxColNorm(G, config.generator.maxColNorm);
      if (config.discriminator.maxColNorm) applyMaxColNorm(D, config.discriminator.maxColNorm);
    },
  };
}
