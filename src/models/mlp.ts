/**
 * Fully connected networks as plain parameter lists plus a pure forward function.
 * Initial weights come from the project's seeded streams, never from TF.js initialisers.
 */
import { type Tensor, tf, type Variable } from "../backend/tf.ts";
import type { DenseLayerConfig, InitConfig } from "../config/schema.ts";
import type { Rng } from "../rng/streams.ts";

export interface DenseParams {
  /** Stable name used in checkpoints and fingerprints, e.g. "G/h0/W". */
  name: string;
  W: Variable;
  b: Variable;
  layer: DenseLayerConfig;
}

export interface Mlp {
  layers: DenseParams[];
  inputDim: number;
}

/** The initial values of one dense layer, as plain arrays (testable without TF.js). */
export function initDense(
  rng: Rng,
  streamName: string,
  fanIn: number,
  fanOut: number,
  init: InitConfig,
): { W: Float32Array; b: Float32Array } {
  const draw = rng.stream(streamName).at(0);
  if (init.kind === "fan-in-uniform") {
    const bound = 1 / Math.sqrt(fanIn);
    return {
      W: draw.uniform(fanIn * fanOut, -bound, bound),
      b: draw.uniform(fanOut, -bound, bound),
    };
  }
  return {
    W: draw.uniform(fanIn * fanOut, -init.irange, init.irange),
    b: new Float32Array(fanOut).fill(init.bias),
  };
}

export function buildMlp(
  rng: Rng,
  prefix: string,
  inputDim: number,
  layers: DenseLayerConfig[],
  init: InitConfig,
): Mlp {
  let fanIn = inputDim;
  const params = layers.map((layer, i) => {
    const name = `${prefix}/h${i}`;
    const values = initDense(rng, `${name}/init`, fanIn, layer.units, init);
    const p: DenseParams = {
      name,
      // tidy: a variable takes its own reference, so the initial tensor must be released
      W: tf.tidy(() => tf.variable(tf.tensor2d(values.W, [fanIn, layer.units]))),
      b: tf.tidy(() => tf.variable(tf.tensor1d(values.b))),
      layer,
    };
    fanIn = layer.units;
    return p;
  });
  return { layers: params, inputDim };
}

export function mlpVariables(net: Mlp): Variable[] {
  return net.layers.flatMap((l) => [l.W, l.b]);
}

export function namedVariables(net: Mlp): [string, Variable][] {
  return net.layers.flatMap((l) => [[`${l.name}/W`, l.W], [`${l.name}/b`, l.b]]);
}

export function disposeMlp(net: Mlp): void {
  for (const v of mlpVariables(net)) v.dispose();
}

function activate(x: Tensor, layer: DenseLayerConfig): Tensor {
  switch (layer.activation) {
    case "linear":
      return x;
    case "tanh":
      return tf.tanh(x);
    case "sigmoid":
      return tf.sigmoid(x);
    case "relu":
      return tf.relu(x);
    case "elu":
      return tf.elu(x);
    case "leaky-relu":
      return tf.leakyRelu(x, layer.alpha ?? 0.01);
  }
}

/**
 * Forward pass. With `logits`, the last layer's activation is skipped, so a sigmoid
 * output can feed a loss computed from logits.
 */
export function forward(net: Mlp, x: Tensor, { logits = false } = {}): Tensor {
  let h = x;
  net.layers.forEach((p, i) => {
    const pre = tf.add(tf.matMul(h, p.W), p.b);
    h = logits && i === net.layers.length - 1 ? pre : activate(pre, p.layer);
  });
  return h;
}
