/**
 * The nearest reference row to each query by squared L2, summed directly in float64 (no
 * TF.js, no BLAS): the paper's Figure 2 neighbours (a handful of samples against a training
 * set) and a 2-D sample's nearest mixture centre. Many queries against many rows take
 * `nearestRows` of ./distances.ts instead (float32 matrix products).
 */

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
  const n = refs.length / dim, m = queries.length / dim;
  const index = new Int32Array(m);
  const distance2 = new Float64Array(m).fill(Infinity);
  const row = new Float64Array(dim);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < dim; j++) {
      const v = refs[i * dim + j];
      row[j] = map ? map(v) : v;
    }
    for (let k = 0; k < m; k++) {
      // partial sums only grow: stop once this row cannot be nearer
      let s = 0;
      for (let j = 0; j < dim && s < distance2[k]; j++) s += (queries[k * dim + j] - row[j]) ** 2;
      if (s < distance2[k]) [distance2[k], index[k]] = [s, i];
    }
  }
  return { index, distance2 };
}
