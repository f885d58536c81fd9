/**
 * Networks as plain data: a list of layers, each with named parameters and a pure apply
 * function. Layer types cover the 2014 paper's models (dense, maxout, convolutional maxout
 * with cuda-convnet pooling, transposed convolution) and the later MLP tutorials.
 * Initial values come from the project's seeded streams, never from TF.js initialisers.
 *
 * Per-example shapes: [d] for vectors, [h, w, c] (NHWC) for images. Image data enter and
 * leave networks as channel-planar vectors (CHW), the protocol's layout; a `reshape` layer
 * turns a vector into an image, and a network whose output is an image returns it planar.
 */
import { type Tensor, tf, type Variable } from "../backend/tf.ts";
import type { InitConfig, LayerConfig } from "../config/schema.ts";
import type { Rng } from "../rng/streams.ts";
import { batchNormInference, batchNormTraining, updateMovingAverages } from "./batch-norm.ts";
import { ModelShapeError } from "./shape-error.ts";
import { conv2dPadded, conv2dTransposeValid, dense, maxout, maxPoolConvnet } from "./ops.ts";
import { layerShape, type Shape } from "./shapes.ts";

export type { Shape };

export interface Param {
  /** Stable name used in checkpoints and fingerprints, e.g. "G/h0/W". */
  name: string;
  variable: Variable;
  /** Weight matrices of dense and maxout layers take pylearn2's max column norm. */
  colNorm: boolean;
}

export interface Layer {
  config: LayerConfig;
  inShape: Shape;
  outShape: Shape;
  params: Param[];
  /**
   * What the layer keeps besides its parameters, trained by no optimiser but part of the
   * training state (checkpointed, fingerprinted): batch normalisation's moving averages.
   * Absent: none.
   */
  state?: Param[];
  /**
   * x [B, ...inShape] → [B, ...outShape]; `logits` skips a final sigmoid. `params`, when
   * given, stand in for the layer's own variables (same order and shapes as `params`).
   * `training`: a training step's forward pass (batch normalisation uses the batch's
   * statistics and moves its averages); otherwise a sample's or a score's.
   */
  apply(x: Tensor, logits: boolean, params?: Tensor[], training?: boolean): Tensor;
}

export interface Network {
  name: string;
  /** Per-example input shape as the network receives it (flat). */
  inputDim: number;
  layers: Layer[];
  /** Per-example output shape (after flattening an image output). */
  outputDim: number;
}

export interface BuildOptions {
  /** Initial bias for layers whose config says `"bias": "marginals"` (the data's logit means). */
  marginalBias?: Float32Array;
}

const prod = (s: Shape) => s.reduce((a, b) => a * b, 1);

/** Draws the initial values of a weight tensor and its bias. */
function initValues(
  rng: Rng,
  stream: string,
  fanIn: number,
  weightCount: number,
  biasCount: number,
  init: InitConfig,
  columns: number,
  lastAxis = columns,
): { W: Float32Array; b: Float32Array } {
  const draw = rng.stream(stream).at(0);
  switch (init.kind) {
    case "fan-in-uniform": {
      const bound = 1 / Math.sqrt(fanIn);
      return {
        W: draw.uniform(weightCount, -bound, bound),
        b: draw.uniform(biasCount, -bound, bound),
      };
    }
    case "uniform":
      return {
        W: draw.uniform(weightCount, -init.irange, init.irange),
        b: new Float32Array(biasCount),
      };
    case "normal":
      return { W: draw.normal(weightCount, 0, init.std), b: new Float32Array(biasCount) };
    case "sparse": {
      // pylearn2's sparse_init: each unit (column) gets `count` distinct nonzero inputs ~ N(0, std²)
      const W = new Float32Array(weightCount);
      for (let col = 0; col < columns; col++) {
        const chosen = new Set<number>();
        while (chosen.size < Math.min(init.count, fanIn)) chosen.add(draw.nextBelow(fanIn));
        const values = draw.normal(chosen.size, 0, init.std);
        [...chosen].forEach((row, k) => (W[row * columns + col] = values[k]));
      }
      return { W, b: new Float32Array(biasCount) };
    }
    case "orthogonal":
      return {
        W: orthogonal(draw.normal(weightCount, 0, 1), lastAxis, init.gain),
        b: new Float32Array(biasCount),
      };
  }
}

/**
 * `gain` × the Q of a QR decomposition of the Gaussian matrix `normal` ([rows, cols] row-major,
 * cols = `cols`), with Q's columns signed by R's diagonal so that Q is uniformly (Haar)
 * distributed; a wide matrix is decomposed transposed, so its rows are the orthonormal ones.
 */
function orthogonal(normal: Float32Array, cols: number, gain: number): Float32Array {
  const rows = normal.length / cols;
  return tf.tidy(() => {
    const a = tf.tensor2d(normal, [rows, cols]);
    const tall = rows >= cols;
    const [q, r] = tf.linalg.qr(tall ? a : tf.transpose(a));
    const signs = tf.sign(tf.sum(tf.mul(r, tf.eye(r.shape[0])), 0));
    const signed = tf.mul(q, signs);
    return new Float32Array(tf.mul(tall ? signed : tf.transpose(signed), gain).dataSync());
  });
}

function activation(x: Tensor, name: string, alpha: number | undefined): Tensor {
  switch (name) {
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
      return tf.leakyRelu(x, alpha ?? 0.01);
    default:
      throw new Error(`unknown activation ${name}`);
  }
}

/** A layer's two parameters; only weight matrices take the max column norm. */
function weightAndBias(prefix: string, W: Variable, b: Variable, colNorm: boolean): Param[] {
  return [
    { name: `${prefix}/W`, variable: W, colNorm },
    { name: `${prefix}/b`, variable: b, colNorm: false },
  ];
}

function variable(values: Float32Array, shape: Shape): Variable {
  // tidy: a variable takes its own reference, so the initial tensor must be released
  return tf.tidy(() => tf.variable(tf.tensor(values, shape)));
}

export function buildNetwork(
  rng: Rng,
  name: string,
  inputDim: number,
  configs: LayerConfig[],
  defaultInit: InitConfig,
  options: BuildOptions = {},
): Network {
  let shape: Shape = [inputDim];
  const layers: Layer[] = configs.map((config, i) => {
    const prefix = `${name}/h${i}`;
    const init = ("init" in config && config.init) || defaultInit;
    const layer = buildLayer(rng, prefix, shape, config, init, options);
    shape = layer.outShape;
    return layer;
  });
  return { name, inputDim, layers, outputDim: prod(shape) };
}

function biasValues(
  config: LayerConfig,
  drawn: Float32Array,
  options: BuildOptions,
  prefix: string,
) {
  if (!("bias" in config) || config.bias === undefined) return drawn;
  if (config.bias === "marginals") {
    if (!options.marginalBias || options.marginalBias.length !== drawn.length) {
      throw new ModelShapeError(
        prefix,
        `"bias": "marginals" needs the data's ${drawn.length} pixel means` +
          (options.marginalBias ? `; the data have ${options.marginalBias.length} pixels` : ""),
      );
    }
    return options.marginalBias;
  }
  return new Float32Array(drawn.length).fill(config.bias);
}

function buildLayer(
  rng: Rng,
  prefix: string,
  inShape: Shape,
  config: LayerConfig,
  init: InitConfig,
  options: BuildOptions,
): Layer {
  const flat = (x: Tensor) => (x.shape.length === 2 ? x : tf.reshape(x, [x.shape[0], -1]));
  // the shapes, checked (a layer that does not fit its input is refused here)
  const { outShape } = layerShape(prefix, inShape, config);
  switch (config.type) {
    case "dense":
    case "maxout": {
      if (config.type === "dense" && config.batchNorm) {
        return batchNormDense(rng, prefix, inShape, outShape, config, init);
      }
      const fanIn = prod(inShape);
      const pieces = config.type === "maxout" ? config.pieces : 1;
      const columns = config.units * pieces;
      const v = initValues(rng, `${prefix}/init`, fanIn, fanIn * columns, columns, init, columns);
      const W = variable(v.W, [fanIn, columns]);
      const b = variable(biasValues(config, v.b, options, prefix), [columns]);
      return {
        config,
        inShape,
        outShape,
        params: weightAndBias(prefix, W, b, true),
        apply(x, logits, params) {
          const [w, bias] = params ?? [W, b];
          const z = dense(flat(x), w, bias);
          if (config.type === "maxout") return maxout(z, pieces);
          return logits && config.activation === "sigmoid"
            ? z
            : activation(z, config.activation, config.alpha);
        },
      };
    }
    case "branches": {
      // each branch a layer of its own on its slice of the input, outputs side by side
      let offset = 0;
      const parts = config.branches.map((b, k) => {
        const part = buildLayer(
          rng,
          `${prefix}/branch${k}`,
          [b.inputs],
          b.layer,
          b.layer.init ?? init,
          options,
        );
        const from = offset;
        offset += b.inputs;
        return { part, from, inputs: b.inputs };
      });
      return {
        config,
        inShape,
        outShape,
        params: parts.flatMap(({ part }) => part.params),
        apply: (x) =>
          tf.concat(
            parts.map(({ part, from, inputs }) =>
              part.apply(tf.slice(flat(x), [0, from], [-1, inputs]), false)
            ),
            1,
          ),
      };
    }
    case "conv-maxout": {
      const cin = inShape[2];
      const { channels, pieces, kernel, pad, pool, poolStride } = config;
      const cout = channels * pieces;
      const v = initValues(
        rng,
        `${prefix}/init`,
        kernel * kernel * cin,
        kernel * kernel * cin * cout,
        cout,
        init,
        cout,
      );
      const W = variable(v.W, [kernel, kernel, cin, cout]);
      const b = variable(v.b, [cout]); // tied: one bias per output channel
      return {
        config,
        inShape,
        outShape,
        params: weightAndBias(prefix, W, b, false),
        apply(x, _logits, params) {
          const [w, bias] = params ?? [W, b];
          const z = tf.add(conv2dPadded(x, w, pad), bias);
          return maxPoolConvnet(maxout(z, pieces), pool, poolStride);
        },
      };
    }
    case "reshape": {
      const [c, h, w] = config.shape;
      return {
        config,
        inShape,
        outShape,
        params: [],
        // planar CHW vector → NHWC image
        apply: (x) => tf.transpose(tf.reshape(x, [x.shape[0], c, h, w]), [0, 2, 3, 1]),
      };
    }
    case "deconv": {
      const cin = inShape[2];
      const { channels, kernel, stride } = config;
      const [oh, ow] = outShape;
      const biasCount = config.untiedBias ? oh * ow * channels : channels;
      const v = initValues(
        rng,
        `${prefix}/init`,
        kernel * kernel * cin,
        kernel * kernel * channels * cin,
        biasCount,
        init,
        channels,
        cin,
      );
      const W = variable(v.W, [kernel, kernel, channels, cin]);
      const b = variable(v.b, config.untiedBias ? [oh, ow, channels] : [channels]);
      return {
        config,
        inShape,
        outShape,
        params: weightAndBias(prefix, W, b, false),
        apply(x, logits, params) {
          const [w, bias] = params ?? [W, b];
          const z = tf.add(conv2dTransposeValid(x, w, stride), bias);
          return logits && config.activation === "sigmoid"
            ? z
            : activation(z, config.activation, undefined);
        },
      };
    }
  }
}

/**
 * A dense layer with batch normalisation between its product and its activation
 * (./batch-norm.ts): parameters W, γ (ones) and β (zeros), no bias; state: the moving mean
 * (zeros) and standard deviation (ones). W is drawn as a plain dense layer's (the same
 * stream and values; a drawn bias is dropped).
 */
function batchNormDense(
  rng: Rng,
  prefix: string,
  inShape: Shape,
  outShape: Shape,
  config: Extract<LayerConfig, { type: "dense" }>,
  init: InitConfig,
): Layer {
  const bn = config.batchNorm!;
  const fanIn = prod(inShape), units = config.units;
  const v = initValues(rng, `${prefix}/init`, fanIn, fanIn * units, units, init, units);
  const W = variable(v.W, [fanIn, units]);
  const gamma = variable(new Float32Array(units).fill(1), [units]);
  const beta = variable(new Float32Array(units), [units]);
  const averages = {
    mean: tf.tidy(() => tf.variable(tf.zeros([units]), false)),
    stdev: tf.tidy(() => tf.variable(tf.ones([units]), false)),
  };
  return {
    config,
    inShape,
    outShape,
    params: [
      { name: `${prefix}/W`, variable: W, colNorm: true },
      { name: `${prefix}/gamma`, variable: gamma, colNorm: false },
      { name: `${prefix}/beta`, variable: beta, colNorm: false },
    ],
    state: [
      { name: `${prefix}/movingMean`, variable: averages.mean, colNorm: false },
      { name: `${prefix}/movingStdev`, variable: averages.stdev, colNorm: false },
    ],
    apply(x, logits, params, training) {
      const [w, g, b] = params ?? [W, gamma, beta];
      const h = tf.matMul(x.shape.length === 2 ? x : tf.reshape(x, [x.shape[0], -1]), w);
      let y: Tensor;
      if (training) {
        const batch = batchNormTraining(h, g, b, bn.epsilon);
        updateMovingAverages(averages, batch, bn.rate);
        y = batch.y;
      } else {
        y = batchNormInference(h, g, b, averages.mean, averages.stdev);
      }
      return logits && config.activation === "sigmoid"
        ? y
        : activation(y, config.activation, config.alpha);
    },
  };
}

/**
 * Forward pass. `masks[i]`, when given, multiplies layer i's input (inverted dropout: the
 * mask already holds 0 or 1/keep). With `logits`, a final sigmoid is skipped. With `params`
 * (one tensor per networkParams entry, in its order), the network is evaluated at those
 * values instead of its variables: unrolled D steps differentiate through them
 * (src/train/unroll.ts).
 */
export function forward(
  net: Network,
  x: Tensor,
  { logits = false, masks, layers = net.layers.length, params, training = false }: {
    logits?: boolean;
    /**
     * A training step's pass: batch-normalised layers normalise by this batch and move their
     * averages (each such pass moves them once). Otherwise (samples, scores) they use the
     * averages, and a row's output does not depend on the rows beside it.
     */
    training?: boolean;
    masks?: (Tensor | null)[];
    /** Stop after this many layers (e.g. a classifier's penultimate features). */
    layers?: number;
    params?: Tensor[];
  } = {},
): Tensor {
  if (params && params.length !== parameterTensorCount(net)) {
    throw new Error(
      `${net.name} has ${parameterTensorCount(net)} parameter tensors, given ${params.length}`,
    );
  }
  let h = x;
  let offset = 0;
  net.layers.slice(0, layers).forEach((layer, i) => {
    const mask = masks?.[i];
    const own = params?.slice(offset, offset + layer.params.length);
    offset += layer.params.length;
    // a layer's intermediates, and the layer before's output, freed once it is done: a tape
    // keeps what its backward pass needs (saved copies on the same memory)
    const out = tf.tidy(() =>
      layer.apply(mask ? tf.mul(h, mask) : h, logits && i === net.layers.length - 1, own, training)
    );
    if (h !== x && h !== out) h.dispose();
    h = out;
  });
  if (h.shape.length === 4) h = tf.reshape(tf.transpose(h, [0, 3, 1, 2]), [h.shape[0], -1]); // NHWC → planar
  return h;
}

export function networkParams(net: Network): Param[] {
  return net.layers.flatMap((l) => l.params);
}

/** The tensors a network keeps besides its parameters (batch normalisation's averages). */
export function networkState(net: Network): Param[] {
  return net.layers.flatMap((l) => l.state ?? []);
}

/** Parameters, then state: every tensor a checkpoint of the network holds. */
export function networkTensors(net: Network): [string, Variable][] {
  return [...networkParams(net), ...networkState(net)].map((p) => [p.name, p.variable]);
}

/** How many parameter tensors (weights and biases) the network has. */
function parameterTensorCount(net: Network): number {
  return net.layers.reduce((n, l) => n + l.params.length, 0);
}

export function parameterCount(net: Network): number {
  return networkParams(net).reduce((n, p) => n + p.variable.size, 0);
}

export function disposeNetwork(net: Network): void {
  for (const p of [...networkParams(net), ...networkState(net)]) p.variable.dispose();
}

/** pylearn2's max_col_norm: rescale each weight column whose L2 norm exceeds `max`. */
export function applyMaxColNorm(net: Network, max: number): void {
  tf.tidy(() => {
    for (const p of networkParams(net)) {
      if (!p.colNorm) continue;
      const norms = tf.sqrt(tf.sum(tf.square(p.variable), 0));
      const scale = tf.div(tf.clipByValue(norms, 0, max), tf.add(norms, 1e-7));
      p.variable.assign(tf.mul(p.variable, scale));
    }
  });
}
