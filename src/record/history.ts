/** The training curves a run records every `logEvery` iterations (result.json `history`). */

export interface History {
  /** Iteration number (1-based) at which each entry was recorded. */
  step: number[];
  /** The last discriminator step's loss in that iteration. */
  dLoss: number[];
  /** The last generator step's loss in that iteration. */
  gLoss: number[];
  /** Mean D(x) over the real batch of that discriminator step. */
  dReal: number[];
  /** Mean D(G(z)) over the generated batch of that discriminator step. */
  dFake: number[];
  /** Mean and population std of all values of the last generator step's batch. */
  fakeMean: number[];
  fakeStd: number[];
  /**
   * Global L2 norm of the last discriminator step's gradient: √(Σ g²) over every D parameter,
   * of the gradient that step applied (the penalty's included for WGAN-GP). NaN in runs
   * recorded before these series existed.
   */
  dGradNorm: number[];
  /** The same for the last generator step's gradient over every G parameter. */
  gGradNorm: number[];
  /**
   * The last discriminator step's accuracy on its two batches: the share of real rows with a
   * positive logit and generated rows with a negative one, (real + generated) / 2 (σ(D) on
   * either side of 1/2; for a critic, the sign of its raw output).
   */
  dAccuracy: number[];
  /** 1 where D has won at that iteration (src/record/stability.ts `dWonAt`), else 0. */
  dWon: number[];
}

/**
 * The series a training step computes besides `step`, in the order the first format recorded
 * them: the losses, D's outputs and G's batch statistics. Golden fingerprints hash these.
 */
export const STEP_SERIES = ["dLoss", "gLoss", "dReal", "dFake", "fakeMean", "fakeStd"] as const;

/** The stability signals a step computes: both gradient norms and D's accuracy. */
export const SIGNAL_SERIES = ["dGradNorm", "gGradNorm", "dAccuracy"] as const;

/**
 * The recorded series besides `step`. Part of the record format: a checkpoint's history and
 * result.json carry these keys (files written before the stability signals lack the last
 * four; `completeHistory` fills them).
 */
export const HISTORY_SERIES = [...STEP_SERIES, ...SIGNAL_SERIES, "dWon"] as const;

export type HistorySeries = typeof HISTORY_SERIES[number];

export function emptyHistory(): History {
  return {
    step: [],
    ...Object.fromEntries(HISTORY_SERIES.map((k) => [k, [] as number[]])),
  } as unknown as History;
}

/**
 * A history read from a file, with every series of this version: one recorded before a
 * series existed gets NaN at each of its iterations (written back as null), so that every
 * series has one value per `step`.
 */
export function completeHistory(h: Partial<History> & { step: number[] }): History {
  const out = { ...h } as Record<string, number[]>;
  for (const k of HISTORY_SERIES) out[k] ??= h.step.map(() => NaN);
  return out as unknown as History;
}
