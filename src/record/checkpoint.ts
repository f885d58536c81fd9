/**
 * Resumable training state: every parameter and optimiser slot (exact float32 bytes), the
 * update counters and the history so far. Random streams need no state: they are
 * counter-based, so the counters alone reproduce every later draw.
 *
 * File format (one file, written atomically): the tensor file of src/models/tensor-file.ts
 * with the header below; format 2 ends in a SHA-256 digest, format 1 files (no digest) are
 * still read.
 */
import type { ThreadSplit } from "../backend/openblas.ts";
import {
  decodeTensorFile,
  encodeTensorFile,
  streamTensorFile,
  tensorFileParts,
} from "../models/tensor-file.ts";
import type { TensorEntry } from "../models/tensor-layout.ts";
import type { DrawState } from "./draws.ts";
import type { Fingerprint } from "./fingerprint.ts";
import { completeHistory, type History } from "./history.ts";
import type { Segment, TrackedPoint } from "./result.ts";

export const CHECKPOINT_FORMAT = 2;

/** A checkpoint file that cannot be used: one line naming the file and what is wrong. */
export class CheckpointError extends Error {
  override name = "CheckpointError";
}

export interface CheckpointHeader {
  /** 1: written before digests existed (read, never written). */
  format: 1 | typeof CHECKPOINT_FORMAT;
  experiment: string;
  seed: number;
  configHash: string;
  /** The path that computed it (absent in older checkpoints): numbers depend on it. */
  /** trainStep: absent in checkpoints made before the fused step (all autodiff). */
  /** blasThreadSplit: absent in checkpoints from before it (see ThreadSplit). */
  /** blasCore: OpenBLAS's kernel family (BlasInfo.core), absent in checkpoints before it. */
  backend?: {
    name: string;
    blasThreads: number | null;
    blasThreadSplit?: ThreadSplit;
    blasCore?: string;
    trainStep?: "fused" | "autodiff";
  };
  /** Iterations completed. */
  iteration: number;
  optimizerSteps: { generator: number; discriminator: number };
  history: History;
  fingerprints: Fingerprint[];
  tensors: TensorEntry[];
  /** "generator": a milestone holding G's parameters only (it can be scored, not resumed). */
  contents?: "state" | "generator";
  /** The resolved config the run trained with (absent before format 2). */
  config?: unknown;
  /** The invocations that trained the run so far. */
  segments?: Segment[];
  /** The tracked scores so far (metrics.track). */
  tracked?: TrackedPoint[];
  /** Snapshot iterations whose sample figures were written. */
  snapshots?: number[];
  /** The draw monitor's counts and last signatures, so a resumed run counts on. */
  draws?: DrawState;
  /** Milestone checkpoints written so far. */
  milestones?: number[];
}

export interface Checkpoint {
  header: CheckpointHeader;
  values: Float32Array;
}

/**
 * A checkpoint whose values stay where the run keeps them (a large state is never copied
 * whole): `writeValues` hands every tensor's float32 bytes, in header order, to `write`, one
 * tensor at a time (on wasm, views of the heap: `write` must not keep them). Usable only
 * during the callback that receives it: the state moves on once that returns.
 */
export interface StreamedCheckpoint {
  header: CheckpointHeader;
  writeValues(write: (bytes: Uint8Array) => void): Promise<void>;
}

export function encodeCheckpoint(cp: Checkpoint): Uint8Array {
  return encodeTensorFile(cp.header, cp.values);
}

/** `encodeCheckpoint`'s bytes in parts, the values not copied (src/models/tensor-file.ts). */
export function checkpointParts(cp: Checkpoint): Uint8Array[] {
  return tensorFileParts(cp.header, cp.values);
}

/** `encodeCheckpoint`'s bytes, handed to `write` as `cp` streams its values. */
export function streamCheckpoint(
  cp: StreamedCheckpoint,
  write: (bytes: Uint8Array) => void,
): Promise<void> {
  return streamTensorFile(cp.header, (w) => cp.writeValues(w), write);
}

export function decodeCheckpoint(bytes: Uint8Array, file: string): Checkpoint {
  const cp = decodeTensorFile<CheckpointHeader>(
    bytes,
    { 1: { digest: false }, [CHECKPOINT_FORMAT]: { digest: true } },
    (what) => new CheckpointError(`${file}: not a usable checkpoint (${what})`),
  );
  // checkpoints written before the stability signals: those series filled (NaN, no value)
  if (cp.header.history) cp.header.history = completeHistory(cp.header.history);
  return cp;
}
