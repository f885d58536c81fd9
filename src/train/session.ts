/**
 * What one run holds (`Session`): set up once by src/train/run.ts, then read and extended by
 * its loop, the run's state (src/train/state.ts) and the end; and the run's schedule.
 */
import type { BackendInfo, Versions } from "../backend/info.ts";
import type { ResolvedConfig } from "../config/load.ts";
import { discriminatorBatchesPerIteration, spanIterations } from "../config/span.ts";
import { trackedScores } from "../config/schema.ts";
import type { RealData } from "../data/real-data.ts";
import type { Network, Param } from "../models/network.ts";
import type { Optimizer } from "../models/optimizers.ts";
import type { Fingerprint } from "../record/fingerprint.ts";
import type { History } from "../record/history.ts";
import type { Result, Segment, TrackedPoint } from "../record/result.ts";
import type { Rng } from "../rng/streams.ts";
import type { Tracker } from "./evaluate.ts";
import type { Fault } from "./faults.ts";
import type { FigureMaker } from "./figures.ts";
import type { StepInputs } from "./inputs.ts";
import type { RunOptions } from "./options.ts";
import type { TrainStep } from "./steps/step.ts";

type Config = ResolvedConfig["config"];

export interface Session {
  resolved: ResolvedConfig;
  options: RunOptions;
  config: Config;
  startedAt: Date;
  t0: number;
  backend: BackendInfo;
  versions: Versions;
  rng: Rng;
  fault: Fault | null;
  real: RealData;
  G: Network;
  D: Network;
  gParams: Param[];
  dParams: Param[];
  gOpt: Optimizer;
  dOpt: Optimizer;
  inputs: StepInputs;
  /** What computes each iteration's updates (src/train/steps/). */
  step: TrainStep;
  schedule: Schedule;
  // the record so far: empty, or the resumed checkpoint's
  start: number;
  history: History;
  fingerprints: Fingerprint[];
  tracked: TrackedPoint[];
  segments: Segment[];
  milestones: number[];
  earlierSeconds: number;
  figures: FigureMaker | null;
  snapshots: number[];
  snapshotsTaken: Set<number>;
  tracker: Tracker | null;
  // the loop's outcome
  status: Result["status"];
  divergedAt: number | null;
  last: { dLoss: number | null; gLoss: number | null };
  /** The iteration the loop stopped at. */
  it: number;
}

/** The run's length and how often it records, in iterations. */
export interface Schedule {
  spans: { batchesPerEpoch: number | null; dPerIteration: number };
  iterations: number;
  trackEvery: number | null;
  milestoneEvery: number | null;
  fingerprintEvery: number;
}

/** Budget and recording intervals, from spans of iterations or epochs. */
export function scheduleOf(config: Config, real: RealData): Schedule {
  const training = config.training;
  const spans = {
    batchesPerEpoch: real.batchesPerEpoch,
    dPerIteration: discriminatorBatchesPerIteration(training),
  };
  const iterations = spanIterations(training.budget, spans, "training.budget");
  const imageMetrics = config.metrics.kind === "image-stats" ? config.metrics : null;
  const scoresTracked = imageMetrics ? trackedScores(imageMetrics) : null;
  const trackEvery = imageMetrics?.track &&
      (scoresTracked?.parzen || scoresTracked?.classifier || scoresTracked?.coverage)
    ? spanIterations(imageMetrics.track.every, spans, "metrics.track.every")
    : null;
  const milestoneEvery = training.milestones
    ? spanIterations(training.milestones.every, spans, "training.milestones.every")
    : null;
  const fingerprintEvery = training.fingerprintEvery ?? training.logEvery;
  return { spans, iterations, trackEvery, milestoneEvery, fingerprintEvery };
}
