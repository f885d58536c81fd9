/**
 * Model FLOPs: the multiply-adds of the matrix products (dense, maxout, convolution) an
 * update rule needs at the least, the measure behind benchmarks' "fraction of the ceiling"
 * (as MFU counts a transformer's 6·N·tokens). Elementwise work is not counted. What the
 * harness actually executes is counted separately, by the OpenBLAS kernel.
 */
import type { ResolvedConfig } from "../config/load.ts";
import type { Layer, Network } from "./network.ts";

/** Multiply-adds of one layer for one example. */
export function layerMacs(layer: Layer): number {
  const c = layer.config;
  // side-by-side branches: each weight matrix once
  if (c.type === "branches") {
    return layer.params.filter((p) => p.name.endsWith("/W")).reduce(
      (n, p) => n + p.variable.size,
      0,
    );
  }
  const weights = layer.params[0]?.variable.size ?? 0;
  if (c.type === "conv-maxout") {
    // the stride-1 convolution runs at every output position before pooling
    const [h, w] = layer.inShape;
    return (h + 2 * c.pad - c.kernel + 1) * (w + 2 * c.pad - c.kernel + 1) * weights;
  }
  if (c.type === "deconv") {
    // every input position scatters a k × k × Cout patch
    const [h, w] = layer.inShape;
    return h * w * weights;
  }
  return weights; // dense, maxout; 0 for reshape
}

/** Per network: forward MACs per example, and those of its first layer. */
export interface NetworkMacs {
  total: number;
  first: number;
}

export function networkMacs(net: Network): NetworkMacs {
  const macs = net.layers.map(layerMacs);
  return { total: macs.reduce((a, b) => a + b, 0), first: macs.find((m) => m > 0) ?? 0 };
}

/**
 * FLOPs (2 per multiply-add) of one training iteration. Each forward pass counted once per
 * batch; a backward pass costs one product for the weight gradients and one for the input
 * gradients, except at a first layer whose input is data (no gradient wanted).
 * - D update: forward on a real and a generated batch, both backward (weights and hidden
 *   inputs); the generated batch's G forward.
 * - G update: G forward and backward; D forward and backward to its input, weights frozen.
 * The simultaneous rule (one gradient of each at the same parameters) shares G's forward
 * between them.
 */
export function iterationFlops(
  config: ResolvedConfig["config"],
  G: Network,
  D: Network,
  dInputRows = config.training.batchSize,
): number {
  const B = config.training.batchSize;
  const g = networkMacs(G), d = networkMacs(D);
  const fwd = (n: NetworkMacs, rows: number) => 2 * rows * n.total;
  const weightGrad = fwd;
  const hiddenGrad = (n: NetworkMacs, rows: number) => 2 * rows * (n.total - n.first);
  const dBatch = (rows: number) => fwd(d, rows) + weightGrad(d, rows) + hiddenGrad(d, rows);
  const dThroughToInput = fwd(d, dInputRows) + 2 * dInputRows * d.total;
  const gBackward = weightGrad(g, B) + hiddenGrad(g, B);
  const t = config.training;
  if (t.update === "simultaneous") {
    return fwd(g, B) + 2 * dBatch(dInputRows) + (dThroughToInput - fwd(d, dInputRows)) +
      gBackward;
  }
  const dStep = fwd(g, B) + 2 * dBatch(dInputRows);
  const gStep = fwd(g, B) + dThroughToInput + gBackward;
  return t.dSteps * dStep + t.gSteps * gStep;
}
