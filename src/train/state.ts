/**
 * A run's state: the tensors of the training state, the checkpoint it is snapshotted into,
 * and the restore of a resumed checkpoint (weights, optimiser state, the record so far).
 */
import type { Variable } from "../backend/tf.ts";
import { budgetFreeHash } from "../config/load.ts";
import { networkTensors } from "../models/network.ts";
import type { TensorEntry } from "../models/tensor-layout.ts";
import {
  allFinite,
  captureTensors,
  tensorLayout,
  tensorsFinite,
  writeTensorBytes,
} from "../models/tensor-state.ts";
import type { ThreadSplit } from "../backend/openblas.ts";
import {
  type Checkpoint,
  CHECKPOINT_FORMAT,
  type CheckpointHeader,
  type StreamedCheckpoint,
} from "../record/checkpoint.ts";
import type { Segment } from "../record/result.ts";
import { DrawMonitor } from "./draw-monitor.ts";
import { assignFrom } from "./models.ts";
import type { Session } from "./session.ts";

/** The starting point: the resumed checkpoint's weights, optimiser state and record. */
export function restoreRecord(s: Session): void {
  const { options, resolved } = s;
  if (options.resume?.header.contents === "generator") {
    // a milestone of G alone: it can be scored, not trained on
    if (!options.evalOnly) throw new Error("a generator-only milestone can be scored, not resumed");
    assignFrom(options.resume, networkTensors(s.G));
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
  // checkpoints from before the fused step were all made by autodiff; the BLAS thread count
  // changes no number (src/backend/blas-threads.ts) except on OpenBLAS's own threads
  const wasSplit = was && threadSplitOf(was), nowSplit = threadSplitOf(now);
  const threadsMatter = wasSplit === "openblas" || nowSplit === "openblas";
  if (
    was &&
    (was.name !== now.name || wasSplit !== nowSplit ||
      (threadsMatter && was.blasThreads !== now.blasThreads) ||
      // the kernel family: unknown in checkpoints from before it was recorded
      (was.blasCore !== undefined && was.blasCore !== now.blasCore) ||
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

/**
 * Every tensor of the training state: weights (G's followed by its batch-normalisation
 * averages, where it has any), then optimiser slots.
 */
export function stateTensors(s: Session): [string, Variable][] {
  return [
    ...networkTensors(s.G),
    ...networkTensors(s.D),
    ...s.gOpt.slots(),
    ...s.dOpt.slots(),
  ];
}

/** What a run's numbers depend on beyond config and seed: resuming elsewhere warns. */
function stepPath(s: Session) {
  return {
    name: s.backend.name,
    blasThreads: s.backend.blas?.threads ?? null,
    ...(s.backend.blas
      ? { blasThreadSplit: s.backend.blas.threadSplit, blasCore: s.backend.blas.core }
      : {}),
    trainStep: s.step.name,
  };
}

export function thisSegment(s: Session, to: number): Segment {
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
export async function checkpoint(
  s: Session,
  done: number,
  captured?: Awaited<ReturnType<typeof captureTensors>>,
  contents: "state" | "generator" = "state",
): Promise<Checkpoint | null> {
  const { tensors, values } = contents === "generator"
    ? await captureTensors(networkTensors(s.G))
    : captured ?? await captureTensors(stateTensors(s));
  if (!allFinite(values)) return null;
  return { header: checkpointHeader(s, done, tensors, contents), values };
}

/**
 * The checkpoint of the whole state after `done` iterations, its values left in the
 * backend's tensors and streamed from there when written (a finiteness pass over them first);
 * null, as for `checkpoint`, when a weight is no longer finite.
 */
export async function streamedCheckpoint(
  s: Session,
  done: number,
): Promise<StreamedCheckpoint | null> {
  const named = stateTensors(s);
  if (!await tensorsFinite(named)) return null;
  return {
    header: checkpointHeader(s, done, tensorLayout(named), "state"),
    writeValues: (write) => writeTensorBytes(named, write),
  };
}

/** What a checkpoint after `done` iterations records besides its values. */
function checkpointHeader(
  s: Session,
  done: number,
  tensors: TensorEntry[],
  contents: "state" | "generator",
): CheckpointHeader {
  return {
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
  };
}

type StepPath = NonNullable<Checkpoint["header"]["backend"]>;

/**
 * How a checkpoint's products used their threads (null without OpenBLAS): as recorded, or,
 * from before it was recorded, OpenBLAS's own threads when there were several.
 */
export function threadSplitOf(p: StepPath): ThreadSplit | null {
  if (p.blasThreads === null) return null;
  return p.blasThreadSplit ?? (p.blasThreads > 1 ? "openblas" : "rows");
}

function describePath(p: StepPath): string {
  const step = `${p.trainStep ?? "autodiff"} step`;
  const kind = threadSplitOf(p) === "openblas" ? "OpenBLAS" : "BLAS";
  const core = p.blasCore ? `${p.blasCore} kernels, ` : "";
  return p.blasThreads === null
    ? `${p.name}, ${step}`
    : `${p.name} (${core}${p.blasThreads} ${kind} threads, ${step})`;
}
