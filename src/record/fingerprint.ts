/**
 * Fingerprints: the whole training state at one iteration, hashed (result.json
 * `fingerprints`, checkpoints, `deno task verify` / `diff`). Equal fingerprints, equal runs.
 *
 * The hash covers the tensors, the recorded scalars and the update counters. The scalars are
 * hashed as one JSON object whose key order is part of the format: FINGERPRINT_SCALARS lists
 * it per update rule (it is the order the 2014 steps produced their values in, kept so that
 * every recorded fingerprint stays valid).
 */
import { sha256Hex } from "../data/checksum.ts";
import type { CapturedTensors } from "../models/tensor-layout.ts";
import type { TrainingConfig } from "../config/schema.ts";
import type { STEP_SERIES } from "./history.ts";

/** The scalars a fingerprint may hash: the step series (never the stability signals). */
type HashedScalar = typeof STEP_SERIES[number];

export interface Fingerprint {
  step: number;
  /** SHA-256 over the tensor hashes, the losses and the update counters. */
  hash: string;
  /** SHA-256 (first 16 hex digits) of each weight and optimiser slot's float32 bytes. */
  tensors: Record<string, string>;
  /** SHA-256 (first 16 hex digits) of the recorded scalars at this step. */
  losses: string;
}

/** The order in which a step's recorded scalars enter the hash, by config training.update. */
export const FINGERPRINT_SCALARS: Record<TrainingConfig["update"], readonly HashedScalar[]> = {
  // D's scalars, G's batch statistics, then both losses
  simultaneous: ["dReal", "dFake", "fakeMean", "fakeStd", "dLoss", "gLoss"],
  // the D step's three values, then the G step's three
  alternating: ["dReal", "dFake", "dLoss", "fakeMean", "fakeStd", "gLoss"],
};

/** The first 16 hex digits of the SHA-256 of a tensor's float32 bytes. */
export function tensorHash(values: Float32Array): string {
  return sha256Hex(new Uint8Array(values.buffer, values.byteOffset, values.byteLength))
    .slice(0, 16);
}

/** `tensorHash` of each captured tensor, by name in the state's order. */
export function capturedHashes(captured: CapturedTensors): Record<string, string> {
  const tensors: Record<string, string> = {};
  for (const t of captured.tensors) {
    tensors[t.name] = tensorHash(captured.values.subarray(t.offset, t.offset + t.length));
  }
  return tensors;
}

/**
 * The fingerprint at `step` of a state whose tensors hash to `tensors` (`tensorHash` by name,
 * in the state's order: `capturedHashes`, or each tensor hashed where it lies).
 */
export function fingerprint(
  step: number,
  tensors: Record<string, string>,
  scalars: Record<HashedScalar, number>,
  order: readonly HashedScalar[],
  counters: number[],
): Fingerprint {
  const losses = Object.fromEntries(order.map((k) => [k, scalars[k]]));
  const lossHash = sha256Hex(new TextEncoder().encode(JSON.stringify(losses))).slice(0, 16);
  const hash = sha256Hex(
    new TextEncoder().encode(JSON.stringify({ step, tensors, lossHash, counters })),
  );
  return { step, hash, tensors: { ...tensors }, losses: lossHash };
}

/** The first fingerprint where two runs differ, and in what; null when they agree. */
export function firstDifference(
  a: Fingerprint[],
  b: Fingerprint[],
): { step: number; tensors: string[]; losses: boolean } | { step: null; reason: string } | null {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    if (a[i].step !== b[i].step) {
      return { step: null, reason: `fingerprint ${i} is at step ${a[i].step} vs ${b[i].step}` };
    }
    if (a[i].hash === b[i].hash) continue;
    const names = [...new Set([...Object.keys(a[i].tensors), ...Object.keys(b[i].tensors)])];
    return {
      step: a[i].step,
      tensors: names.filter((t) => a[i].tensors[t] !== b[i].tensors[t]),
      losses: a[i].losses !== b[i].losses,
    };
  }
  if (a.length !== b.length) {
    return { step: null, reason: `${a.length} vs ${b.length} fingerprints` };
  }
  return null;
}

export function describeDifference(d: NonNullable<ReturnType<typeof firstDifference>>): string {
  if (d.step === null) return `the runs are not comparable: ${d.reason}`;
  const what = [...d.tensors, ...(d.losses ? ["the recorded losses"] : [])];
  return `first diverging step: ${d.step}; differing: ${what.join(", ") || "the update counters"}`;
}
