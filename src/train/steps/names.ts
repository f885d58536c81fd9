/**
 * The names of the training steps: what `--train-step` chooses and what a result records.
 * Names only, so the CLI can check `--train-step` without loading TF.js.
 */

/** auto: fused where it applies (wasm+openblas, MLPs, simultaneous update), else autodiff. */
export const TRAIN_STEP_CHOICES = ["auto", "fused", "autodiff"] as const;
export type TrainStepChoice = typeof TRAIN_STEP_CHOICES[number];
/** How a run's updates were computed (result.trainStep, a checkpoint's backend.trainStep). */
export type TrainStepName = Exclude<TrainStepChoice, "auto">;
