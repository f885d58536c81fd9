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
}

/**
 * The recorded series besides `step`. Part of the record format: a checkpoint's history and
 * result.json carry these keys.
 */
export const HISTORY_SERIES = ["dLoss", "gLoss", "dReal", "dFake", "fakeMean", "fakeStd"] as const;

export type HistorySeries = typeof HISTORY_SERIES[number];

export function emptyHistory(): History {
  return { step: [], dLoss: [], gLoss: [], dReal: [], dFake: [], fakeMean: [], fakeStd: [] };
}
