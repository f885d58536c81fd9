/** What a run reports after each iteration (RunOptions.onProgress). Types only. */

export interface Progress {
  iteration: number;
  iterations: number;
  /** Latest recorded losses (updated every logEvery iterations). */
  dLoss: number | null;
  gLoss: number | null;
}
