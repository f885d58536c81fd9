/**
 * The 2014 code's dropout on D: inverted dropout on each layer's input, a fresh Bernoulli
 * mask per example and per unit at every step, drawn from a named stream (so the real and
 * the generated batch get independent masks, and a resumed run draws the same ones).
 * Parameter-free layers (reshape) take no mask; the first layer with parameters takes the
 * "input" rule, every later one the "hidden" rule.
 */
import type { DropoutConfig, DropoutRuleConfig } from "../config/schema.ts";
import type { Network } from "../models/network.ts";
import type { Rng } from "../rng/streams.ts";

/** One layer's rule: keep a unit with probability `keep`, scale the kept ones by `scale`. */
export type DropoutRule = DropoutRuleConfig;
/** The config's discriminator.dropout: the first layer's rule and every later layer's. */
export type DropoutSpec = DropoutConfig;

/** Per D layer: the units of its input and its rule, or null where no dropout applies. */
export type MaskPlan = ({ units: number; rule: DropoutRule } | null)[];

export function dropoutMaskPlan(net: Network, spec: DropoutSpec): MaskPlan {
  let first = true;
  return net.layers.map((layer) => {
    if (layer.params.length === 0) return null;
    const rule = first ? spec.input : spec.hidden;
    first = false;
    if (!rule) return null;
    return { units: layer.inShape.reduce((a, b) => a * b, 1), rule };
  });
}

/**
 * Per D layer: a rows × units mask of 0 or `scale`, or null where no dropout applies. Pure:
 * the same (seed, stream, step) gives the same masks here and in src/train/draw-worker.ts.
 */
export function dropoutMasksFrom(
  rng: Rng,
  plan: MaskPlan,
  stream: string,
  step: number,
  rows: number,
): (Float32Array | null)[] {
  return plan.map((layer, i) => {
    if (!layer) return null;
    const { keep, scale } = layer.rule;
    return rng.stream(`${stream}/h${i}`).at(step).bernoulli(rows * layer.units, keep, scale);
  });
}
