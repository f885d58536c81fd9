/**
 * Squared Euclidean distances between rows of `points` and of `refs`, one batch of points
 * at a time, as ‖x‖² + ‖r‖² − 2x·r from a matrix product on the active backend (clamped
 * at 0). Shared by the Parzen estimator and the nearest-training-image search.
 */
import { interruptionPoint } from "../backend/interrupt.ts";
import { openBlas } from "../backend/openblas.ts";
import { readFloats } from "../backend/select.ts";
import { tf } from "../backend/tf.ts";
import { blasKernelsActive } from "../backend/wasm-kernels.ts";

export async function forEachDistanceBatch(
  points: Float32Array,
  refs: Float32Array,
  dim: number,
  batchSize: number,
  visit: (d2: Float32Array, rows: number, first: number) => void,
  signal?: AbortSignal,
): Promise<void> {
  const n = refs.length / dim, m = points.length / dim;
  if (!Number.isInteger(n) || !Number.isInteger(m)) {
    throw new RangeError("arrays are not whole rows of dim");
  }
  if (blasKernelsActive()) return distancesOnBlas(points, refs, dim, batchSize, visit, signal);
  // refs as [dim, n] once: the wasm backend's transposed matMul is 7–15× slower
  const refsT = tf.tidy(() => tf.transpose(tf.tensor2d(refs, [n, dim])));
  const refNorms = tf.tidy(() => tf.sum(tf.square(refsT), 0).reshape([1, n]));
  try {
    for (let at = 0; at < m; at += batchSize) {
      const rows = Math.min(batchSize, m - at);
      const sq = tf.tidy(() => {
        const x = tf.tensor2d(points.subarray(at * dim, (at + rows) * dim), [rows, dim]);
        const cross = tf.matMul(x, refsT);
        return tf.relu(tf.sub(tf.add(tf.sum(tf.square(x), 1, true), refNorms), tf.mul(cross, 2)));
      });
      const d2 = await readFloats(sq);
      sq.dispose();
      visit(d2, rows, at);
      await interruptionPoint(signal);
    }
  } finally {
    tf.dispose([refsT, refNorms]);
  }
}

/**
 * The same on OpenBLAS, straight from the host arrays: one sgemm per batch, then the
 * norms added in one pass, in float32 steps as the tensor version rounds them.
 */
async function distancesOnBlas(
  points: Float32Array,
  refs: Float32Array,
  dim: number,
  batchSize: number,
  visit: (d2: Float32Array, rows: number, first: number) => void,
  signal: AbortSignal | undefined,
): Promise<void> {
  const blas = openBlas()!;
  const n = refs.length / dim, m = points.length / dim;
  const squaredNorms = (x: Float32Array, count: number) => {
    const out = new Float32Array(count);
    for (let r = 0; r < count; r++) {
      let s = 0;
      for (let k = r * dim; k < (r + 1) * dim; k++) s = Math.fround(s + Math.fround(x[k] * x[k]));
      out[r] = s;
    }
    return out;
  };
  const refNorms = squaredNorms(refs, n);
  const d2 = new Float32Array(Math.min(batchSize, m) * n);
  for (let at = 0; at < m; at += batchSize) {
    const rows = Math.min(batchSize, m - at);
    const x = points.subarray(at * dim, (at + rows) * dim);
    const xNorms = squaredNorms(x, rows);
    const out = d2.subarray(0, rows * n);
    blas.sgemm(false, true, rows, n, dim, x, refs, out);
    for (let r = 0; r < rows; r++) {
      const xr = xNorms[r];
      for (let i = r * n, j = 0; j < n; i++, j++) {
        const v = Math.fround(Math.fround(xr + refNorms[j]) - Math.fround(2 * out[i]));
        out[i] = v > 0 ? v : 0;
      }
    }
    visit(out, rows, at);
    await interruptionPoint(signal);
  }
}

export interface Nearest {
  /** Index into `refs` of each point's nearest row. */
  index: Int32Array;
  /** Its squared distance. */
  distance2: Float32Array;
}

/** Each point's nearest reference row (squared L2 in pixel space, as the paper's Figure 2). */
export async function nearestRows(
  points: Float32Array,
  refs: Float32Array,
  dim: number,
  batchSize = 250,
  signal?: AbortSignal,
): Promise<Nearest> {
  const n = refs.length / dim, m = points.length / dim;
  const index = new Int32Array(m), distance2 = new Float32Array(m);
  await forEachDistanceBatch(points, refs, dim, batchSize, (d2, rows, first) => {
    for (let r = 0; r < rows; r++) {
      let best = 0;
      for (let i = 1; i < n; i++) if (d2[r * n + i] < d2[r * n + best]) best = i;
      index[first + r] = best;
      distance2[first + r] = d2[r * n + best];
    }
  }, signal);
  return { index, distance2 };
}
