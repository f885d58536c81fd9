/**
 * Counts random draws that repeat the same stream's previous draw. Fresh noise z, dropout
 * masks and real batches differ at every step; a harness bug that freezes one of them
 * (a step counter that stops advancing, a cached tensor) changes a short run's metrics by
 * less than seed-to-seed variation, so the stability checks read these counts instead
 * (repeatedNoiseDraws, repeatedDropoutMasks, repeatedRealBatches in src/check/bands.ts).
 */
import type { DrawCounts } from "../check/bands.ts";

export type DrawKind = "noise" | "dropout" | "real";

export class DrawMonitor {
  readonly counts: Record<DrawKind, DrawCounts> = {
    noise: { draws: 0, repeats: 0 },
    dropout: { draws: 0, repeats: 0 },
    real: { draws: 0, repeats: 0 },
  };
  readonly #previous = new Map<string, string>();

  /** Records one draw of `stream`; returns `values` unchanged. */
  see(kind: DrawKind, stream: string, values: Float32Array): Float32Array {
    // the first 64 values' bits: independent draws never agree on all of them
    const head = new Uint32Array(values.buffer, values.byteOffset, Math.min(64, values.length));
    const signature = `${values.length}:${head.join(",")}`;
    const key = `${kind}:${stream}`;
    this.counts[kind].draws++;
    if (this.#previous.get(key) === signature) this.counts[kind].repeats++;
    this.#previous.set(key, signature);
    return values;
  }
}
