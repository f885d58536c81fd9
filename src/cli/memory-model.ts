/**
 * How much memory a run needs, from its config alone (no TF.js): the parameters and
 * optimiser slots of G and D, the training step's gradients and activations at the batch
 * size, the data set in memory, the evaluation's sample buffers, and the runtime itself.
 * Used by --list, by --jobs' scheduler and by the pre-flight check that refuses a run that
 * cannot fit (ResourceError, exit 2). Deliberately simple: its tolerance against measured
 * peak RSS is tested on every shipped config (test/hardening_test.ts).
 */
import type { ResolvedConfig } from "../config/load.ts";
import type { LayerConfig } from "../config/schema.ts";

/** The config a run trains with (profile and overrides applied). */
type ExperimentConfig = ResolvedConfig["config"];

const GB = 1024 ** 3;
const FLOAT = 4;

/** Deno, TF.js and the wasm backend before any tensor (a fresh process). */
const RUNTIME_BYTES = 0.35 * GB;
/**
 * Bytes the autodiff step holds per parameter beyond weights and slots: the gradient and
 * TF.js's intermediate copies (the wasm heap keeps its high-water mark).
 */
const STEP_COPIES = 6;
/** Live copies of each activation in one step: value, pre-activation, its gradient. */
const ACTIVATION_COPIES = 3;
/**
 * Bytes per data value held: the raw uint8 file and float32 copies (scaled, split, the
 * evaluation's reference sets): calibrated on the smoke runs' measured peaks.
 */
const DATA_BYTES_PER_VALUE = 24;

/** Values per example and examples in memory for each data set (train + valid + test). */
const DATA_SETS: Record<string, { dim: number; examples: number }> = {
  gaussian: { dim: 1, examples: 0 },
  mnist: { dim: 784, examples: 70_000 },
  "fashion-mnist": { dim: 784, examples: 70_000 },
  cifar10: { dim: 3072, examples: 60_000 },
  tfd: { dim: 2304, examples: 102_236 },
};

/** A resource need that cannot be met: the run is refused before it starts. */
export class ResourceError extends Error {
  override name = "ResourceError";
}

export interface MemoryItem {
  what: string;
  bytes: number;
}

export interface MemoryEstimate {
  totalGB: number;
  /** Largest first. */
  items: MemoryItem[];
}

type Shape = number[];

/** Parameters and output values per example of each layer, from the input shape on. */
function layerSizes(
  inputDim: number,
  layers: LayerConfig[],
): { params: number; activations: number } {
  let shape: Shape = [inputDim];
  let params = 0, activations = 0;
  const size = (s: Shape) => s.reduce((a, b) => a * b, 1);
  for (const layer of layers) {
    const inSize = size(shape);
    switch (layer.type) {
      case "dense":
        params += inSize * layer.units + layer.units;
        activations += layer.units;
        shape = [layer.units];
        break;
      case "maxout":
        params += (inSize + 1) * layer.units * layer.pieces;
        activations += layer.units * layer.pieces;
        shape = [layer.units];
        break;
      case "conv-maxout": {
        const [h, w, c] = shape.length === 3 ? shape : [1, 1, inSize];
        const out = layer.channels * layer.pieces;
        params += layer.kernel * layer.kernel * c * out + out;
        const dh = Math.max(1, h + 2 * layer.pad - layer.kernel + 1);
        const dw = Math.max(1, w + 2 * layer.pad - layer.kernel + 1);
        activations += dh * dw * out;
        const pooled = (n: number) =>
          Math.max(1, Math.ceil((n - layer.pool) / layer.poolStride) + 1);
        shape = [pooled(dh), pooled(dw), layer.channels];
        break;
      }
      case "reshape":
        shape = [layer.shape[1], layer.shape[2], layer.shape[0]];
        break;
      case "deconv": {
        const [h, w, c] = shape.length === 3 ? shape : [1, 1, inSize];
        const oh = (h - 1) * layer.stride + layer.kernel;
        const ow = (w - 1) * layer.stride + layer.kernel;
        params += layer.kernel * layer.kernel * layer.channels * c +
          (layer.untiedBias ? oh * ow * layer.channels : layer.channels);
        activations += oh * ow * layer.channels;
        shape = [oh, ow, layer.channels];
        break;
      }
    }
  }
  return { params, activations };
}

const slots = (kind: string) => (kind === "adam" ? 2 : 1);

export function estimateMemory(config: ExperimentConfig): MemoryEstimate {
  const data = DATA_SETS[config.data.kind] ?? { dim: 1, examples: 0 };
  const t = config.training;
  const dInput = config.discriminator.input;
  const dDim = dInput.kind === "identity"
    ? data.dim
    : dInput.kind === "moments"
    ? 4
    : 2 * t.batchSize * data.dim;
  const dRows = dInput.kind === "identity" ? t.batchSize : 1;
  const g = layerSizes(config.noise.dim, config.generator.layers);
  const d = layerSizes(dDim, config.discriminator.layers);
  const gSlots = slots(t.optimizers.generator.kind),
    dSlots = slots(t.optimizers.discriminator.kind);
  const m = config.metrics;
  const evalSamples = m.kind === "image-stats"
    ? Math.max(
      m.samples,
      m.parzen?.samples ?? 0,
      m.classifier?.samples ?? 0,
      m.nearestTraining?.samples ?? 0,
    )
    : m.samples;
  const items: MemoryItem[] = [
    {
      what: `parameters and optimiser slots (${formatCount(g.params + d.params)} weights)`,
      bytes: FLOAT * (g.params * (1 + gSlots) + d.params * (1 + dSlots)),
    },
    {
      what: "gradients and the training step's copies",
      bytes: FLOAT * STEP_COPIES * (g.params + d.params),
    },
    {
      what: `activations at batch size ${t.batchSize}`,
      bytes: FLOAT * ACTIVATION_COPIES *
        (t.batchSize * (g.activations + d.activations) + dRows * d.activations),
    },
    {
      what: `the ${config.data.kind} data (${formatCount(data.examples)} examples)`,
      bytes: DATA_BYTES_PER_VALUE * data.examples * data.dim,
    },
    {
      what: `evaluation buffers (${formatCount(evalSamples)} samples)`,
      // the samples and a copy, and G's activations for the 1,000 it makes at a time
      // (src/train/evaluate.ts)
      bytes: FLOAT * (evalSamples * 2 * data.dim + Math.min(evalSamples, 1000) * g.activations),
    },
    { what: "the runtime (Deno, TF.js, wasm)", bytes: RUNTIME_BYTES },
  ].sort((a, b) => b.bytes - a.bytes);
  const total = items.reduce((n, i) => n + i.bytes, 0);
  return { totalGB: total / GB, items };
}

/** Refuses a run whose estimate exceeds `limitGB`, naming the estimate and its biggest items. */
export function checkMemory(
  experiment: string,
  config: ExperimentConfig,
  limitGB: number,
  limitSource: string,
): void {
  const e = estimateMemory(config);
  if (e.totalGB <= limitGB) return;
  const biggest = e.items.slice(0, 2).map((i) => `${i.what} ${formatGB(i.bytes / GB)}`);
  throw new ResourceError(
    `${experiment} needs about ${formatGB(e.totalGB)} of memory, more than the ` +
      `${formatGB(limitGB)} ${limitSource}; biggest: ${biggest.join(", ")}`,
  );
}

export function formatGB(gb: number): string {
  return gb >= 100 ? `${gb.toExponential(2)} GB` : `${Number(gb.toPrecision(2))} GB`;
}

function formatCount(n: number): string {
  if (n >= 1e9) return `${Number((n / 1e9).toPrecision(3))}G`;
  return n >= 1e6 ? `${Number((n / 1e6).toPrecision(3))}M` : n.toLocaleString("en-US");
}
