/**
 * Interruption points for long computations (scoring, classifier training): Ctrl-C reaches
 * the process as an event, and a computation that only awaits settled promises never gives
 * the event loop a turn to deliver it. An interruption point gives it that turn, then stops
 * the computation with the signal's reason if it was aborted.
 */

/** A turn for the event loop, then `signal.throwIfAborted()`; free without a signal. */
export async function interruptionPoint(signal: AbortSignal | undefined): Promise<void> {
  if (!signal) return;
  await new Promise((resolve) => setTimeout(resolve, 0));
  signal.throwIfAborted();
}

/** Whether `e` is the abort of `signal` (and not some other failure during it). */
export function isAbortOf(signal: AbortSignal | undefined, e: unknown): boolean {
  return Boolean(signal?.aborted) && e === signal!.reason;
}
