/**
 * What a run produces: the contents of result.json. Reports read only this, through
 * `readResult`, which checks the file's `format`.
 */
import type { BackendInfo, Versions } from "../backend/info.ts";
import type { ResolvedConfig } from "../config/load.ts";
import type { SpanConfig } from "../config/schema.ts";
import type { DataProvenance } from "../data/real-data.ts";
import type { ParzenEstimate } from "../metrics/parzen-estimate.ts";
import type { ClassCoverage } from "../metrics/class-coverage.ts";
import type { Check } from "./bands.ts";
import type { DrawCounts } from "./draws.ts";
import type { FigureIndex } from "./figures.ts";
import type { Fingerprint } from "./fingerprint.ts";
import { completeHistory, type History } from "./history.ts";

export const RESULT_FORMAT = 1;

export interface Histogram1d {
  low: number;
  high: number;
  bins: number;
  /** bins + 2 counts: below low, the bins, at or above high. */
  real: number[];
  fake: number[];
}

/** A Parzen estimate in brief: test mean ± SE at the σ chosen on validation. */
export interface ParzenBrief {
  mean: number;
  se: number;
  sigma: number;
}

/** The Parzen estimate with its σ curve and alarms, beside the paper's number. */
export interface ParzenReport extends ParzenEstimate {
  /** Table 1's number for this data set, and how far this run is from it. */
  paper: { mean: number; se: number; delta: number; standardErrors: number } | null;
  /** The same estimator with training images as centres (a perfect memoriser). */
  trainingSetReference: ParzenBrief | null;
  /**
   * The same estimator with σ from other grids (src/metrics/parzen.ts
   * DIAGNOSTIC_SIGMA_GRIDS): beside the protocol's number, never instead of it. Absent in
   * results written before they existed.
   */
  diagnostics?: { fine: ParzenBrief; logspace15: ParzenBrief };
}

/** Generated and test pixels (in [0, 1]) as shares of each of `bins` bins over [low, high]. */
export interface PixelHistogram {
  bins: number;
  low: number;
  high: number;
  generated: number[];
  test: number[];
}

/** The generator scored at one point of training (config metrics.track). */
export interface TrackedPoint {
  /** Iterations done. */
  iteration: number;
  /** Passes over the training split done. */
  epoch: number;
  /** The learning rate of each network's next update. */
  learningRate: { generator: number; discriminator: number };
  /** Wall time of the run so far, every segment included, in seconds. */
  wallSeconds: number;
  parzen: ParzenBrief | null;
  parzenDiagnostics: { fine: ParzenBrief; logspace15: ParzenBrief } | null;
  /**
   * The protocol estimate with G sampled with its training dropout on (configs whose G has
   * dropout; docs/conditional.md §4): beside `parzen`, never instead of it. Null where not
   * scored, absent in results from before it was.
   */
  parzenWithGDropout?: ParzenBrief | null;
  classifierScore: number | null;
  classesCovered: number | null;
  /**
   * A conditional model's class coverage (metrics.classCoverage, docs/conditional.md §3);
   * null where it is not tracked, absent in results from before it was.
   */
  coverage?: ClassCoverage | null;
  /** Population std of the generated pixels (in [0, 1]; the test set's is in result.metrics). */
  fakePixelStd: number;
  /** What scoring this point cost, in seconds. */
  scoreSeconds: number;
}

/** One invocation that trained the run: a fresh start, a resume, or an extension. */
export interface Segment {
  fromIteration: number;
  toIteration: number;
  /** The budget this invocation trained towards, as configured. */
  budget: SpanConfig;
  startedAt: string;
  wallSeconds: number;
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
   * How the updates were computed: "fused" (src/train/steps/fused-mlp.ts) or "autodiff" (TF.js
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
  /** Generated against test pixels (image runs; absent in older results and 1-D runs). */
  pixelHistogram?: PixelHistogram;
  /** The generator scored through training (config metrics.track; absent when not tracked). */
  tracked?: TrackedPoint[];
  /** Every invocation that trained this run, in order (absent in older results). */
  segments?: Segment[];
  /** Milestone checkpoints kept in the run folder (config training.milestones), by iteration. */
  milestones?: number[];
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

/** A result.json that cannot be used: one line naming the file and what is wrong. */
export class ResultError extends Error {}

/** Reads and checks a result.json (its `format`); throws a one-line ResultError. */
export function readResult(path: string): Result {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Deno.readTextFileSync(path));
  } catch (e) {
    throw new ResultError(`${path}: cannot read the run's result (${(e as Error).message})`);
  }
  const format = (parsed as { format?: unknown } | null)?.format;
  if (format !== RESULT_FORMAT) {
    throw new ResultError(
      `${path}: not a usable result (format ${JSON.stringify(format) ?? "missing"}; ` +
        `this version reads ${RESULT_FORMAT})`,
    );
  }
  const result = parsed as Result;
  // results written before the stability signals: those series filled (NaN, no value)
  if (result.history) result.history = completeHistory(result.history);
  return result;
}
