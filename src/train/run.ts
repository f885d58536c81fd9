/**
 * The training loop of Goodfellow et al. (2014). Reads top to bottom:
 * set-up → data → models → one update of each kind → the loop → evaluation → result.
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
import type { BackendChoice } from "../backend/info.ts";
import { readFloats, selectBackend } from "../backend/select.ts";
import { tf, type Variable } from "../backend/tf.ts";
import { collectVersions } from "../backend/versions.ts";
import { budgetFreeHash, type ResolvedConfig } from "../config/load.ts";
import { ConfigError } from "../config/errors.ts";
import { discriminatorBatchesPerIteration, spanIterations } from "../config/span.ts";
import { trackedScores } from "../config/schema.ts";
import type { DataSources } from "../data/registry.ts";
import { sampleNoise } from "../data/noise.ts";
import { discriminatorInputDim } from "../models/discriminator-input.ts";
import {
  applyMaxColNorm,
  buildNetwork,
  disposeNetwork,
  forward,
  networkParams,
  parameterCount,
} from "../models/network.ts";
import { iterationFlops } from "../models/flops.ts";
import { allFinite, captureTensors, restoreTensors } from "../models/tensor-state.ts";
import { Rng } from "../rng/streams.ts";
import { type Checkpoint, CHECKPOINT_FORMAT } from "../record/checkpoint.ts";
import type { Figure, FigureIndex } from "../record/figures.ts";
import { type Fingerprint, fingerprint, FINGERPRINT_SCALARS } from "../record/fingerprint.ts";
import { emptyHistory, HISTORY_SERIES, type HistorySeries } from "../record/history.ts";
import { type BceObjective, clipWeights } from "./losses.ts";
import {
  type Histogram1d,
  type ParzenReport,
  type PixelHistogram,
  type Result,
  RESULT_FORMAT,
  type Segment,
  type TrackedPoint,
} from "../record/result.ts";
import { type Masks, Objectives, type Scalars } from "./objectives.ts";
import {
  discriminatorUpdate,
  generatorUpdate,
  type Players,
  simultaneousUpdate,
} from "./steps/autodiff.ts";
import { dropoutMaskPlan, dropoutMasksFrom } from "./dropout.ts";
import { type DrawJob, DrawPrefetcher, type DrawReply } from "./prefetch.ts";
import { DrawMonitor } from "./draw-monitor.ts";
import { type Fault, faultTransforms } from "./faults.ts";
import { createOptimizer } from "../models/optimizers.ts";
import { FusedMlpStep, fusedStepUnsupported } from "./fused-mlp.ts";
import type { Progress } from "./progress.ts";
import type { TrainStepChoice } from "./steps/choice.ts";
import { openBlas } from "../backend/openblas.ts";
import { blasKernelsActive } from "../backend/wasm-kernels.ts";
import { evaluate, Tracker } from "./evaluate.ts";
import { FigureMaker, snapshotSchedule } from "./figures.ts";
import { logitOfMeans, openRealData } from "../data/real-data.ts";

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

/** The same masks as arrays. */
type MaskValues = (Float32Array | null)[];

export async function runExperiment(
  resolved: ResolvedConfig,
  options: RunOptions,
): Promise<Result> {
  const startedAt = new Date();
  const t0 = performance.now();
  const backend = await selectBackend(options.backend ?? "auto", {
    blasThreads: options.blasThreads,
  });
  const versions = await collectVersions();
  const { config } = resolved;
  const training = config.training;
  const batchSize = training.batchSize;
  const rng = new Rng(options.seed);
  // canary tests only: a deliberately broken loop (src/train/faults.ts)
  const fault = options.fault ?? null;
  const faults = faultTransforms(fault);

  // ---- data ----
  const real = openRealData(config.data, rng, batchSize, options.data);
  const dInput = config.discriminator.input;

  // ---- models, initialised from named streams ----
  const G = buildNetwork(
    rng,
    "G",
    config.noise.dim,
    config.generator.layers,
    config.generator.init,
    {
      marginalBias: config.generator.layers.some((l) => "bias" in l && l.bias === "marginals")
        ? logitOfMeans(real.pixelMeans())
        : undefined,
    },
  );
  if (G.outputDim !== real.dim) {
    disposeNetwork(G);
    throw new ConfigError(resolved.file, [{
      path: "$.generator.layers",
      found: `an output of ${G.outputDim} values per example`,
      allowed: `the data have ${real.dim}: the last layer must output as many`,
    }], "the generator does not fit the data");
  }
  const D = buildNetwork(
    rng,
    "D",
    discriminatorInputDim(dInput, real.dim, batchSize),
    config.discriminator.layers,
    config.discriminator.init,
  );
  const gParams = networkParams(G), dParams = networkParams(D);
  const stacked = config.generator.pretrained;
  if (stacked) {
    if (!options.pretrained) {
      disposeNetwork(G);
      disposeNetwork(D);
      throw new Error(
        `${resolved.experiment} builds on ${stacked.experiment}: pass its final checkpoint`,
      );
    }
    // G/h{j} of the earlier stage becomes G/h{j + into} here
    const source = options.pretrained.header.tensors.filter((t) => /^G\/h\d+\/[Wb]$/.test(t.name));
    const renamed = source.map(({ name }) => {
      const j = Number(/^G\/h(\d+)\//.exec(name)![1]);
      const target = name.replace(/^G\/h\d+\//, `G/h${j + stacked.into}/`);
      const param = gParams.find((p) => p.name === target);
      if (!param) {
        throw new Error(
          `${stacked.experiment}'s ${name} has no place in this generator (${target})`,
        );
      }
      return [name, param.variable] as [string, Variable];
    });
    restoreTensors(
      options.pretrained,
      renamed,
      (v, values) => tf.tidy(() => v.assign(tf.tensor(values, v.shape))),
    );
  }
  const gVars = gParams.map((p) => p.variable), dVars = dParams.map((p) => p.variable);
  const optimizers = faults.optimizers(training.optimizers);
  const gOpt = createOptimizer(optimizers.generator, gVars, gParams.map((p) => p.name));
  const dOpt = createOptimizer(optimizers.discriminator, dVars, dParams.map((p) => p.name));
  const stateTensors = (): [string, Variable][] => [
    ...gParams.map((p): [string, Variable] => [p.name, p.variable]),
    ...dParams.map((p): [string, Variable] => [p.name, p.variable]),
    ...gOpt.slots(),
    ...dOpt.slots(),
  ];

  // ---- how the simultaneous update runs: fused where it applies (OpenBLAS, MLPs) ----
  const fusedWhyNot = blasKernelsActive()
    ? fusedStepUnsupported(config, G, D, gOpt, dOpt)
    : `it runs on wasm+openblas only (this run: ${backend.name})`;
  if (options.trainStep === "fused" && fusedWhyNot) {
    disposeNetwork(G);
    disposeNetwork(D);
    throw new Error(`the fused step cannot train ${resolved.experiment}: ${fusedWhyNot}`);
  }
  const fused = options.trainStep !== "autodiff" && !fusedWhyNot
    ? new FusedMlpStep(openBlas()!, G, D, gOpt, dOpt, {
      batchSize,
      dLoss: training.dLoss,
      objective: training.objective as BceObjective, // the fused step takes BCE objectives only
      flipGLoss: faults.flipGLoss,
      maxColNorm: {
        generator: config.generator.maxColNorm,
        discriminator: config.discriminator.maxColNorm,
      },
    })
    : null;
  const trainStep: "fused" | "autodiff" = fused ? "fused" : "autodiff";

  // ---- random inputs of step t, each from its own stream ----
  // (a frozen stream, for the canary tests, draws step 0's numbers at every step)
  const { noiseStep, maskStep } = faults;
  const noise = (stream: string, step: number, rows: number) =>
    draws.see(
      "noise",
      stream,
      sampleNoise(config.noise, rng.stream(stream).at(noiseStep(step)), rows),
    );
  const noiseTensor = (z: Float32Array, rows: number) => tf.tensor2d(z, [rows, config.noise.dim]);
  const dropout = config.discriminator.dropout;
  const maskPlan = dropout ? dropoutMaskPlan(D, dropout) : null;
  /** Inverted-dropout masks for each D layer's input (null where none), per example and unit. */
  const dropoutMasks = (stream: string, step: number, rows: number, drawn?: MaskValues) =>
    maskPlan
      ? (drawn ?? dropoutMasksFrom(rng, maskPlan, stream, maskStep(step), rows)).map((m, i) =>
        m && draws.see("dropout", `${stream}/h${i}`, m)
      )
      : null;
  const maskTensors = (masks: MaskValues | null, rows: number): Masks =>
    masks?.map((m, i) => m && tf.tensor(m, [rows, ...D.layers[i].inShape])) ?? undefined;
  /** The simultaneous update's random inputs, in the order its step reads them. */
  const simultaneousDraws = (t: number): DrawJob[] => {
    const rows = real.rowsAt(t);
    const masks = (stream: string): DrawJob[] =>
      maskPlan ? [{ kind: "masks", stream, step: maskStep(t), rows, plan: maskPlan }] : [];
    return [
      { kind: "noise", stream: "train/z", step: noiseStep(t), rows, noise: config.noise },
      ...masks("D/dropout/real"),
      ...masks("D/dropout/fake"),
    ];
  };
  /**
   * Those inputs as arrays, drawn ahead by the worker (`drawn`, in simultaneousDraws' order)
   * or here, each shown to the draw monitor: both simultaneous steps read them.
   */
  const simultaneousInputs = (t: number, rows: number, drawn?: DrawReply["results"]) => ({
    z: drawn ? draws.see("noise", "train/z", drawn[0][0]!) : noise("train/z", t, rows),
    realMasks: dropoutMasks("D/dropout/real", t, rows, drawn?.[1]),
    fakeMasks: dropoutMasks("D/dropout/fake", t, rows, drawn?.[2]),
  });
  const realBatch = (step: number) => {
    const b = real.batch(step);
    const x = tf.tensor2d(draws.see("real", "real", b.values), [b.rows, real.dim]);
    return { x, rows: b.rows, epoch: b.epoch };
  };
  const afterUpdate = () => {
    if (config.generator.maxColNorm) applyMaxColNorm(G, config.generator.maxColNorm);
    if (config.discriminator.maxColNorm) applyMaxColNorm(D, config.discriminator.maxColNorm);
  };

  /** WGAN: D's weights into [−c, c] before each D step, as the reference code. */
  const beforeDStep = () => {
    if (training.weightClip) clipWeights(dVars, training.weightClip);
  };
  const objectives = new Objectives(D, {
    input: dInput,
    dLoss: training.dLoss,
    objective: training.objective,
    flipGLoss: faults.flipGLoss,
    gradientPenalty: training.gradientPenalty
      ? { lambda: training.gradientPenalty, eps: rng.stream("train/gp-eps") }
      : null,
  });
  const players: Players = { G, D, gVars, dVars, gOpt, dOpt, beforeDStep, afterUpdate };

  // ---- the simultaneous update of the 2014 code (k = 1) ----
  const simultaneousStep = (t: number, record: boolean, drawn?: DrawReply["results"]): Scalars =>
    tf.tidy(() => {
      const { x, rows, epoch } = realBatch(t);
      const inputs = simultaneousInputs(t, rows, drawn);
      const z = noiseTensor(inputs.z, rows);
      const realMasks = maskTensors(inputs.realMasks, rows);
      const fakeMasks = maskTensors(inputs.fakeMasks, rows);
      return simultaneousUpdate(
        players,
        objectives,
        { x, z, realMasks, fakeMasks, epoch, step: t },
        record,
      );
    });

  /** The same update as `simultaneousStep`, by the fused step: same draws, same streams. */
  const fusedSimultaneousStep = (
    step: FusedMlpStep,
    t: number,
    record: boolean,
    drawn?: DrawReply["results"],
  ): Scalars => {
    const b = real.batch(t);
    const out = step.step({
      rows: b.rows,
      real: draws.see("real", "real", b.values),
      ...simultaneousInputs(t, b.rows, drawn),
      epoch: b.epoch,
    }, record); // max column norms included
    if (!out) return {};
    return Object.fromEntries(HISTORY_SERIES.map((k) => [k, tf.scalar(out[k])]));
  };

  // ---- Algorithm 1: one D update (G fixed), one G update (D fixed) ----
  const discriminatorStep = (t: number, record: boolean): Scalars =>
    tf.tidy(() => {
      const { x, rows, epoch } = realBatch(t);
      const fake = forward(G, noiseTensor(noise("train/z/d", t, rows), rows));
      const realMasks = maskTensors(dropoutMasks("D/dropout/real", t, rows), rows);
      const fakeMasks = maskTensors(dropoutMasks("D/dropout/fake", t, rows), rows);
      return discriminatorUpdate(
        players,
        objectives,
        { x, fake, realMasks, fakeMasks, epoch, step: t },
        record,
      );
    });
  const generatorStep = (u: number, epoch: number, record: boolean): Scalars =>
    tf.tidy(() => {
      const z = noiseTensor(noise("train/z/g", u, batchSize), batchSize);
      const masks = maskTensors(dropoutMasks("D/dropout/g", u, batchSize), batchSize);
      return generatorUpdate(players, objectives, { z, masks, epoch }, record);
    });

  // ---- budget and starting point ----
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
  /** What a run's numbers depend on beyond config and seed: resuming elsewhere warns. */
  const stepPath = () => ({
    name: backend.name,
    blasThreads: backend.blas?.threads ?? null,
    trainStep,
  });
  let history = emptyHistory();
  let fingerprints: Fingerprint[] = [];
  let tracked: TrackedPoint[] = [];
  let segments: Segment[] = [];
  let milestones: number[] = [];
  const fingerprintEvery = training.fingerprintEvery ?? training.logEvery;
  let start = 0;
  let draws = new DrawMonitor();
  const generatorOnly = options.resume?.header.contents === "generator";
  if (generatorOnly) {
    // a milestone of G alone: it can be scored, not trained on
    if (!options.evalOnly) throw new Error("a generator-only milestone can be scored, not resumed");
    restoreTensors(
      options.resume!,
      gParams.map((p): [string, Variable] => [p.name, p.variable]),
      (v, values) => tf.tidy(() => v.assign(tf.tensor(values, v.shape))),
    );
    start = options.resume!.header.iteration;
  } else if (options.resume) {
    const h = options.resume.header;
    const sameTraining = h.config !== undefined &&
      budgetFreeHash(h.config) === budgetFreeHash(resolved.config);
    if ((h.configHash !== resolved.configHash && !sameTraining) || h.seed !== options.seed) {
      throw new Error("the checkpoint belongs to another config or seed");
    }
    if (iterations < h.iteration) {
      throw new RangeError(
        `training.budget: ${iterations} iterations is fewer than the ${h.iteration} this run ` +
          "has done; an extension can only raise the budget",
      );
    }
    const was = h.backend, now = stepPath();
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
    restoreTensors(
      options.resume,
      stateTensors(),
      (v, values) => tf.tidy(() => v.assign(tf.tensor(values, v.shape))),
    );
    gOpt.steps = h.optimizerSteps.generator;
    dOpt.steps = h.optimizerSteps.discriminator;
    history = structuredClone(h.history);
    fingerprints = structuredClone(h.fingerprints ?? []);
    tracked = structuredClone(h.tracked ?? []);
    segments = structuredClone(h.segments ?? []);
    milestones = structuredClone(h.milestones ?? []);
    if (h.draws) draws = new DrawMonitor(h.draws);
    start = h.iteration;
  }
  const earlierSeconds = segments.reduce((sum, s) => sum + s.wallSeconds, 0);
  const thisSegment = (to: number): Segment => ({
    fromIteration: start,
    toIteration: to,
    budget: training.budget,
    startedAt: startedAt.toISOString(),
    wallSeconds: (performance.now() - t0) / 1000,
  });

  /**
   * Snapshot after `done` iterations (the whole state, or G alone for a generator milestone);
   * null when a weight is no longer finite.
   */
  const checkpoint = async (
    done: number,
    captured?: Awaited<ReturnType<typeof captureTensors>>,
    contents: "state" | "generator" = "state",
  ): Promise<Checkpoint | null> => {
    const { tensors, values } = contents === "generator"
      ? await captureTensors(gParams.map((p): [string, Variable] => [p.name, p.variable]))
      : captured ?? await captureTensors(stateTensors());
    if (!allFinite(values)) return null;
    return {
      header: {
        format: CHECKPOINT_FORMAT,
        experiment: resolved.experiment,
        seed: options.seed,
        configHash: resolved.configHash,
        backend: stepPath(),
        iteration: done,
        optimizerSteps: { generator: gOpt.steps, discriminator: dOpt.steps },
        history: structuredClone(history),
        fingerprints: structuredClone(fingerprints),
        tensors,
        contents,
        config: resolved.config,
        segments: [...segments, thisSegment(done)],
        tracked: structuredClone(tracked),
        snapshots: [...snapshotsTaken],
        draws: draws.state(),
        milestones: [...milestones],
      },
      values,
    };
  };

  // ---- figures for the report, from their own streams (training numbers do not change) ----
  const figures = options.onFigure ? new FigureMaker(config, rng, real, iterations) : null;
  const snapshots = snapshotSchedule(iterations);
  // what earlier segments took (checkpoints before format 2 do not say: as this budget would)
  const snapshotsTaken = new Set(
    options.resume?.header.snapshots ?? (figures ? snapshots.filter((i) => i <= start) : []),
  );
  const snapshotAt = async (done: number) => {
    if (figures && snapshots.includes(done)) {
      await options.onFigure!(await figures.snapshot(done, G, D));
      snapshotsTaken.add(done);
    }
  };
  const tracker = imageMetrics?.track ? new Tracker(resolved, rng, real) : null;
  const trackAt = async (done: number) => {
    if (!tracker || done % trackEvery! !== 0 || tracked.some((p) => p.iteration === done)) return;
    const point = await tracker.score(G, {
      iteration: done,
      epoch: real.batchesPerEpoch ? (done * spans.dPerIteration) / real.batchesPerEpoch : 0,
      learningRate: { generator: gOpt.learningRate(), discriminator: dOpt.learningRate() },
      wallSeconds: earlierSeconds + (performance.now() - t0) / 1000,
    });
    tracked.push(point);
    options.onTracked?.(point);
  };
  const milestoneAt = async (done: number) => {
    if (!milestoneEvery || done % milestoneEvery !== 0 || !options.onMilestone) return;
    const cp = await checkpoint(done, undefined, training.milestones!.keep);
    if (!cp) return;
    if (!milestones.includes(done)) milestones.push(done);
    cp.header.milestones = [...milestones];
    await options.onMilestone(cp);
  };

  // ---- the loop ----
  let prefetch: DrawPrefetcher | undefined;
  let status: Result["status"] = "completed";
  let divergedAt: number | null = null;
  let last = {
    dLoss: history.dLoss.at(-1) ?? null as number | null,
    gLoss: history.gLoss.at(-1) ?? null as number | null,
  };
  try {
    if (options.evalOnly && !options.resume) {
      throw new Error("evalOnly needs a checkpoint to evaluate (resume)");
    }
    const end = options.evalOnly ? start : iterations;
    if (figures && start === 0 && end > 0) {
      await options.onFigure!(figures.latentFigure());
      await snapshotAt(0);
    }
    // the simultaneous update's noise and masks, drawn a step ahead on a free core
    const coreFree = (backend.blas?.threads ?? 1) < navigator.hardwareConcurrency;
    if (
      training.update === "simultaneous" && (options.prefetchDraws ?? coreFree) && start < end
    ) {
      prefetch = new DrawPrefetcher(options.seed, simultaneousDraws);
      prefetch.ask(start);
    }
    const fingerprintOrder = FINGERPRINT_SCALARS[training.update];
    let it = start;
    for (; it < end; it++) {
      if (options.signal?.aborted) {
        const cp = await checkpoint(it);
        if (cp && it > start) await options.onCheckpoint?.(cp);
        options.signal.throwIfAborted();
      }
      const done = it + 1;
      const checkpointHere = done % training.checkpointEvery === 0 || done === iterations;
      const fingerprintHere = done % fingerprintEvery === 0 || done === iterations;
      const record = done % training.logEvery === 0 || checkpointHere || fingerprintHere;
      let scalars: Scalars = {};
      let captured: Awaited<ReturnType<typeof captureTensors>> | undefined;
      if (training.update === "simultaneous") {
        const drawn = await prefetch?.take(it);
        scalars = fused
          ? fusedSimultaneousStep(fused, it, record, drawn)
          : simultaneousStep(it, record, drawn);
      } else {
        let epoch = 0;
        for (let k = 0; k < training.dSteps; k++) {
          const t = it * training.dSteps + k;
          epoch = real.batchesPerEpoch ? Math.floor(t / real.batchesPerEpoch) : 0;
          scalars = { ...scalars, ...discriminatorStep(t, record && k === training.dSteps - 1) };
        }
        for (let k = 0; k < training.gSteps; k++) {
          const out = generatorStep(
            it * training.gSteps + k,
            epoch,
            record && k === training.gSteps - 1,
          );
          scalars = { ...scalars, ...out };
        }
      }
      if (record) {
        // one read-back per recorded iteration, not per step
        const values = await readScalars(scalars);
        tf.dispose(Object.values(scalars));
        history.step.push(done);
        for (const key of HISTORY_SERIES) history[key].push(values[key]);
        last = { dLoss: values.dLoss, gLoss: values.gLoss };
        if (!(Number.isFinite(last.dLoss) && Number.isFinite(last.gLoss))) {
          status = "diverged";
          divergedAt = done;
          break;
        }
        if (fingerprintHere) {
          // one read-back of the whole state serves the fingerprint and a checkpoint here
          captured = await captureTensors(stateTensors());
          fingerprints.push(
            fingerprint(done, captured, values, fingerprintOrder, [gOpt.steps, dOpt.steps]),
          );
        }
      }
      // before the checkpoint, so that what it records includes this iteration's
      await snapshotAt(done);
      await trackAt(done);
      await milestoneAt(done);
      if (checkpointHere && options.onCheckpoint) {
        const cp = await checkpoint(done, captured);
        if (!cp) {
          // a weight overflowed in this iteration: the previous checkpoint stays the last healthy one
          status = "diverged";
          divergedAt = done;
          break;
        }
        await options.onCheckpoint(cp);
      }
      options.onProgress?.({ iteration: done, iterations, ...last });
    }

    // ---- evaluation on fresh samples ----
    let metrics: Record<string, number> = {};
    let hist: Histogram1d | null = null;
    let parzen: ParzenReport | null = null;
    let classHistogram: number[] | null = null;
    let pixelHistogram: PixelHistogram | undefined;
    if (status === "completed") {
      options.onPhase?.("evaluating: sampling the generator");
      const e = await evaluate(resolved, G, rng, real, options.onPhase);
      ({ metrics, histogram: hist, pixelHistogram } = e);
      parzen = e.parzen ?? null;
      classHistogram = e.classHistogram ?? null;
    }
    let figureIndex: FigureIndex | null = null;
    if (figures) {
      let final = null;
      if (status === "completed" && real.imageShape) {
        options.onPhase?.("drawing the figures");
        const made = await figures.finalFigures(G);
        for (const f of made.figures) await options.onFigure!(f);
        final = made.index;
      }
      figureIndex = figures.index([...snapshotsTaken].sort((a, b) => a - b), final);
    }

    return {
      format: RESULT_FORMAT,
      experiment: resolved.experiment,
      profile: resolved.profile,
      seed: options.seed,
      config,
      configHash: resolved.configHash,
      backend,
      versions,
      data: real.provenance,
      pretrainedFrom: stacked && options.pretrained
        ? {
          experiment: stacked.experiment,
          configHash: options.pretrained.header.configHash,
          iteration: options.pretrained.header.iteration,
        }
        : null,
      parameters: { generator: parameterCount(G), discriminator: parameterCount(D) },
      trainStep,
      modelFlopsPerIteration: iterationFlops(
        config,
        G,
        D,
        dInput.kind === "identity" ? batchSize : 1,
      ),
      status,
      divergedAt,
      resumedFrom: options.resume ? start : null,
      evaluatedAtIteration: status === "completed" ? it : null,
      iterations,
      history,
      fingerprints,
      metrics,
      histogram: hist,
      parzen,
      classHistogram,
      ...(pixelHistogram ? { pixelHistogram } : {}),
      ...(tracker ? { tracked } : {}),
      segments: options.evalOnly ? segments : [...segments, thisSegment(it)],
      ...(milestoneEvery ? { milestones } : {}),
      figures: figureIndex,
      draws: draws.counts,
      ...(fault ? { fault } : {}),
      startedAt: startedAt.toISOString(),
      wallSeconds: (performance.now() - t0) / 1000,
    };
  } finally {
    tracker?.dispose();
    prefetch?.close();
    disposeNetwork(G);
    disposeNetwork(D);
    gOpt.dispose();
    dOpt.dispose();
  }
}

function describePath(
  p: { name: string; blasThreads: number | null; trainStep?: string },
): string {
  const step = `${p.trainStep ?? "autodiff"} step`;
  return p.blasThreads === null
    ? `${p.name}, ${step}`
    : `${p.name} (${p.blasThreads} BLAS threads, ${step})`;
}

/** The recorded scalars of an iteration (every HISTORY_SERIES key), read back as numbers. */
async function readScalars(scalars: Scalars): Promise<Record<HistorySeries, number>> {
  const entries = await Promise.all(
    Object.entries(scalars).map(async ([k, t]) => [k, (await readFloats(t))[0]] as const),
  );
  return Object.fromEntries(entries) as Record<HistorySeries, number>;
}
