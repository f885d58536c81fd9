/**
 * Deliberate breakages, for the canary tests only. `GANBENCH_FAULT` set to one of these
 * makes the training loop wrong in one known way, so a test can show that
 * `bench --check` catches a broken harness:
 *   flip-g-loss     the generator ascends its loss instead of descending it
 *   lr-zero         both optimisers take steps of size 0 (no learning-rate floor)
 *   freeze-noise    every step reuses step 0's noise z
 *   freeze-dropout  every step reuses step 0's dropout masks
 * Read once per run in runExperiment; a faulted run says so on stderr and in result.json.
 */
import type { OptimizerConfig } from "../config/schema.ts";

export const FAULTS = ["flip-g-loss", "lr-zero", "freeze-noise", "freeze-dropout"] as const;
export type Fault = typeof FAULTS[number];

export function activeFault(): Fault | null {
  const value = Deno.env.get("GANBENCH_FAULT");
  if (!value) return null;
  if (!(FAULTS as readonly string[]).includes(value)) {
    throw new Error(`GANBENCH_FAULT: found "${value}"; expected one of ${FAULTS.join(", ")}`);
  }
  return value as Fault;
}

/** The optimisers as `lr-zero` breaks them: zero steps, with pylearn2's lr floor removed too. */
export function zeroLearningRates(
  o: { generator: OptimizerConfig; discriminator: OptimizerConfig },
): { generator: OptimizerConfig; discriminator: OptimizerConfig } {
  const zero = (c: OptimizerConfig): OptimizerConfig =>
    c.kind === "momentum" ? { ...c, lr: 0, minLr: 0 } : { ...c, lr: 0 };
  return { generator: zero(o.generator), discriminator: zero(o.discriminator) };
}
