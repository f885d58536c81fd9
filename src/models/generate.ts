/** Samples of a generator: G(z) for many rows of noise, a batch of rows at a time. */
import { interruptionPoint } from "../backend/interrupt.ts";
import { readFloats } from "../backend/select.ts";
import { tf } from "../backend/tf.ts";
import { forward, type Network } from "./network.ts";

/**
 * G(z) for each row of `z` (zDim values a row), `batch` rows per forward pass, as one flat
 * array of G.outputDim values a row. Each caller keeps the batch its recorded numbers were
 * made with. No dropout unless `masks` gives batch b's per-layer masks (rows × a layer's
 * input units, null for none), as a training step applies them.
 */
export async function generate(
  G: Network,
  z: Float32Array,
  zDim: number,
  batch: number,
  /** Stops between batches (Ctrl-C during scoring). */
  signal?: AbortSignal,
  masks?: (b: number, rows: number) => (Float32Array | null)[],
): Promise<Float32Array> {
  const n = z.length / zDim;
  const out = new Float32Array(n * G.outputDim);
  for (let at = 0; at < n; at += batch) {
    const rows = Math.min(batch, n - at);
    const layerMasks = masks?.(at / batch, rows);
    const t = tf.tidy(() =>
      forward(G, tf.tensor2d(z.subarray(at * zDim, (at + rows) * zDim), [rows, zDim]), {
        masks: layerMasks?.map((m) => m && tf.tensor2d(m, [rows, m.length / rows])),
      })
    );
    out.set(await readFloats(t), at * G.outputDim);
    t.dispose();
    await interruptionPoint(signal);
  }
  return out;
}
