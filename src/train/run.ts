/**
 * The training loop of Goodfellow et al. (2014), top to bottom: `runExperiment` is `setUp`
 * (backend, data, models, optimisers, the step, budget, resumed state) → `trainLoop` (each
 * `iteration`: the step's updates, then what it records) → `finish` (evaluation, result).
 * The steps live in src/train/steps/ (the simultaneous and alternating updates by autodiff,
 * the fused MLP step, the choice between them), a step's random inputs in
 * src/train/inputs.ts, the networks and the stacked-stage restore in src/train/models.ts,
 * and the run's state (checkpoints, resume) in src/train/state.ts.
 *
 * `runExperiment` is a pure function of (config, seed, backend): no global state beyond the
 * TF.js engine, every random number from a named counter-based stream, and nothing written
 * except through the callbacks of its options.
 */
import { isAbortOf } from "../backend/interrupt.ts";
import { readFloats, selectBackend } from "../backend/select.ts";
import { tf } from "../backend/tf.ts";
import { collectVersions } from "../backend/versions.ts";
import type { ResolvedConfig } from "../config/load.ts";
import { openRealData } from "../data/real-data.ts";
import { disposeNetwork, parameterCount } from "../models/network.ts";
import { iterationFlops } from "../models/flops.ts";
import { createOptimizer } from "../models/optimizers.ts";
import { captureTensors, visitTensors } from "../models/tensor-state.ts";
import { Rng } from "../rng/streams.ts";
import type { FigureIndex } from "../record/figures.ts";
import {
  capturedHashes,
  fingerprint,
  FINGERPRINT_SCALARS,
  tensorHash,
} from "../record/fingerprint.ts";
import { emptyHistory, HISTORY_SERIES, type HistorySeries } from "../record/history.ts";
import { type Result, RESULT_FORMAT } from "../record/result.ts";
import { dWonAt, largestFinite } from "../record/stability.ts";
import { objectivesOf, type Scalars } from "./objectives.ts";
import { faultTransforms } from "./faults.ts";
import { evaluate, type Evaluation, Tracker } from "./evaluate.ts";
import { FigureMaker, snapshotSchedule } from "./figures.ts";
import { buildModels } from "./models.ts";
import { StepInputs } from "./inputs.ts";
import type { RunOptions } from "./options.ts";
import { scheduleOf, type Session } from "./session.ts";
import {
  checkpoint,
  restoreRecord,
  stateTensors,
  streamedCheckpoint,
  thisSegment,
  threadSplitOf,
} from "./state.ts";
import { chooseTrainStep } from "./steps/choice.ts";
import { playersOf } from "./steps/step.ts";

export type { RunOptions } from "./options.ts";

export async function runExperiment(
  resolved: ResolvedConfig,
  options: RunOptions,
): Promise<Result> {
  const s = await setUp(resolved, options);
  try {
    await trainLoop(s);
    return await finish(s);
  } finally {
    s.tracker?.dispose();
    s.step.close();
    disposeNetwork(s.G);
    disposeNetwork(s.D);
    s.gOpt.dispose();
    s.dOpt.dispose();
  }
}

// ---- set-up: backend, data, models, optimisers, the step, budget, resumed state ----

async function setUp(resolved: ResolvedConfig, options: RunOptions): Promise<Session> {
  if (options.onCheckpoint && options.onCheckpointStream) {
    throw new Error("onCheckpoint and onCheckpointStream: give one of them, not both");
  }
  const startedAt = new Date();
  const t0 = performance.now();
  const made = options.resume?.header.backend;
  const backend = await selectBackend(options.backend ?? "auto", {
    blasThreads: options.blasThreads,
    // a run made on OpenBLAS's own threads continues on them
    blasThreadSplit: options.blasThreadSplit ??
      (made && threadSplitOf(made) === "openblas" ? "openblas" : "rows"),
  });
  const versions = await collectVersions();
  const { config } = resolved;
  const training = config.training;
  const rng = new Rng(options.seed);
  // canary tests only: a deliberately broken loop (src/train/faults.ts)
  const fault = options.fault ?? null;
  const faults = faultTransforms(fault);
  const real = openRealData(config.data, rng, training.batchSize, options.data);
  // models, initialised from named streams
  const { G, D, gParams, dParams } = buildModels(resolved, rng, real, options.pretrained);
  const gVars = gParams.map((p) => p.variable), dVars = dParams.map((p) => p.variable);
  const optimizers = faults.optimizers(training.optimizers);
  const gOpt = createOptimizer(optimizers.generator, gVars, gParams.map((p) => p.name));
  const dOpt = createOptimizer(optimizers.discriminator, dVars, dParams.map((p) => p.name));
  const inputs = new StepInputs(config, rng, real, G, D, faults);
  const parts = {
    config,
    real,
    inputs,
    players: playersOf(config, G, D, gOpt, dOpt),
    objectives: objectivesOf(config, D, rng, faults.flipGLoss),
    flipGLoss: faults.flipGLoss,
  };
  let step;
  try {
    step = chooseTrainStep(parts, options.trainStep ?? "auto", resolved.experiment, backend.name);
  } catch (e) {
    disposeNetwork(G);
    disposeNetwork(D);
    throw e;
  }
  const s: Session = {
    resolved,
    options,
    config,
    startedAt,
    t0,
    backend,
    versions,
    rng,
    fault,
    real,
    G,
    D,
    gParams,
    dParams,
    gOpt,
    dOpt,
    inputs,
    step,
    schedule: scheduleOf(config, real),
    start: 0,
    history: emptyHistory(),
    fingerprints: [],
    tracked: [],
    segments: [],
    milestones: [],
    earlierSeconds: 0,
    figures: null,
    snapshots: [],
    snapshotsTaken: new Set(),
    tracker: null,
    status: "completed",
    divergedAt: null,
    last: { dLoss: null, gLoss: null },
    it: 0,
  };
  restoreRecord(s);
  s.earlierSeconds = s.segments.reduce((sum, seg) => sum + seg.wallSeconds, 0);
  s.last = { dLoss: s.history.dLoss.at(-1) ?? null, gLoss: s.history.gLoss.at(-1) ?? null };
  setUpReporting(s);
  return s;
}

/** Figures for the report (their own streams: training numbers do not change) and tracking. */
function setUpReporting(s: Session): void {
  const { options, config, rng, real } = s;
  const { iterations } = s.schedule;
  s.figures = options.onFigure ? new FigureMaker(config, rng, real, iterations) : null;
  s.snapshots = snapshotSchedule(iterations);
  // what earlier segments took (checkpoints before format 2 do not say: as this budget would)
  s.snapshotsTaken = new Set(
    options.resume?.header.snapshots ??
      (s.figures ? s.snapshots.filter((i) => i <= s.start) : []),
  );
  const tracking = config.metrics.kind === "image-stats" && config.metrics.track;
  s.tracker = tracking ? new Tracker(s.resolved, rng, real) : null;
}

// ---- the loop ----

async function trainLoop(s: Session): Promise<void> {
  const { options } = s;
  if (options.evalOnly && !options.resume) {
    throw new Error("evalOnly needs a checkpoint to evaluate (resume)");
  }
  const end = options.evalOnly ? s.start : s.schedule.iterations;
  if (s.figures && s.start === 0 && end > 0) {
    await options.onFigure!(s.figures.latentFigure());
    await snapshotAt(s, 0);
  }
  // the simultaneous steps' noise and masks, drawn a step ahead on a free core
  const coreFree = (s.backend.blas?.threads ?? 1) < navigator.hardwareConcurrency;
  if ((options.prefetchDraws ?? coreFree) && s.start < end) {
    s.step.drawAhead?.(options.seed, s.start);
  }
  // a point due where the run stopped (interrupted while scoring it) is scored first
  if (!options.evalOnly && s.start > 0) await trackAt(s, s.start);
  for (s.it = s.start; s.it < end; s.it++) {
    if (!await iteration(s, s.it)) break;
  }
}

/** One iteration and what it records; false when training diverged in it. */
async function iteration(s: Session, it: number): Promise<boolean> {
  const { options, schedule } = s;
  const training = s.config.training;
  if (options.signal?.aborted) {
    if (it > s.start) await handOverCheckpoint(s, it);
    options.signal.throwIfAborted();
  }
  const done = it + 1;
  const checkpointHere = done % training.checkpointEvery === 0 || done === schedule.iterations;
  const fingerprintHere = done % schedule.fingerprintEvery === 0 ||
    done === schedule.iterations;
  const record = done % training.logEvery === 0 || checkpointHere || fingerprintHere;
  const scalars = await s.step.run(it, record);
  let captured: Awaited<ReturnType<typeof captureTensors>> | undefined;
  if (record) {
    // one read-back per recorded iteration, not per step
    const values = await readScalars(scalars);
    tf.dispose(Object.values(scalars));
    values.dWon = dWonAt(values.dAccuracy, values.gGradNorm, largestFinite(s.history.gGradNorm));
    s.history.step.push(done);
    for (const key of HISTORY_SERIES) s.history[key].push(values[key]);
    s.last = { dLoss: values.dLoss, gLoss: values.gLoss };
    if (!(Number.isFinite(s.last.dLoss) && Number.isFinite(s.last.gLoss))) {
      return diverged(s, done);
    }
    if (fingerprintHere) {
      let hashes: Record<string, string>;
      if (checkpointHere && options.onCheckpoint) {
        // one read-back of the whole state serves the fingerprint and the in-memory checkpoint
        captured = await captureTensors(stateTensors(s));
        hashes = capturedHashes(captured);
      } else {
        // each tensor hashed where it lies: no copy of the state
        hashes = {};
        await visitTensors(stateTensors(s), (name, v) => hashes[name] = tensorHash(v));
      }
      const order = FINGERPRINT_SCALARS[training.update];
      s.fingerprints.push(
        fingerprint(done, hashes, values, order, [s.gOpt.steps, s.dOpt.steps]),
      );
    }
  }
  // before the checkpoint, so that what it records includes this iteration's
  await snapshotAt(s, done);
  await trackAt(s, done);
  await milestoneAt(s, done);
  // a weight overflowed in this iteration: the previous checkpoint stays the last healthy one
  if (checkpointHere && !await handOverCheckpoint(s, done, captured)) return diverged(s, done);
  options.onProgress?.({ iteration: done, iterations: schedule.iterations, ...s.last });
  return true;
}

function diverged(s: Session, done: number): false {
  s.status = "diverged";
  s.divergedAt = done;
  return false;
}

// ---- what the loop records besides the history ----

async function snapshotAt(s: Session, done: number): Promise<void> {
  if (s.figures && s.snapshots.includes(done)) {
    await s.options.onFigure!(await s.figures.snapshot(done, s.G, s.D));
    s.snapshotsTaken.add(done);
  }
}

async function trackAt(s: Session, done: number): Promise<void> {
  const { tracker, schedule, real } = s;
  if (
    !tracker || done % schedule.trackEvery! !== 0 || s.tracked.some((p) => p.iteration === done)
  ) return;
  s.options.onPhase?.(`tracking: scoring the generator at iteration ${done}`);
  let point;
  try {
    point = await tracker.score(s.G, {
      iteration: done,
      epoch: real.batchesPerEpoch
        ? (done * schedule.spans.dPerIteration) / real.batchesPerEpoch
        : 0,
      learningRate: { generator: s.gOpt.learningRate(), discriminator: s.dOpt.learningRate() },
      wallSeconds: s.earlierSeconds + (performance.now() - s.t0) / 1000,
    }, s.options.signal);
  } catch (e) {
    // Ctrl-C while scoring: the checkpoint at this iteration records no point here, and the
    // resumed run scores it before training on (trainLoop)
    if (isAbortOf(s.options.signal, e)) return;
    throw e;
  }
  s.tracked.push(point);
  s.options.onTracked?.(point);
}

/**
 * Hands the state after `done` iterations to the checkpoint callback (in memory or streamed);
 * false, handing nothing over, when a weight is no longer finite.
 */
async function handOverCheckpoint(
  s: Session,
  done: number,
  captured?: Awaited<ReturnType<typeof captureTensors>>,
): Promise<boolean> {
  const { onCheckpoint, onCheckpointStream } = s.options;
  if (onCheckpointStream) {
    const cp = await streamedCheckpoint(s, done);
    if (cp) await onCheckpointStream(cp);
    return cp !== null;
  }
  if (!onCheckpoint) return true;
  const cp = await checkpoint(s, done, captured);
  if (cp) await onCheckpoint(cp);
  return cp !== null;
}

async function milestoneAt(s: Session, done: number): Promise<void> {
  const every = s.schedule.milestoneEvery;
  if (!every || done % every !== 0 || !s.options.onMilestone) return;
  const cp = await checkpoint(s, done, undefined, s.config.training.milestones!.keep);
  if (!cp) return;
  if (!s.milestones.includes(done)) s.milestones.push(done);
  cp.header.milestones = [...s.milestones];
  await s.options.onMilestone(cp);
}

// ---- the end: evaluation on fresh samples, figures, the result ----

async function finish(s: Session): Promise<Result> {
  const { options, status } = s;
  let e: Evaluation = { metrics: {}, histogram: null };
  if (status === "completed") {
    options.onPhase?.("evaluating: sampling the generator");
    e = await evaluate(s.resolved, s.G, s.rng, s.real, options.onPhase, options.signal);
  }
  let figureIndex: FigureIndex | null = null;
  if (s.figures) {
    let final = null;
    if (status === "completed" && s.real.imageShape) {
      options.onPhase?.("drawing the figures");
      const made = await s.figures.finalFigures(s.G);
      for (const f of made.figures) await options.onFigure!(f);
      final = made.index;
    }
    figureIndex = s.figures.index([...s.snapshotsTaken].sort((a, b) => a - b), final);
  }
  return resultOf(s, e, figureIndex);
}

function resultOf(s: Session, e: Evaluation, figureIndex: FigureIndex | null): Result {
  const { resolved, options, config, status, G, D } = s;
  const stacked = config.generator.pretrained;
  return {
    format: RESULT_FORMAT,
    experiment: resolved.experiment,
    profile: resolved.profile,
    seed: options.seed,
    config,
    configHash: resolved.configHash,
    backend: s.backend,
    versions: s.versions,
    data: s.real.provenance,
    pretrainedFrom: stacked && options.pretrained
      ? {
        experiment: stacked.experiment,
        configHash: options.pretrained.header.configHash,
        iteration: options.pretrained.header.iteration,
      }
      : null,
    parameters: { generator: parameterCount(G), discriminator: parameterCount(D) },
    trainStep: s.step.name,
    modelFlopsPerIteration: iterationFlops(
      config,
      G,
      D,
      config.discriminator.input.kind === "identity"
        ? config.training.batchSize / (config.training.pack ?? 1)
        : 1,
    ),
    status,
    divergedAt: s.divergedAt,
    resumedFrom: options.resume ? s.start : null,
    evaluatedAtIteration: status === "completed" ? s.it : null,
    iterations: s.schedule.iterations,
    history: s.history,
    fingerprints: s.fingerprints,
    metrics: e.metrics,
    histogram: e.histogram,
    parzen: e.parzen ?? null,
    classHistogram: e.classHistogram ?? null,
    ...(e.pixelHistogram ? { pixelHistogram: e.pixelHistogram } : {}),
    ...(s.tracker ? { tracked: s.tracked } : {}),
    segments: options.evalOnly ? s.segments : [...s.segments, thisSegment(s, s.it)],
    ...(s.schedule.milestoneEvery ? { milestones: s.milestones } : {}),
    figures: figureIndex,
    draws: s.inputs.draws.counts,
    ...(s.fault ? { fault: s.fault } : {}),
    startedAt: s.startedAt.toISOString(),
    wallSeconds: (performance.now() - s.t0) / 1000,
  };
}

/** The recorded scalars of an iteration (every series a step computes), read back as numbers. */
async function readScalars(scalars: Scalars): Promise<Record<HistorySeries, number>> {
  const entries = await Promise.all(
    Object.entries(scalars).map(async ([k, t]) => [k, (await readFloats(t))[0]] as const),
  );
  return Object.fromEntries(entries) as Record<HistorySeries, number>;
}
