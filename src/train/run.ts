/**
 * The training loop of Goodfellow et al. (2014). Reads top to bottom: `runExperiment` is
 * `setUp` (backend, data, models, optimisers, the step, budget, resumed state) → `trainLoop`
 * (each `iteration`: its `update`, then what it records) → `finish` (evaluation, result).
 * Networks and the stacked-stage restore live in src/train/models.ts, a step's random
 * inputs in src/train/inputs.ts.
 *
 * Two update rules:
 *  - "simultaneous" (the 2014 code): per minibatch, D's and G's gradients are taken at the
 *    same parameters, from the same z and the same dropout masks, then both are applied;
 *  - "alternating" (Algorithm 1): dSteps D updates, then gSteps G updates.
 *
 * `runExperiment` is a pure function of (config, seed, backend): no global state beyond the
 * TF.js engine, every random number from a named counter-based stream, and nothing written
 * except through the `onCheckpoint` callback.
 */
import type { BackendChoice, BackendInfo, Versions } from "../backend/info.ts";
import { isAbortOf } from "../backend/interrupt.ts";
import { readFloats, selectBackend } from "../backend/select.ts";
import { tf, type Variable } from "../backend/tf.ts";
import { collectVersions } from "../backend/versions.ts";
import { budgetFreeHash, type ResolvedConfig } from "../config/load.ts";
import { discriminatorBatchesPerIteration, spanIterations } from "../config/span.ts";
import { trackedScores } from "../config/schema.ts";
import type { DataSources } from "../data/registry.ts";
import { openRealData, type RealData } from "../data/real-data.ts";
import {
  applyMaxColNorm,
  disposeNetwork,
  forward,
  type Network,
  type Param,
  parameterCount,
} from "../models/network.ts";
import { iterationFlops } from "../models/flops.ts";
import { createOptimizer, type Optimizer } from "../models/optimizers.ts";
import { allFinite, captureTensors } from "../models/tensor-state.ts";
import { Rng } from "../rng/streams.ts";
import { type Checkpoint, CHECKPOINT_FORMAT } from "../record/checkpoint.ts";
import type { Figure, FigureIndex } from "../record/figures.ts";
import { type Fingerprint, fingerprint, FINGERPRINT_SCALARS } from "../record/fingerprint.ts";
import {
  emptyHistory,
  HISTORY_SERIES,
  type HistorySeries,
  SIGNAL_SERIES,
  STEP_SERIES,
} from "../record/history.ts";
import { dWonAt, largestFinite } from "../record/stability.ts";
import { type Result, RESULT_FORMAT, type Segment, type TrackedPoint } from "../record/result.ts";
import { openBlas } from "../backend/openblas.ts";
import { blasKernelsActive } from "../backend/wasm-kernels.ts";
import { type BceObjective, clipWeights } from "./losses.ts";
import { Objectives, type Scalars } from "./objectives.ts";
import {
  discriminatorUpdate,
  generatorUpdate,
  type Players,
  simultaneousUpdate,
} from "./steps/autodiff.ts";
import type { TrainStepChoice } from "./steps/choice.ts";
import { DrawPrefetcher, type DrawReply } from "./prefetch.ts";
import { DrawMonitor } from "./draw-monitor.ts";
import { type Fault, faultTransforms } from "./faults.ts";
import { FusedMlpStep, fusedStepUnsupported } from "./fused-mlp.ts";
import type { Progress } from "./progress.ts";
import { evaluate, type Evaluation, Tracker } from "./evaluate.ts";
import { FigureMaker, snapshotSchedule } from "./figures.ts";
import { assignFrom, buildModels } from "./models.ts";
import { StepInputs } from "./inputs.ts";

type Config = ResolvedConfig["config"];

export interface RunOptions {
  seed: number;
  backend?: BackendChoice;
  /** OpenBLAS threads on "wasm+openblas" (default 1; results depend on it). */
  blasThreads?: number;
  signal?: AbortSignal;
  onProgress?: (p: Progress) => void;
  /** Receives a checkpoint every `training.checkpointEvery` iterations, at the end, and on abort. */
  onCheckpoint?: (cp: Checkpoint) => Promise<void>;
  /** Receives each milestone (config training.milestones): the state, or the generator alone. */
  onMilestone?: (cp: Checkpoint) => Promise<void>;
  /** Hears each phase after the training loop (evaluation steps, figures), to show it. */
  onPhase?: (phase: string) => void;
  /** Receives each tracked score (config metrics.track) as soon as it is made. */
  onTracked?: (point: TrackedPoint) => void;
  /**
   * Continue from this checkpoint: same config and seed, except that the budget may differ
   * (an extension; it must not be below the iterations done).
   */
  resume?: Checkpoint;
  /** Where to read data sets from, when not the defaults. */
  data?: DataSources;
  /** The final checkpoint of the stage named by `generator.pretrained`. */
  pretrained?: Checkpoint;
  /** Evaluate the `resume` checkpoint (or a generator-only milestone) without training. */
  evalOnly?: boolean;
  /**
   * Draw the simultaneous update's noise and dropout masks a step ahead in a worker (the
   * same numbers either way). Default: when a core is left for it, i.e. OpenBLAS runs fewer
   * threads than there are cores. Measured (mnist-mlp, fused, 2 cores; benchmarks/train_step.ts
   * --prefetch-draws on|off): with 1 BLAS thread the worker gains 13%; with 2 it slows each
   * product it overlaps by more than it saves.
   */
  prefetchDraws?: boolean;
  /**
   * How a simultaneous update is computed: "fused" (src/train/fused-mlp.ts: MLP models on
   * wasm+openblas), "autodiff" (TF.js gradients), or "auto" (default): fused where it applies.
   */
  trainStep?: TrainStepChoice;
  /** A deliberate breakage, for the canary tests only (src/train/faults.ts). */
  fault?: Fault | null;
  /**
   * Receives the report's figures: the fixed latent batch, sample grids (or 1-D densities)
   * at snapshots through training, and Figures 2 and 3 at the end. Without it none are made.
   */
  onFigure?: (f: Figure) => Promise<void>;
}

/** Everything one run holds: set up once, then read and extended by the loop and the end. */
interface Session {
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
  /** The fused simultaneous step where it applies, else null (TF.js autodiff). */
  fused: FusedMlpStep | null;
  trainStep: "fused" | "autodiff";
  inputs: StepInputs;
  objectives: Objectives;
  players: Players;
  schedule: Schedule;
  // the record so far: empty, or the resumed checkpoint's
  start: number;
  history: ReturnType<typeof emptyHistory>;
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
  prefetch?: DrawPrefetcher;
  status: Result["status"];
  divergedAt: number | null;
  last: { dLoss: number | null; gLoss: number | null };
  /** The iteration the loop stopped at. */
  it: number;
}

/** The run's length and how often it records, in iterations. */
interface Schedule {
  spans: { batchesPerEpoch: number | null; dPerIteration: number };
  iterations: number;
  trackEvery: number | null;
  milestoneEvery: number | null;
  fingerprintEvery: number;
}

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
    s.prefetch?.close();
    disposeNetwork(s.G);
    disposeNetwork(s.D);
    s.gOpt.dispose();
    s.dOpt.dispose();
  }
}

// ---- set-up: backend, data, models, optimisers, the step, budget, resumed state ----

async function setUp(resolved: ResolvedConfig, options: RunOptions): Promise<Session> {
  const startedAt = new Date();
  const t0 = performance.now();
  const backend = await selectBackend(options.backend ?? "auto", {
    blasThreads: options.blasThreads,
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
  const fused = chooseFusedStep(resolved, options, backend, G, D, gOpt, dOpt, faults.flipGLoss);
  const inputs = new StepInputs(config, rng, real, D, faults);
  const objectives = new Objectives(D, {
    input: config.discriminator.input,
    dLoss: training.dLoss,
    objective: training.objective,
    flipGLoss: faults.flipGLoss,
    gradientPenalty: training.gradientPenalty
      ? { lambda: training.gradientPenalty, eps: rng.stream("train/gp-eps") }
      : null,
  });
  const players = playersOf(config, G, D, gVars, dVars, gOpt, dOpt);
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
    fused,
    trainStep: fused ? "fused" : "autodiff",
    inputs,
    objectives,
    players,
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

/** How the simultaneous update runs: fused where it applies (OpenBLAS, MLPs), else null. */
function chooseFusedStep(
  resolved: ResolvedConfig,
  options: RunOptions,
  backend: BackendInfo,
  G: Network,
  D: Network,
  gOpt: Optimizer,
  dOpt: Optimizer,
  flipGLoss: boolean,
): FusedMlpStep | null {
  const { config } = resolved;
  const fusedWhyNot = blasKernelsActive()
    ? fusedStepUnsupported(config, G, D, gOpt, dOpt)
    : `it runs on wasm+openblas only (this run: ${backend.name})`;
  if (options.trainStep === "fused" && fusedWhyNot) {
    disposeNetwork(G);
    disposeNetwork(D);
    throw new Error(`the fused step cannot train ${resolved.experiment}: ${fusedWhyNot}`);
  }
  if (options.trainStep === "autodiff" || fusedWhyNot) return null;
  return new FusedMlpStep(openBlas()!, G, D, gOpt, dOpt, {
    batchSize: config.training.batchSize,
    dLoss: config.training.dLoss,
    objective: config.training.objective as BceObjective, // the fused step takes BCE objectives only
    flipGLoss,
    maxColNorm: {
      generator: config.generator.maxColNorm,
      discriminator: config.discriminator.maxColNorm,
    },
  });
}

/** The two players as the autodiff steps take them, with the per-step weight constraints. */
function playersOf(
  config: Config,
  G: Network,
  D: Network,
  gVars: Variable[],
  dVars: Variable[],
  gOpt: Optimizer,
  dOpt: Optimizer,
): Players {
  const training = config.training;
  return {
    G,
    D,
    gVars,
    dVars,
    gOpt,
    dOpt,
    /** WGAN: D's weights into [−c, c] before each D step, as the reference code. */
    beforeDStep: () => {
      if (training.weightClip) clipWeights(dVars, training.weightClip);
    },
    afterUpdate: () => {
      if (config.generator.maxColNorm) applyMaxColNorm(G, config.generator.maxColNorm);
      if (config.discriminator.maxColNorm) applyMaxColNorm(D, config.discriminator.maxColNorm);
    },
  };
}

/** Budget and recording intervals, from spans of iterations or epochs. */
function scheduleOf(config: Config, real: RealData): Schedule {
  const training = config.training;
  const spans = {
    batchesPerEpoch: real.batchesPerEpoch,
    dPerIteration: discriminatorBatchesPerIteration(training),
  };
  const iterations = spanIterations(training.budget, spans, "training.budget");
  const imageMetrics = config.metrics.kind === "image-stats" ? config.metrics : null;
  const scoresTracked = imageMetrics ? trackedScores(imageMetrics) : null;
  const trackEvery = imageMetrics?.track && (scoresTracked?.parzen || scoresTracked?.classifier)
    ? spanIterations(imageMetrics.track.every, spans, "metrics.track.every")
    : null;
  const milestoneEvery = training.milestones
    ? spanIterations(training.milestones.every, spans, "training.milestones.every")
    : null;
  const fingerprintEvery = training.fingerprintEvery ?? training.logEvery;
  return { spans, iterations, trackEvery, milestoneEvery, fingerprintEvery };
}

/** The starting point: the resumed checkpoint's weights, optimiser state and record. */
function restoreRecord(s: Session): void {
  const { options, resolved } = s;
  if (options.resume?.header.contents === "generator") {
    // a milestone of G alone: it can be scored, not trained on
    if (!options.evalOnly) throw new Error("a generator-only milestone can be scored, not resumed");
    assignFrom(options.resume, s.gParams.map((p): [string, Variable] => [p.name, p.variable]));
    s.start = options.resume.header.iteration;
    return;
  }
  if (!options.resume) return;
  const h = options.resume.header;
  const sameTraining = h.config !== undefined &&
    budgetFreeHash(h.config) === budgetFreeHash(resolved.config);
  if ((h.configHash !== resolved.configHash && !sameTraining) || h.seed !== options.seed) {
    throw new Error("the checkpoint belongs to another config or seed");
  }
  if (s.schedule.iterations < h.iteration) {
    throw new RangeError(
      `training.budget: ${s.schedule.iterations} iterations is fewer than the ${h.iteration} ` +
        "this run has done; an extension can only raise the budget",
    );
  }
  const was = h.backend, now = stepPath(s);
  // checkpoints from before the fused step were all made by autodiff
  if (
    was &&
    (was.name !== now.name || was.blasThreads !== now.blasThreads ||
      (was.trainStep ?? "autodiff") !== now.trainStep)
  ) {
    console.warn(
      `warning: resuming a checkpoint made on ${describePath(was)} on ${describePath(now)}: ` +
        "the run continues, but will not equal an uninterrupted run bit for bit",
    );
  }
  assignFrom(options.resume, stateTensors(s));
  s.gOpt.steps = h.optimizerSteps.generator;
  s.dOpt.steps = h.optimizerSteps.discriminator;
  s.history = structuredClone(h.history);
  s.fingerprints = structuredClone(h.fingerprints ?? []);
  s.tracked = structuredClone(h.tracked ?? []);
  s.segments = structuredClone(h.segments ?? []);
  s.milestones = structuredClone(h.milestones ?? []);
  if (h.draws) s.inputs.draws = new DrawMonitor(h.draws);
  s.start = h.iteration;
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
  const { options, config } = s;
  if (options.evalOnly && !options.resume) {
    throw new Error("evalOnly needs a checkpoint to evaluate (resume)");
  }
  const end = options.evalOnly ? s.start : s.schedule.iterations;
  if (s.figures && s.start === 0 && end > 0) {
    await options.onFigure!(s.figures.latentFigure());
    await snapshotAt(s, 0);
  }
  // the simultaneous update's noise and masks, drawn a step ahead on a free core
  const coreFree = (s.backend.blas?.threads ?? 1) < navigator.hardwareConcurrency;
  if (
    config.training.update === "simultaneous" && (options.prefetchDraws ?? coreFree) &&
    s.start < end
  ) {
    s.prefetch = new DrawPrefetcher(options.seed, (t) => s.inputs.simultaneousDraws(t));
    s.prefetch.ask(s.start);
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
    const cp = await checkpoint(s, it);
    if (cp && it > s.start) await options.onCheckpoint?.(cp);
    options.signal.throwIfAborted();
  }
  const done = it + 1;
  const checkpointHere = done % training.checkpointEvery === 0 || done === schedule.iterations;
  const fingerprintHere = done % schedule.fingerprintEvery === 0 ||
    done === schedule.iterations;
  const record = done % training.logEvery === 0 || checkpointHere || fingerprintHere;
  const scalars = await update(s, it, record);
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
      // one read-back of the whole state serves the fingerprint and a checkpoint here
      captured = await captureTensors(stateTensors(s));
      const order = FINGERPRINT_SCALARS[training.update];
      s.fingerprints.push(
        fingerprint(done, captured, values, order, [s.gOpt.steps, s.dOpt.steps]),
      );
    }
  }
  // before the checkpoint, so that what it records includes this iteration's
  await snapshotAt(s, done);
  await trackAt(s, done);
  await milestoneAt(s, done);
  if (checkpointHere && options.onCheckpoint) {
    const cp = await checkpoint(s, done, captured);
    // a weight overflowed in this iteration: the previous checkpoint stays the last healthy one
    if (!cp) return diverged(s, done);
    await options.onCheckpoint(cp);
  }
  options.onProgress?.({ iteration: done, iterations: schedule.iterations, ...s.last });
  return true;
}

function diverged(s: Session, done: number): false {
  s.status = "diverged";
  s.divergedAt = done;
  return false;
}

/** Iteration `it`'s updates: one simultaneous step, or dSteps D steps then gSteps G steps. */
async function update(s: Session, it: number, record: boolean): Promise<Scalars> {
  const training = s.config.training;
  if (training.update === "simultaneous") {
    const drawn = await s.prefetch?.take(it);
    return s.fused
      ? fusedSimultaneousStep(s, s.fused, it, record, drawn)
      : simultaneousStep(s, it, record, drawn);
  }
  let scalars: Scalars = {};
  let epoch = 0;
  for (let k = 0; k < training.dSteps; k++) {
    const t = it * training.dSteps + k;
    epoch = s.real.batchesPerEpoch ? Math.floor(t / s.real.batchesPerEpoch) : 0;
    scalars = { ...scalars, ...discriminatorStep(s, t, record && k === training.dSteps - 1) };
  }
  for (let k = 0; k < training.gSteps; k++) {
    const u = it * training.gSteps + k;
    scalars = { ...scalars, ...generatorStep(s, u, epoch, record && k === training.gSteps - 1) };
  }
  return scalars;
}

/** The simultaneous update of the 2014 code (k = 1). */
function simultaneousStep(
  s: Session,
  t: number,
  record: boolean,
  drawn?: DrawReply["results"],
): Scalars {
  return tf.tidy(() => {
    const { x, rows, epoch } = s.inputs.realBatch(t);
    const inputs = s.inputs.simultaneousInputs(t, rows, drawn);
    const z = s.inputs.noiseTensor(inputs.z, rows);
    const realMasks = s.inputs.maskTensors(inputs.realMasks, rows);
    const fakeMasks = s.inputs.maskTensors(inputs.fakeMasks, rows);
    return simultaneousUpdate(
      s.players,
      s.objectives,
      { x, z, realMasks, fakeMasks, epoch, step: t },
      record,
    );
  });
}

/** The same update as `simultaneousStep`, by the fused step: same draws, same streams. */
function fusedSimultaneousStep(
  s: Session,
  step: FusedMlpStep,
  t: number,
  record: boolean,
  drawn?: DrawReply["results"],
): Scalars {
  const b = s.real.batch(t);
  const out = step.step({
    rows: b.rows,
    real: s.inputs.draws.see("real", "real", b.values),
    ...s.inputs.simultaneousInputs(t, b.rows, drawn),
    epoch: b.epoch,
  }, record); // max column norms included
  if (!out) return {};
  return Object.fromEntries(
    [...STEP_SERIES, ...SIGNAL_SERIES].map((k) => [k, tf.scalar(out[k])]),
  );
}

/** Algorithm 1: one D update (G fixed). */
function discriminatorStep(s: Session, t: number, record: boolean): Scalars {
  const { inputs } = s;
  return tf.tidy(() => {
    const { x, rows, epoch } = inputs.realBatch(t);
    const fake = forward(s.G, inputs.noiseTensor(inputs.noise("train/z/d", t, rows), rows));
    const realMasks = inputs.maskTensors(inputs.dropoutMasks("D/dropout/real", t, rows), rows);
    const fakeMasks = inputs.maskTensors(inputs.dropoutMasks("D/dropout/fake", t, rows), rows);
    return discriminatorUpdate(
      s.players,
      s.objectives,
      { x, fake, realMasks, fakeMasks, epoch, step: t },
      record,
    );
  });
}

/** Algorithm 1: one G update (D fixed). */
function generatorStep(s: Session, u: number, epoch: number, record: boolean): Scalars {
  const { inputs } = s;
  const rows = s.config.training.batchSize;
  return tf.tidy(() => {
    const z = inputs.noiseTensor(inputs.noise("train/z/g", u, rows), rows);
    const masks = inputs.maskTensors(inputs.dropoutMasks("D/dropout/g", u, rows), rows);
    return generatorUpdate(s.players, s.objectives, { z, masks, epoch }, record);
  });
}

// ---- what the loop records besides the history ----

/** Every tensor of the training state: weights, then optimiser slots. */
function stateTensors(s: Session): [string, Variable][] {
  return [
    ...s.gParams.map((p): [string, Variable] => [p.name, p.variable]),
    ...s.dParams.map((p): [string, Variable] => [p.name, p.variable]),
    ...s.gOpt.slots(),
    ...s.dOpt.slots(),
  ];
}

/** What a run's numbers depend on beyond config and seed: resuming elsewhere warns. */
function stepPath(s: Session) {
  return {
    name: s.backend.name,
    blasThreads: s.backend.blas?.threads ?? null,
    trainStep: s.trainStep,
  };
}

function thisSegment(s: Session, to: number): Segment {
  return {
    fromIteration: s.start,
    toIteration: to,
    budget: s.config.training.budget,
    startedAt: s.startedAt.toISOString(),
    wallSeconds: (performance.now() - s.t0) / 1000,
  };
}

/**
 * Snapshot after `done` iterations (the whole state, or G alone for a generator milestone);
 * null when a weight is no longer finite.
 */
async function checkpoint(
  s: Session,
  done: number,
  captured?: Awaited<ReturnType<typeof captureTensors>>,
  contents: "state" | "generator" = "state",
): Promise<Checkpoint | null> {
  const { tensors, values } = contents === "generator"
    ? await captureTensors(s.gParams.map((p): [string, Variable] => [p.name, p.variable]))
    : captured ?? await captureTensors(stateTensors(s));
  if (!allFinite(values)) return null;
  return {
    header: {
      format: CHECKPOINT_FORMAT,
      experiment: s.resolved.experiment,
      seed: s.options.seed,
      configHash: s.resolved.configHash,
      backend: stepPath(s),
      iteration: done,
      optimizerSteps: { generator: s.gOpt.steps, discriminator: s.dOpt.steps },
      history: structuredClone(s.history),
      fingerprints: structuredClone(s.fingerprints),
      tensors,
      contents,
      config: s.resolved.config,
      segments: [...s.segments, thisSegment(s, done)],
      tracked: structuredClone(s.tracked),
      snapshots: [...s.snapshotsTaken],
      draws: s.inputs.draws.state(),
      milestones: [...s.milestones],
    },
    values,
  };
}

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
    trainStep: s.trainStep,
    modelFlopsPerIteration: iterationFlops(
      config,
      G,
      D,
      config.discriminator.input.kind === "identity" ? config.training.batchSize : 1,
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

function describePath(
  p: { name: string; blasThreads: number | null; trainStep?: string },
): string {
  const step = `${p.trainStep ?? "autodiff"} step`;
  return p.blasThreads === null
    ? `${p.name}, ${step}`
    : `${p.name} (${p.blasThreads} BLAS threads, ${step})`;
}

/** The recorded scalars of an iteration (every series a step computes), read back as numbers. */
async function readScalars(scalars: Scalars): Promise<Record<HistorySeries, number>> {
  const entries = await Promise.all(
    Object.entries(scalars).map(async ([k, t]) => [k, (await readFloats(t))[0]] as const),
  );
  return Object.fromEntries(entries) as Record<HistorySeries, number>;
}
