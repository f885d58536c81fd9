/** Reading tensors back from the backend as one flat array, and assigning saved values. */
import { readFloats } from "../backend/select.ts";
import type { Variable } from "../backend/tf.ts";
import type { CapturedTensors, TensorEntry } from "./tensor-layout.ts";

/** Reads named variables back from the backend into one flat array. */
export async function captureTensors(named: [string, Variable][]): Promise<CapturedTensors> {
  const parts = await Promise.all(named.map(([, v]) => readFloats(v)));
  const total = parts.reduce((n, p) => n + p.length, 0);
  const values = new Float32Array(total);
  const tensors: TensorEntry[] = [];
  let offset = 0;
  named.forEach(([name, v], i) => {
    values.set(parts[i], offset);
    tensors.push({ name, shape: v.shape, offset, length: parts[i].length });
    offset += parts[i].length;
  });
  return { tensors, values };
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
