/**
 * The Parzen-window log-likelihood of Goodfellow et al. (2014), exactly as their
 * parzen_ll.py (Yann Dauphin's estimator; docs/paper-protocol.md §3):
 *
 *   log p̂(x) = logmeanexp_i(−‖x − μ_i‖² / (2σ²)) − d·log(σ√(2π))
 *
 * with the generator's samples μ_i as kernel centres, σ chosen from
 * logspace(−1, 0, 10) by the mean log-likelihood of a validation set, and the mean over
 * the test set reported with SE = std (ddof 0) / √N.
 *
 * Squared distances come from one matrix product per batch on the active backend
 * (src/metrics/distances.ts); each σ then costs only a log-sum-exp over the same distances. Rows are independent, so the result does not depend on the batch size.
 */
import { forEachDistanceBatch } from "./distances.ts";
import type { ParzenEstimate } from "./parzen-estimate.ts";

/** numpy.logspace(start, end, count): the paper's σ grid is logspace(−1, 0, 10). */
export function logspace(start: number, end: number, count: number): number[] {
  return Array.from({ length: count }, (_, i) => 10 ** (start + ((end - start) * i) / (count - 1)));
}

export const PAPER_SIGMAS = logspace(-1, 0, 10);

export interface ParzenOptions {
  /** Test (or validation) rows per matrix product. */
  batchSize?: number;
  /** Stops the estimate between batches (an interruption point, backend/interrupt.ts). */
  signal?: AbortSignal;
}

/**
 * log p̂(x) for each row of `points` under the mixture centred on `centres`, for every σ:
 * result[s][j] is the log-likelihood of point j under sigmas[s] (float64).
 */
export async function parzenLogLikelihoods(
  centres: Float32Array,
  points: Float32Array,
  dim: number,
  sigmas: number[],
  { batchSize = 500, signal }: ParzenOptions = {},
): Promise<Float64Array[]> {
  const n = centres.length / dim, m = points.length / dim;
  if (!Number.isInteger(n) || !Number.isInteger(m)) {
    throw new RangeError("arrays are not whole rows of dim");
  }
  const out = sigmas.map(() => new Float64Array(m));
  await forEachDistanceBatch(points, centres, dim, batchSize, (d2, rows, first) => {
    sigmas.forEach((sigma, s) => {
      const norm = dim * Math.log(sigma * Math.sqrt(2 * Math.PI));
      const scale = 1 / (2 * sigma * sigma);
      for (let r = 0; r < rows; r++) {
        out[s][first + r] = logMeanExpNegScaled(d2, r * n, n, scale) - norm;
      }
    });
  }, signal);
  return out;
}

/**
 * log((1/n) Σ exp(−scale·v_i)) over v[from, from + n), in float64 with the max shifted out.
 * Terms below e^−60 are skipped, not computed: the sum holds a 1 (the max term), so even
 * 10^6 of them (< 10^−20 in all) are below its rounding, and most exps are saved.
 */
function logMeanExpNegScaled(v: Float32Array, from: number, n: number, scale: number): number {
  let min = Infinity;
  for (let i = from; i < from + n; i++) if (v[i] < min) min = v[i];
  const cutoff = min + 60 / scale;
  let sum = 0;
  for (let i = from; i < from + n; i++) if (v[i] < cutoff) sum += Math.exp(-scale * (v[i] - min));
  return -scale * min + Math.log(sum / n);
}

export function meanAndSe(values: Float64Array): { mean: number; se: number } {
  let sum = 0;
  for (const v of values) sum += v;
  const mean = sum / values.length;
  let ss = 0;
  for (const v of values) ss += (v - mean) ** 2;
  return { mean, se: Math.sqrt(ss / values.length) / Math.sqrt(values.length) };
}

/** σ by validation likelihood, then the test estimate: the whole of parzen_ll.py. */
export async function parzenEstimate(
  centres: Float32Array,
  validation: Float32Array,
  test: Float32Array,
  dim: number,
  { sigmas = PAPER_SIGMAS, ...options }: ParzenOptions & { sigmas?: number[] } = {},
): Promise<ParzenEstimate> {
  return (await parzenEstimates(centres, validation, test, dim, { protocol: sigmas }, options))
    .protocol;
}

/**
 * The estimate for each of several σ grids at the cost of one: every grid's σ curve comes
 * from one pass over the validation distances and every chosen σ from one pass over the
 * test distances. Each grid's numbers equal those of its own parzenEstimate, bit for bit.
 */
export async function parzenEstimates<K extends string>(
  centres: Float32Array,
  validation: Float32Array,
  test: Float32Array,
  dim: number,
  grids: Record<K, number[]>,
  options: ParzenOptions = {},
): Promise<Record<K, ParzenEstimate>> {
  const names = Object.keys(grids) as K[];
  const all = [...new Set(names.flatMap((k) => grids[k]))];
  const valid = await parzenLogLikelihoods(centres, validation, dim, all, options);
  const validMean = new Map(all.map((sigma, s) => [sigma, meanAndSe(valid[s]).mean]));
  const chosen = names.map((k) => {
    const sigmas = grids[k];
    const sigmaCurve = sigmas.map((sigma) => ({ sigma, validationLL: validMean.get(sigma)! }));
    let best = 0;
    sigmaCurve.forEach((p, s) => {
      if (p.validationLL > sigmaCurve[best].validationLL) best = s;
    });
    return { sigmaCurve, best };
  });
  const tested = [...new Set(chosen.map(({ sigmaCurve, best }) => sigmaCurve[best].sigma))];
  const testLL = await parzenLogLikelihoods(centres, test, dim, tested, options);
  const rangeAlarms = outsideUnitAlarms({
    samples: centres,
    "validation data": validation,
    "test data": test,
  });
  const out = {} as Record<K, ParzenEstimate>;
  names.forEach((k, g) => {
    const { sigmaCurve, best } = chosen[g];
    const sigma = sigmaCurve[best].sigma;
    const { mean, se } = meanAndSe(testLL[tested.indexOf(sigma)]);
    const alarms: string[] = [];
    if (sigmaCurve.length > 1 && (best === 0 || best === sigmaCurve.length - 1)) {
      alarms.push(
        `σ = ${sigma.toPrecision(4)} is at the edge of the grid: the best σ may lie outside it`,
      );
    }
    alarms.push(...rangeAlarms);
    if (!Number.isFinite(mean) || Math.abs(mean) / dim > 2) {
      alarms.push(
        `${
          mean.toPrecision(6)
        } nats is implausible for ${dim}-dimensional data in [0, 1] (more than 2 nats per dimension)`,
      );
    }
    out[k] = {
      sigma,
      mean,
      se,
      testCount: test.length / dim,
      centreCount: centres.length / dim,
      validationCount: validation.length / dim,
      dim,
      sigmaCurve,
      alarms,
    };
  });
  return out;
}

function outsideUnitAlarms(arrays: Record<string, Float32Array>): string[] {
  const alarms: string[] = [];
  for (const [name, data] of Object.entries(arrays)) {
    let lo = Infinity, hi = -Infinity;
    for (const v of data) {
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    if (lo < 0 || hi > 1) {
      alarms.push(
        `${name} fall outside [0, 1] (range ${lo.toPrecision(3)} … ${
          hi.toPrecision(3)
        }): the protocol scores pixels in [0, 1]`,
      );
    }
  }
  return alarms;
}

/**
 * σ grids beside the protocol's, as diagnostics (never instead of it): a fine grid around
 * where MNIST's validation curve peaks (docs/results.md: the best σ falls between two
 * protocol grid points), and the 15-point grid the original script used briefly.
 */
export const DIAGNOSTIC_SIGMA_GRIDS = {
  fine: logspace(Math.log10(0.13), Math.log10(0.26), 27),
  logspace15: logspace(-1, 0, 15),
};

/** How far a number is from the paper's, in standard errors of the difference. */
export function deltaToPaper(
  estimate: { mean: number; se: number },
  paper: { mean: number; se: number },
): { delta: number; standardErrors: number } {
  const delta = estimate.mean - paper.mean;
  return { delta, standardErrors: delta / Math.sqrt(estimate.se ** 2 + paper.se ** 2) };
}
