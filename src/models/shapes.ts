/**
 * The shape table of a run's two networks, from the config alone (no TF.js, no data read):
 * each layer's output shape and parameter count, from G's noise and D's input on. It is
 * what bench checks before anything is written (a layer that does not fit its input, a
 * generator whose output is not the data's size), what --dry-run prints, what the memory
 * model counts, and what buildNetwork builds.
 *
 * Per-example shapes: [d] for vectors, [h, w, c] (NHWC) for images.
 */
import { ConfigError } from "../config/errors.ts";
import type { ResolvedConfig } from "../config/load.ts";
import type { DiscriminatorInputConfig, LayerConfig } from "../config/schema.ts";
import { dataDim } from "../data/dims.ts";
import { conditionWidth } from "../data/labels.ts";
import { layerPath, ModelShapeError } from "./shape-error.ts";

export type Shape = number[];

export interface LayerShape {
  /** `G/h0`: also the prefix of its parameters' names. */
  name: string;
  type: LayerConfig["type"];
  inShape: Shape;
  outShape: Shape;
  /** Weights and biases (a batch-normalised layer's γ and β in place of its bias). */
  params: number;
  /** Values per example it computes before maxout and pooling reduce them. */
  values: number;
}

export interface NetworkShapes {
  name: string;
  inputDim: number;
  layers: LayerShape[];
  outputDim: number;
  params: number;
}

export const shapeSize = (s: Shape) => s.reduce((a, b) => a * b, 1);

/** cuda-convnet's pooled size: windows start every `stride` and may run past the edge. */
export function convnetPoolSize(n: number, pool: number, stride: number): number {
  return Math.ceil((n - pool) / stride) + 1;
}

/**
 * Width of D's input row for a batch of `batchSize` examples of `dataDim` numbers, `pack` of
 * them concatenated per row (PacGAN).
 */
export function discriminatorInputDim(
  input: DiscriminatorInputConfig,
  dataDim: number,
  batchSize: number,
  pack = 1,
): number {
  switch (input.kind) {
    case "identity":
      return pack * dataDim;
    case "moments":
      return 4;
    case "data-and-diffs":
      return 2 * batchSize * dataDim;
  }
}

/** One layer's output shape and sizes; throws ModelShapeError when it does not fit `inShape`. */
export function layerShape(name: string, inShape: Shape, config: LayerConfig): LayerShape {
  const shape = (outShape: Shape, params: number, values = shapeSize(outShape)): LayerShape => ({
    name,
    type: config.type,
    inShape,
    outShape,
    params,
    values,
  });
  const image = () => {
    if (inShape.length !== 3) {
      throw new ModelShapeError(
        name,
        `${config.type} needs an image input; add a reshape layer`,
      );
    }
    return inShape;
  };
  switch (config.type) {
    case "dense":
    case "maxout": {
      const pieces = config.type === "maxout" ? config.pieces : 1;
      const columns = config.units * pieces;
      // a batch-normalised dense layer: W, γ and β, no bias
      const perColumn = config.type === "dense" && config.batchNorm ? 2 : 1;
      return shape([config.units], (shapeSize(inShape) + perColumn) * columns, columns);
    }
    case "branches": {
      const width = config.branches.reduce((n, b) => n + b.inputs, 0);
      if (inShape.length !== 1 || width !== inShape[0]) {
        throw new ModelShapeError(
          name,
          `branches take ${width} values (${config.branches.map((b) => b.inputs).join(" + ")})` +
            ` but the input has ${formatShape(inShape)}`,
        );
      }
      const parts = config.branches.map((b, k) =>
        layerShape(`${name}/branch${k}`, [b.inputs], b.layer)
      );
      const sum = (f: (l: LayerShape) => number) => parts.reduce((n, l) => n + f(l), 0);
      return shape([sum((l) => l.outShape[0])], sum((l) => l.params), sum((l) => l.values));
    }
    case "conv-maxout": {
      const [h, w, cin] = image();
      const { channels, pieces, kernel, pad, pool, poolStride } = config;
      const cout = channels * pieces;
      const dh = h + 2 * pad - kernel + 1, dw = w + 2 * pad - kernel + 1;
      if (dh < 1 || dw < 1) {
        throw new ModelShapeError(
          name,
          `a ${kernel}×${kernel} kernel does not fit its ${h}×${w} input padded by ${pad}`,
        );
      }
      if (pool > dh || pool > dw) {
        throw new ModelShapeError(name, `a ${pool}×${pool} pool does not fit its ${dh}×${dw} maps`);
      }
      const out = [convnetPoolSize(dh, pool, poolStride), convnetPoolSize(dw, pool, poolStride)];
      return shape([...out, channels], kernel * kernel * cin * cout + cout, dh * dw * cout);
    }
    case "reshape": {
      const [c, h, w] = config.shape;
      if (c * h * w !== shapeSize(inShape)) {
        throw new ModelShapeError(
          name,
          `cannot reshape ${shapeSize(inShape)} values to ${c}×${h}×${w}`,
        );
      }
      return shape([h, w, c], 0);
    }
    case "deconv": {
      const [h, w, cin] = image();
      const { channels, kernel, stride } = config;
      const oh = (h - 1) * stride + kernel, ow = (w - 1) * stride + kernel;
      const bias = config.untiedBias ? oh * ow * channels : channels;
      return shape([oh, ow, channels], kernel * kernel * channels * cin + bias);
    }
  }
}

/** Every layer's shapes, `name/h0` on; throws ModelShapeError at the first that does not fit. */
export function networkShapes(
  name: string,
  inputDim: number,
  configs: LayerConfig[],
): NetworkShapes {
  let inShape: Shape = [inputDim];
  const layers = configs.map((config, i) => {
    const layer = layerShape(`${name}/h${i}`, inShape, config);
    inShape = layer.outShape;
    return layer;
  });
  const params = layers.reduce((n, l) => n + l.params, 0);
  return { name, inputDim, layers, outputDim: shapeSize(inShape), params };
}

/** Refuses a generator whose output is not one example of the data (a config error). */
export function checkGeneratorOutput(
  resolved: Pick<ResolvedConfig, "file" | "config">,
  outputDim: number,
  dim: number,
): void {
  if (outputDim === dim) return;
  const last = resolved.config.generator.layers.length - 1;
  throw new ConfigError(resolved.file, [{
    path: `$.generator.layers[${last}]`,
    found: `an output of ${outputDim} values per example`,
    allowed: `the data have ${dim}: the last layer must output as many`,
  }], "the generator does not fit the data");
}

/**
 * G's and D's shape tables for a config, checked: a layer that does not fit, or a generator
 * that does not fit the data, is a ConfigError naming the file and the layer's JSON path.
 */
export function modelShapes(
  resolved: Pick<ResolvedConfig, "file" | "config">,
): { G: NetworkShapes; D: NetworkShapes } {
  const { config } = resolved;
  const dim = dataDim(config.data.kind);
  try {
    // a conditional G and D take the label's one-hot vector after their usual input
    const labels = conditionWidth(config);
    const G = networkShapes("G", config.noise.dim + labels, config.generator.layers);
    checkGeneratorOutput(resolved, G.outputDim, dim);
    const dInput = labels + discriminatorInputDim(
      config.discriminator.input,
      dim,
      config.training.batchSize,
      config.training.pack,
    );
    const D = networkShapes("D", dInput, config.discriminator.layers);
    return { G, D };
  } catch (e) {
    if (!(e instanceof ModelShapeError)) throw e;
    throw new ConfigError(resolved.file, [{
      path: layerPath(e.layer),
      found: `that ${e.problem} (${e.layer})`,
      allowed: "each layer must fit the output of the one before it",
    }], "a layer does not fit");
  }
}

/** `784`, `1×28×28` (an image as its config writes it: channels first). */
export function formatShape(s: Shape): string {
  return s.length === 3 ? `${s[2]}×${s[0]}×${s[1]}` : s.join("×");
}

/** The table --dry-run prints: input, then each layer's type, output shape and parameters. */
export function shapeTableLines(net: NetworkShapes): string[] {
  const rows = [
    [`${net.name} input`, formatShape([net.inputDim]), ""],
    ...net.layers.map((l) => [
      `${l.name} ${l.type}`,
      formatShape(l.outShape),
      l.params.toLocaleString("en-US"),
    ]),
    [`${net.name} total`, "", net.params.toLocaleString("en-US")],
  ];
  const widths = [0, 1, 2].map((c) => Math.max(...rows.map((r) => r[c].length)));
  return rows.map(([a, b, c]) =>
    `${a.padEnd(widths[0])}  ${b.padEnd(widths[1])}  ${c.padStart(widths[2])}`.trimEnd()
  );
}
