/**
 * Deliberate breakages, for the canary tests only. A run given one of these (the CLI reads
 * `GANBENCH_FAULT` and passes it as RunOptions.fault) trains wrong in one known way, so a
 * test can show that `bench --check` catches a broken harness:
 *   flip-g-loss     the generator ascends its loss instead of descending it
 *   lr-zero         both optimisers take steps of size 0 (no learning-rate floor)
 *   freeze-noise    every step reuses step 0's noise z
 *   freeze-dropout  every step reuses step 0's dropout masks
 * Each fault is a transform of what the loop is built from, applied once before it starts;
 * the loop itself has no fault branches. A faulted run says so in result.json.
 */
import type { OptimizerConfig } from "../config/schema.ts";

export const FAULTS = ["flip-g-loss", "lr-zero", "freeze-noise", "freeze-dropout"] as const;
export type Fault = typeof FAULTS[number];

type Optimizers = { generator: OptimizerConfig; discriminator: OptimizerConfig };

/** What a fault changes: the identity transforms when there is none. */
export interface FaultTransforms {
  /** The optimisers the run builds. */
  optimizers(o: Optimizers): Optimizers;
  /** The step whose noise z step t draws. */
  noiseStep(t: number): number;
  /** The step whose dropout masks step t draws. */
  maskStep(t: number): number;
  /** Whether the generator's loss is negated (it then ascends it). */
  flipGLoss: boolean;
}

export function faultTransforms(fault: Fault | null): FaultTransforms {
  const same = (t: number) => t;
  const frozen = () => 0;
  return {
    optimizers: fault === "lr-zero" ? zeroLearningRates : (o) => o,
    noiseStep: fault === "freeze-noise" ? frozen : same,
    maskStep: fault === "freeze-dropout" ? frozen : same,
    flipGLoss: fault === "flip-g-loss",
  };
}

/** The fault named by `value` (GANBENCH_FAULT), null when empty; a one-line error otherwise. */
export function parseFault(value: string | undefined): Fault | null {
  if (!value) return null;
  if (!(FAULTS as readonly string[]).includes(value)) {
    throw new Error(`GANBENCH_FAULT: found "${value}"; expected one of ${FAULTS.join(", ")}`);
  }
  return value as Fault;
}

/** The optimisers as `lr-zero` breaks them: zero steps, with pylearn2's lr floor removed too. */
export function zeroLearningRates(o: Optimizers): Optimizers {
  const zero = (c: OptimizerConfig): OptimizerConfig =>
    c.kind === "momentum" ? { ...c, lr: 0, minLr: 0 } : { ...c, lr: 0 };
  return { generator: zero(o.generator), discriminator: zero(o.discriminator) };
}
