/**
 * Which step computes a run's simultaneous updates: the fused MLP step (src/train/fused-mlp.ts)
 * or TF.js autodiff. Names only, so the CLI can check `--train-step` without loading TF.js.
 */

/** auto: fused where it applies (wasm+openblas, MLPs, simultaneous update), else autodiff. */
export const TRAIN_STEP_CHOICES = ["auto", "fused", "autodiff"] as const;
export type TrainStepChoice = typeof TRAIN_STEP_CHOICES[number];
