/**
 * The arrays a run's training steps draw into, one per stream and length, so that a step's
 * noise, dropout masks and real batch need no fresh memory: new arrays every step are garbage
 * V8 collects when it gets round to it, and the resident set climbs meanwhile
 * (docs/performance.md §Memory). An array is drawn into again at its stream's next draw, so
 * whoever is handed one reads it (or makes its tensor of it) before that.
 */
export class DrawBuffers {
  readonly #arrays = new Map<string, Map<number, Float32Array>>();

  /** `stream`'s array of `length` values: the same array at every call with these two. */
  of(stream: string, length: number): Float32Array {
    let byLength = this.#arrays.get(stream);
    if (!byLength) this.#arrays.set(stream, byLength = new Map());
    let array = byLength.get(length);
    // an epoch's short last batch is a second length; there are no others
    if (!array) byLength.set(length, array = new Float32Array(length));
    return array;
  }
}
