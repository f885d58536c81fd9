/**
 * Inverted dropout on a network's layer inputs, in training steps only: a fresh Bernoulli
 * mask per example and per unit at every step, drawn from a named stream (so D's real and
 * generated batches get independent masks, G's masks are apart from D's, and a resumed run
 * draws the same ones). D's is the 2014 code's; G's is the conditional GAN's "dropout in both
 * networks", placed as docs/conditional.md §2 says. Parameter-free layers (reshape) take no
 * mask; the first layer with parameters takes the "input" rule, every later one the "hidden"
 * rule.
 */
import type { DropoutConfig, DropoutRuleConfig } from "../config/schema.ts";
import type { Network } from "../models/network.ts";
import type { Rng } from "../rng/streams.ts";

/** One layer's rule: keep a unit with probability `keep`, scale the kept ones by `scale`. */
export type DropoutRule = DropoutRuleConfig;
/** discriminator.dropout or generator.dropout: the first layer's rule and every later one's. */
export type DropoutSpec = DropoutConfig;

/** Per layer: the units of its input and its rule, or null where no dropout applies. */
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
 * Per layer: a rows × units mask of 0 or `scale`, or null where no dropout applies. Pure:
 * the same (seed, stream, step) gives the same masks here and in src/train/draw-worker.ts.
 * `out(layer, length)`, when given, supplies each layer's array to draw into.
 */
export function dropoutMasksFrom(
  rng: Rng,
  plan: MaskPlan,
  stream: string,
  step: number,
  rows: number,
  out: (layer: number, length: number) => Float32Array = (_, length) => new Float32Array(length),
): (Float32Array | null)[] {
  return plan.map((layer, i) => {
    if (!layer) return null;
    const { keep, scale } = layer.rule;
    return rng.stream(`${stream}/h${i}`).at(step).bernoulliInto(
      out(i, rows * layer.units),
      keep,
      scale,
    );
  });
}
