/** What a caller passes to `runExperiment` (src/train/run.ts) besides the config. */
import type { BackendChoice } from "../backend/info.ts";
import type { ThreadSplit } from "../backend/openblas.ts";
import type { DataSources } from "../data/registry.ts";
import type { Checkpoint, StreamedCheckpoint } from "../record/checkpoint.ts";
import type { Figure } from "../record/figures.ts";
import type { TrackedPoint } from "../record/result.ts";
import type { Fault } from "./faults.ts";
import type { Progress } from "./progress.ts";
import type { TrainStepChoice } from "./steps/names.ts";

export interface RunOptions {
  seed: number;
  backend?: BackendChoice;
  /** Threads for the matrix products on "wasm+openblas" (default 1; no number depends on it). */
  blasThreads?: number;
  /**
   * How the threads share a product (src/backend/openblas.ts, ThreadSplit). Default: "rows",
   * or, resuming a checkpoint made on several of OpenBLAS's own threads, "openblas".
   */
  blasThreadSplit?: ThreadSplit;
  signal?: AbortSignal;
  onProgress?: (p: Progress) => void;
  /** Receives a checkpoint every `training.checkpointEvery` iterations, at the end, and on abort. */
  onCheckpoint?: (cp: Checkpoint) => Promise<void>;
  /**
   * In place of `onCheckpoint` (not beside it): the same checkpoints, their values streamed
   * from the backend's tensors when the callback writes them (`writeValues`, before it
   * returns), so a large state is never copied whole. The CLI writes its files so.
   */
  onCheckpointStream?: (cp: StreamedCheckpoint) => Promise<void>;
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
   * How a simultaneous update is computed: "fused" (src/train/steps/fused-mlp.ts: MLP models on
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
