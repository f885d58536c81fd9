/**
 * Reading tensors back from the backend (as one flat array, or one tensor at a time where they
 * lie), and assigning saved values.
 */
import { readFloatsInto, withFloats } from "../backend/select.ts";
import type { Variable } from "../backend/tf.ts";
import type { CapturedTensors, TensorEntry } from "./tensor-layout.ts";

/**
 * Reads named variables back from the backend into one flat array, one at a time: a state's
 * read-back holds the array and one tensor's copy, not a copy of every tensor besides.
 */
export async function captureTensors(named: [string, Variable][]): Promise<CapturedTensors> {
  const tensors = tensorLayout(named);
  const values = new Float32Array(named.reduce((n, [, v]) => n + v.size, 0));
  for (const [i, [, v]] of named.entries()) await readFloatsInto(v, values, tensors[i].offset);
  return { tensors, values };
}

/** Where each named variable lies in the flat array `captureTensors` would read them into. */
export function tensorLayout(named: [string, Variable][]): TensorEntry[] {
  let offset = 0;
  return named.map(([name, v]) => {
    const entry = { name, shape: v.shape, offset, length: v.size };
    offset += v.size;
    return entry;
  });
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

/** Whether every value of the named variables is finite, checked where they lie (`visitTensors`). */
export async function tensorsFinite(named: [string, Variable][]): Promise<boolean> {
  let finite = true;
  await visitTensors(named, (_, values) => finite &&= allFinite(values));
  return finite;
}

/**
 * Hands each named variable's float32 bytes to `write`, in order, one tensor at a time (the
 * bytes of `captureTensors`'s array, never gathered): views that `write` must not keep.
 */
export function writeTensorBytes(
  named: [string, Variable][],
  write: (bytes: Uint8Array) => void,
): Promise<void> {
  return visitTensors(
    named,
    (_, values) => write(new Uint8Array(values.buffer, values.byteOffset, values.byteLength)),
  );
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
