/**
 * Counts random draws that repeat the same stream's previous draw. Fresh noise z, dropout
 * masks and real batches differ at every step; a harness bug that freezes one of them
 * (a step counter that stops advancing, a cached tensor) changes a short run's metrics by
 * less than seed-to-seed variation, so the stability checks read these counts instead
 * (repeatedNoiseDraws, repeatedDropoutMasks, repeatedRealBatches in src/record/bands.ts).
 */
import type { DrawCounts, DrawKind, DrawState } from "../record/draws.ts";

/**
 * Two 32-bit multiplicative hashes of the bits of up to 4,096 values spread evenly over the
 * whole draw. Spread, not a prefix (the first pixels of MNIST images are all 0); sampled,
 * not all (a paper MNIST iteration draws 340,000 values: hashing all of them cost about
 * 1 ms of a 35–50 ms step). Two fresh draws agree on 4,096 random positions by chance with
 * probability far below 2^−1000 for noise and dropout masks.
 */
function fingerprint(values: Float32Array): string {
  const words = new Uint32Array(values.buffer, values.byteOffset, values.length);
  const stride = Math.max(1, Math.ceil(words.length / 4096));
  let a = 0x811c9dc5, b = 0x9e3779b9;
  for (let i = 0; i < words.length; i += stride) {
    a = Math.imul(a ^ words[i], 0x01000193);
    b = Math.imul(b + words[i], 0x85ebca6b) ^ (b >>> 13);
  }
  return `${values.length}:${a >>> 0}:${b >>> 0}`;
}

export class DrawMonitor {
  readonly counts: Record<DrawKind, DrawCounts>;
  readonly #previous: Map<string, string>;

  constructor(state?: DrawState) {
    this.counts = state ? structuredClone(state.counts) : {
      noise: { draws: 0, repeats: 0 },
      dropout: { draws: 0, repeats: 0 },
      real: { draws: 0, repeats: 0 },
    };
    this.#previous = new Map(Object.entries(state?.previous ?? {}));
  }

  state(): DrawState {
    return { counts: structuredClone(this.counts), previous: Object.fromEntries(this.#previous) };
  }

  /** Records one draw of `stream`; returns `values` unchanged. */
  see(kind: DrawKind, stream: string, values: Float32Array): Float32Array {
    const signature = fingerprint(values);
    const key = `${kind}:${stream}`;
    this.counts[kind].draws++;
    if (this.#previous.get(key) === signature) this.counts[kind].repeats++;
    this.#previous.set(key, signature);
    return values;
  }
}
