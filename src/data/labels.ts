/**
 * Class labels as a conditional GAN sees them (docs/conditional.md): one-hot vectors of the
 * data set's classes, appended to G's noise rows and to D's input rows. Which labels: the
 * real batch's own (from the data set), uniform draws from a named stream for G's training
 * rows, and fixed assignments (cyclic, or class by class) for evaluation and figures.
 */
import type { Draw } from "../rng/streams.ts";

/** Classes of each labelled data set. */
const CLASSES: Record<string, number> = { mnist: 10, "fashion-mnist": 10, cifar10: 10 };

export function labelClasses(kind: string): number {
  const n = CLASSES[kind];
  if (n === undefined) throw new Error(`data of kind ${kind} carry no class labels`);
  return n;
}

/** Values a conditional config appends to each G and D input row: its classes, else 0. */
export function conditionWidth(
  config: { conditional?: { labels: "one-hot" }; data: { kind: string } },
): number {
  return config.conditional ? labelClasses(config.data.kind) : 0;
}

/** `n` labels drawn uniformly from `classes` (rejection sampling: no modulo bias). */
export function drawLabels(draw: Draw, n: number, classes: number): Int32Array {
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) out[i] = draw.nextBelow(classes);
  return out;
}

/** Row i gets label i mod classes: every class equally often (to within one) in any prefix. */
export function cyclicLabels(n: number, classes: number): Int32Array {
  return Int32Array.from({ length: n }, (_, i) => i % classes);
}

/** `perClass` rows of class 0, then of class 1, …: rows c·perClass … (c + 1)·perClass − 1 are c. */
export function classMajorLabels(perClass: number, classes: number): Int32Array {
  return Int32Array.from({ length: perClass * classes }, (_, i) => Math.floor(i / perClass));
}

/** Rows × classes one-hot values. */
export function oneHot(labels: ArrayLike<number>, classes: number): Float32Array {
  const out = new Float32Array(labels.length * classes);
  for (let i = 0; i < labels.length; i++) {
    const c = labels[i];
    if (!(Number.isInteger(c) && c >= 0 && c < classes)) {
      throw new RangeError(`label ${c} at row ${i} is not one of ${classes} classes`);
    }
    out[i * classes + c] = 1;
  }
  return out;
}

/** Each row of `x` (`dim` values) followed by its label's one-hot vector. */
export function withOneHot(
  x: Float32Array,
  dim: number,
  labels: ArrayLike<number>,
  classes: number,
): Float32Array {
  const rows = labels.length;
  if (x.length !== rows * dim) {
    throw new RangeError(`${x.length} values are not ${rows} rows of ${dim}`);
  }
  const width = dim + classes, out = new Float32Array(rows * width);
  const hot = oneHot(labels, classes); // checks each label
  for (let r = 0; r < rows; r++) {
    out.set(x.subarray(r * dim, (r + 1) * dim), r * width);
    out.set(hot.subarray(r * classes, (r + 1) * classes), r * width + dim);
  }
  return out;
}

/** The labels of the training split's rows `indices` (a real batch's). */
export function labelsAt(labels: Uint8Array, indices: Int32Array): Int32Array {
  return Int32Array.from(indices, (i) => labels[i]);
}
