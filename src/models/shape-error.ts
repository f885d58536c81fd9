/**
 * A layer whose shapes do not fit its input or the data: a config problem (exit 2), named
 * by the layer (`G/h2`) and its place in the config (`$.generator.layers[2]`).
 */
export class ModelShapeError extends Error {
  override name = "ModelShapeError";

  constructor(readonly layer: string, readonly problem: string) {
    super(`${layer} (${layerPath(layer)}): ${problem}`);
  }
}

/** `G/h2` → `$.generator.layers[2]`, `D/h0` → `$.discriminator.layers[0]`. */
export function layerPath(layer: string): string {
  const m = /^([GD])\/h(\d+)$/.exec(layer);
  if (!m) return layer;
  return `$.${m[1] === "G" ? "generator" : "discriminator"}.layers[${m[2]}]`;
}
