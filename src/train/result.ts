/** What a run produces: the contents of result.json. Reports read only this. */
import type { BackendInfo } from "../backend/select.ts";
import type { Versions } from "../backend/versions.ts";
import type { ResolvedConfig } from "../config/load.ts";
import type { Check, DrawCounts } from "../check/bands.ts";
import type { ParzenEstimate } from "../metrics/parzen.ts";
import type { Fingerprint } from "./checkpoint.ts";
import type { FigureIndex } from "./figures.ts";
import type { DataProvenance } from "./real-data.ts";

export const RESULT_FORMAT = 1;

export interface History {
  /** Iteration number (1-based) at which each entry was recorded. */
  step: number[];
  /** The last discriminator step's loss in that iteration. */
  dLoss: number[];
  /** The last generator step's loss in that iteration. */
  gLoss: number[];
  /** Mean D(x) over the real batch of that discriminator step. */
  dReal: number[];
  /** Mean D(G(z)) over the generated batch of that discriminator step. */
  dFake: number[];
  /** Mean and population std of all values of the last generator step's batch. */
  fakeMean: number[];
  fakeStd: number[];
}

export interface Histogram1d {
  low: number;
  high: number;
  bins: number;
  /** bins + 2 counts: below low, the bins, at or above high. */
  real: number[];
  fake: number[];
}

/** The Parzen estimate with its σ curve and alarms, beside the paper's number. */
export interface ParzenReport extends ParzenEstimate {
  /** Table 1's number for this data set, and how far this run is from it. */
  paper: { mean: number; se: number; delta: number; standardErrors: number } | null;
  /** The same estimator with training images as centres (a perfect memoriser). */
  trainingSetReference: { mean: number; se: number; sigma: number } | null;
}

export interface Result {
  format: typeof RESULT_FORMAT;
  experiment: string;
  profile: string;
  seed: number;
  config: ResolvedConfig["config"];
  configHash: string;
  /** `blas` is absent in results written before the OpenBLAS path existed. */
  backend: BackendInfo;
  versions: Versions;
  /** The data set read (files with their SHA-256), or null for sampled data. */
  data: DataProvenance | null;
  parameters: { generator: number; discriminator: number };
  /**
   * How the updates were computed: "fused" (src/train/fused-mlp.ts) or "autodiff" (TF.js
   * gradients; also what a result without the field used). Numbers depend on it.
   */
  trainStep?: "fused" | "autodiff";
  /** Matrix-product FLOPs one iteration needs (src/models/flops.ts); absent in older results. */
  modelFlopsPerIteration?: number;
  /** For a stacked stage: the run whose generator it started from. */
  pretrainedFrom: { experiment: string; configHash: string; iteration: number } | null;
  status: "completed" | "diverged";
  /** Iteration at which a non-finite loss (or weight) was seen, when status is "diverged". */
  divergedAt: number | null;
  /** The checkpoint's iteration when the run was resumed, else null. */
  resumedFrom: number | null;
  /** The run's budget in iterations. */
  iterations: number;
  /** Iterations trained when the metrics were computed (less than `iterations` with --eval-only). */
  evaluatedAtIteration: number | null;
  history: History;
  /** Every `fingerprintEvery` iterations and at the end: see `deno task verify` / `diff`. */
  fingerprints: Fingerprint[];
  metrics: Record<string, number>;
  histogram: Histogram1d | null;
  parzen: ParzenReport | null;
  /** Fraction of generated samples the harness's classifier puts in each class (MNIST). */
  classHistogram: number[] | null;
  /** The report's figures in the run folder (samples/, figures/); null when none were made. */
  figures: FigureIndex | null;
  /** The stability bands of the run's profile and how the run fared (absent: none declared). */
  checks?: Check[];
  /** Random draws the loop used, and how many repeated the previous draw (absent in old files). */
  draws?: Record<"noise" | "dropout" | "real", DrawCounts>;
  /** Set only on a deliberately broken run (GANBENCH_FAULT, canary tests). */
  fault?: string;
  startedAt: string;
  wallSeconds: number;
}
