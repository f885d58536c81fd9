/**
 * A Parzen-window estimate as recorded in result.json: types only, so the run record loads
 * no TF.js (the estimator itself is src/metrics/parzen.ts).
 */

export interface SigmaPoint {
  sigma: number;
  /** Mean log-likelihood of the validation set under this σ. */
  validationLL: number;
}

export interface ParzenEstimate {
  sigma: number;
  /** Mean test log-likelihood, in nats. */
  mean: number;
  /** Standard error over test points: std (ddof 0) / √N. */
  se: number;
  testCount: number;
  centreCount: number;
  validationCount: number;
  dim: number;
  sigmaCurve: SigmaPoint[];
  /** Conditions that make the number suspect (empty when none). */
  alarms: string[];
}
