/**
 * Values per example of each kind of data, known before any file is read: the shape checks
 * and the memory model use them; the readers refuse files of other sizes (MNIST and
 * Fashion-MNIST 28×28, CIFAR-10 3×32×32, TFD 48×48 as in TFD_48x48.mat, the file read).
 */
import { GAUSSIAN_DATA_DIM } from "./gaussian.ts";
import { MIXTURE_DIM } from "./mixture.ts";

const DIMS: Record<string, number> = {
  gaussian: GAUSSIAN_DATA_DIM,
  ring: MIXTURE_DIM,
  grid: MIXTURE_DIM,
  mnist: 28 * 28,
  "fashion-mnist": 28 * 28,
  cifar10: 3 * 32 * 32,
  tfd: 48 * 48,
};

export function dataDim(kind: string): number {
  const dim = DIMS[kind];
  if (dim === undefined) throw new Error(`no known size for data of kind ${kind}`);
  return dim;
}
