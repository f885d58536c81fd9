/**
 * Resumable training state: every parameter and optimiser slot (exact float32 bytes), the
 * update counters and the history so far. Random streams need no state: they are
 * counter-based, so the counters alone reproduce every later draw.
 *
 * File format (one file, written atomically): uint32 little-endian header length, the JSON
 * header, the float32 values of every tensor in header order, then (format 2) the SHA-256 of
 * everything before it, checked on every read: a flipped bit anywhere is refused. Format 1
 * files (no digest) are still read.
 */
import type { Variable } from "../backend/tf.ts";
import { readFloats } from "../backend/select.ts";
import type { History, Segment, TrackedPoint } from "./result.ts";
import type { DrawState } from "./draw-monitor.ts";
import { sha256Hex } from "../data/checksum.ts";
import { createHash } from "node:crypto";

export const CHECKPOINT_FORMAT = 2;
const DIGEST_BYTES = 32;

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
  backend?: { name: string; blasThreads: number | null; trainStep?: "fused" | "autodiff" };
  /** Iterations completed. */
  iteration: number;
  optimizerSteps: { generator: number; discriminator: number };
  history: History;
  fingerprints: Fingerprint[];
  tensors: { name: string; shape: number[]; offset: number; length: number }[];
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

/** The whole training state at one iteration, hashed: equal fingerprints, equal runs. */
export interface Fingerprint {
  step: number;
  /** SHA-256 over the tensor hashes, the losses and the update counters. */
  hash: string;
  /** SHA-256 (first 16 hex digits) of each weight and optimiser slot's float32 bytes. */
  tensors: Record<string, string>;
  /** SHA-256 (first 16 hex digits) of the recorded scalars at this step. */
  losses: string;
}

export function fingerprint(
  step: number,
  captured: { tensors: CheckpointHeader["tensors"]; values: Float32Array },
  losses: Record<string, number>,
  counters: number[],
): Fingerprint {
  const tensors: Record<string, string> = {};
  for (const t of captured.tensors) {
    const bytes = new Uint8Array(
      captured.values.buffer,
      captured.values.byteOffset + t.offset * 4,
      t.length * 4,
    );
    tensors[t.name] = sha256Hex(bytes).slice(0, 16);
  }
  const lossHash = sha256Hex(new TextEncoder().encode(JSON.stringify(losses))).slice(0, 16);
  const hash = sha256Hex(
    new TextEncoder().encode(JSON.stringify({ step, tensors, lossHash, counters })),
  );
  return { step, hash, tensors, losses: lossHash };
}

export interface Checkpoint {
  header: CheckpointHeader;
  values: Float32Array;
}

/** Reads named variables back from the backend into one flat array. */
export async function captureTensors(
  named: [string, Variable][],
): Promise<{ tensors: CheckpointHeader["tensors"]; values: Float32Array }> {
  const parts = await Promise.all(named.map(([, v]) => readFloats(v)));
  const total = parts.reduce((n, p) => n + p.length, 0);
  const values = new Float32Array(total);
  const tensors: CheckpointHeader["tensors"] = [];
  let offset = 0;
  named.forEach(([name, v], i) => {
    values.set(parts[i], offset);
    tensors.push({ name, shape: v.shape, offset, length: parts[i].length });
    offset += parts[i].length;
  });
  return { tensors, values };
}

export function encodeCheckpoint(cp: Checkpoint): Uint8Array {
  const header = new TextEncoder().encode(JSON.stringify(cp.header));
  const bodyEnd = 4 + header.length + cp.values.byteLength;
  const out = new Uint8Array(bodyEnd + DIGEST_BYTES);
  new DataView(out.buffer).setUint32(0, header.length, true);
  out.set(header, 4);
  out.set(
    new Uint8Array(cp.values.buffer, cp.values.byteOffset, cp.values.byteLength),
    4 + header.length,
  );
  out.set(digest(out.subarray(0, bodyEnd)), bodyEnd);
  return out;
}

function digest(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(createHash("sha256").update(bytes).digest());
}

export function decodeCheckpoint(bytes: Uint8Array, file: string): Checkpoint {
  const fail = (what: string) => new CheckpointError(`${file}: not a usable checkpoint (${what})`);
  if (bytes.length < 4) throw fail(`${bytes.length} bytes: too short`);
  const headerLength = new DataView(bytes.buffer, bytes.byteOffset).getUint32(0, true);
  if (4 + headerLength > bytes.length) throw fail("truncated header");
  let header: CheckpointHeader;
  try {
    header = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(
      bytes.subarray(4, 4 + headerLength),
    ));
  } catch {
    throw fail("unreadable header");
  }
  if (header?.format !== 1 && header?.format !== CHECKPOINT_FORMAT) {
    throw fail(`format ${JSON.stringify(header?.format)}; this version reads 1 and 2`);
  }
  if (!Array.isArray(header.tensors)) throw fail("header lists no tensors");
  const bodyStart = 4 + headerLength;
  const trailer = header.format === 1 ? 0 : DIGEST_BYTES;
  const expected = header.tensors.reduce((n, t) => n + t.length, 0) * 4;
  if (bytes.length - bodyStart - trailer !== expected) {
    throw fail(
      `${bytes.length - bodyStart - trailer} bytes of values, expected ${expected} (truncated?)`,
    );
  }
  if (trailer) {
    const stored = bytes.subarray(bytes.length - DIGEST_BYTES);
    const actual = digest(bytes.subarray(0, bytes.length - DIGEST_BYTES));
    if (!stored.every((b, i) => b === actual[i])) {
      throw fail("its SHA-256 does not match its contents: the file was altered or damaged");
    }
  }
  const body = bytes.slice(bodyStart, bodyStart + expected);
  return { header, values: new Float32Array(body.buffer) };
}

/** Assigns saved values to variables by name; every variable must be present and match. */
export function restoreTensors(
  cp: Checkpoint,
  named: [string, Variable][],
  assign: (v: Variable, values: Float32Array) => void,
): void {
  const byName = new Map(cp.header.tensors.map((t) => [t.name, t]));
  for (const [name, v] of named) {
    const t = byName.get(name);
    if (!t) throw new Error(`checkpoint has no tensor "${name}"`);
    if (t.shape.join("x") !== v.shape.join("x")) {
      throw new Error(`checkpoint tensor "${name}" has shape ${t.shape}, the model ${v.shape}`);
    }
    assign(v, cp.values.subarray(t.offset, t.offset + t.length));
  }
}

export function allFinite(values: Float32Array): boolean {
  for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i])) return false;
  return true;
}
