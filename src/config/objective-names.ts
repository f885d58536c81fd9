/**
 * The GAN objectives a config may name (training.objective), in the config layer so the
 * schema can list them; their maths is src/train/losses.ts.
 */
export const OBJECTIVES = [
  "non-saturating",
  "minimax",
  "least-squares",
  "wasserstein",
  "wasserstein-gp",
  "hinge",
  "kl",
  "pearson",
] as const;
export type Objective = typeof OBJECTIVES[number];

/** The 2014 paper's objectives: a sigmoid D and binary cross-entropy (the fused step's). */
export const BCE_OBJECTIVES: readonly string[] = ["non-saturating", "minimax"];
