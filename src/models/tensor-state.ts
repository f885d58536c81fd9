/** Reading tensors back from the backend as one flat array, and assigning saved values. */
import { readFloatsInto, withFloats } from "../backend/select.ts";
import type { Variable } from "../backend/tf.ts";
import type { CapturedTensors, TensorEntry } from "./tensor-layout.ts";

/**
 * Reads named variables back from the backend into one flat array, one at a time: a state's
 * read-back holds the array and one tensor's copy, not a copy of every tensor besides.
 */
export async function captureTensors(named: [string, Variable][]): Promise<CapturedTensors> {
  const values = new Float32Array(named.reduce((n, [, v]) => n + v.size, 0));
  const tensors: TensorEntry[] = [];
  let offset = 0;
  for (const [name, v] of named) {
    await readFloatsInto(v, values, offset);
    tensors.push({ name, shape: v.shape, offset, length: v.size });
    offset += v.size;
  }
  return { tensors, values };
}

/**
 * Hands each named variable's values to `visit`, one tensor at a time and without a flat
 * copy of the state: on wasm a view of the heap (valid only during the call: `visit` must
 * not keep it nor allocate tensors), elsewhere that tensor's read-back.
 */
export async function visitTensors(
  named: [string, Variable][],
  visit: (name: string, values: Float32Array) => void,
): Promise<void> {
  for (const [name, v] of named) await withFloats(v, (values) => visit(name, values));
}

/**
 * Assigns saved values (a checkpoint's) to variables by name; every variable must be present
 * and match.
 */
export function restoreTensors(
  saved: { header: { tensors: TensorEntry[] }; values: Float32Array },
  named: [string, Variable][],
  assign: (v: Variable, values: Float32Array) => void,
): void {
  const byName = new Map(saved.header.tensors.map((t) => [t.name, t]));
  for (const [name, v] of named) {
    const t = byName.get(name);
    if (!t) throw new Error(`checkpoint has no tensor "${name}"`);
    if (t.shape.join("x") !== v.shape.join("x")) {
      throw new Error(`checkpoint tensor "${name}" has shape ${t.shape}, the model ${v.shape}`);
    }
    assign(v, saved.values.subarray(t.offset, t.offset + t.length));
  }
}

export function allFinite(values: Float32Array): boolean {
  for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i])) return false;
  return true;
}
