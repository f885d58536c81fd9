/**
 * The nearest reference row to each query by squared L2, summed directly in float64 (no
 * TF.js, no BLAS): the paper's Figure 2 neighbours (a handful of samples against a training
 * set) and a 2-D sample's nearest mixture centre. Many queries against many rows take
 * `nearestRows` of ./distances.ts instead (float32 matrix products).
 */

/** Reference rows seen one at a time, in order, against fixed queries: the running nearest. */
class NearestSearch {
  readonly index: Int32Array;
  readonly distance2: Float64Array;
  readonly #row: Float64Array;
  #seen = 0;

  constructor(
    private readonly queries: Float32Array,
    private readonly dim: number,
    private readonly map: ((v: number) => number) | null,
  ) {
    const m = queries.length / dim;
    this.index = new Int32Array(m);
    this.distance2 = new Float64Array(m).fill(Infinity);
    this.#row = new Float64Array(dim);
  }

  /** The next reference row, `refs[at, at + dim)`. */
  offer(refs: ArrayLike<number>, at: number): void {
    const { queries, dim, map, index, distance2 } = this, row = this.#row, i = this.#seen++;
    for (let j = 0; j < dim; j++) {
      const v = refs[at + j];
      row[j] = map ? map(v) : v;
    }
    for (let k = 0; k < index.length; k++) {
      // partial sums only grow: stop once this row cannot be nearer
      let s = 0;
      for (let j = 0; j < dim && s < distance2[k]; j++) s += (queries[k * dim + j] - row[j]) ** 2;
      if (s < distance2[k]) [distance2[k], index[k]] = [s, i];
    }
  }
}

/**
 * Each of the rows of `queries` (dim values a row): the index of its nearest row of `refs`
 * (the first one on a tie) and the squared distance, summed over coordinates in order.
 * `map`, when given, maps each reference value as it is read, so a training set needs no
 * second copy in the queries' scale. A query with no finite distance keeps index 0 and
 * distance Infinity.
 */
export function nearestRowsDirect(
  queries: Float32Array,
  refs: ArrayLike<number>,
  dim: number,
  map: ((v: number) => number) | null = null,
): { index: Int32Array; distance2: Float64Array } {
  const search = new NearestSearch(queries, dim, map);
  for (let at = 0; at < refs.length; at += dim) search.offer(refs, at);
  return { index: search.index, distance2: search.distance2 };
}

/**
 * `nearestRowsDirect` against `count` reference rows that `readRows(from, to, out)` writes
 * into `out` from entry 0, `chunkRows` rows at a time: the same arithmetic in the same order,
 * so the same answer, without the references in memory at once (a training split kept as
 * 8-bit pixels is read a chunk of float rows at a time).
 */
export function nearestRowsChunked(
  queries: Float32Array,
  count: number,
  dim: number,
  readRows: (from: number, to: number, out: Float32Array) => void,
  map: ((v: number) => number) | null = null,
  chunkRows = 1024,
): { index: Int32Array; distance2: Float64Array } {
  if (!(Number.isInteger(chunkRows) && chunkRows >= 1)) {
    throw new RangeError(`chunkRows must be a positive integer (got ${chunkRows})`);
  }
  const search = new NearestSearch(queries, dim, map);
  const chunk = new Float32Array(Math.min(chunkRows, count) * dim);
  for (let from = 0; from < count; from += chunkRows) {
    const to = Math.min(count, from + chunkRows);
    readRows(from, to, chunk);
    for (let at = 0; at < (to - from) * dim; at += dim) search.offer(chunk, at);
  }
  return { index: search.index, distance2: search.distance2 };
}
