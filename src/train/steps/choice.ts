/**
 * Which step trains a run: the config's update (simultaneous or Algorithm 1's alternating) by
 * the fused MLP step where it applies (wasm+openblas, MLP models) and was not
 * declined, else by autodiff.
 */
import { openBlas } from "../../backend/openblas.ts";
import { blasKernelsActive } from "../../backend/wasm-kernels.ts";
import { AutodiffAlternatingStep } from "./alternating.ts";
import { FusedAlternatingStep } from "./fused-alternating.ts";
import { FusedSimultaneousStep } from "./fused.ts";
import { fusedStepUnsupported } from "./fused-mlp.ts";
import type { TrainStepChoice } from "./names.ts";
import { AutodiffSimultaneousStep } from "./simultaneous.ts";
import type { StepParts, TrainStep } from "./step.ts";

/** `trainStep: "fused"` asked of a config or backend the fused step cannot train (exit 2). */
export class TrainStepChoiceError extends Error {
  override name = "TrainStepChoiceError";
}

/**
 * The step for `choice` ("auto" by default); "fused" where the fused step cannot train the
 * config is a one-line error naming `experiment` and why (`backendName`: the run's backend).
 */
export function chooseTrainStep(
  parts: StepParts,
  choice: TrainStepChoice,
  experiment: string,
  backendName: string,
): TrainStep {
  const { config, players: { G, D, gOpt, dOpt } } = parts;
  const fusedWhyNot = blasKernelsActive()
    ? fusedStepUnsupported(config, G, D, gOpt, dOpt)
    : `it runs on wasm+openblas only (this run: ${backendName})`;
  if (choice === "fused" && fusedWhyNot) {
    throw new TrainStepChoiceError(`the fused step cannot train ${experiment}: ${fusedWhyNot}`);
  }
  if (choice !== "autodiff" && !fusedWhyNot) {
    return config.training.update === "simultaneous"
      ? new FusedSimultaneousStep(parts, openBlas()!)
      : new FusedAlternatingStep(parts, openBlas()!);
  }
  return config.training.update === "simultaneous"
    ? new AutodiffSimultaneousStep(parts)
    : new AutodiffAlternatingStep(parts);
}
