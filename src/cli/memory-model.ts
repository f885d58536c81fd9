/**
 * How much memory a run needs, from its config alone (no TF.js): the parameters and
 * optimiser slots of G and D, the training step's gradients and activations at the batch
 * size, the data set in memory, the evaluation's sample buffers, and the runtime itself.
 * Used by --list, by --jobs' scheduler and by the pre-flight check that refuses a run that
 * cannot fit (ResourceError, exit 2). Deliberately simple: measured peak RSS of every
 * shipped config's smoke run (deno task memory-model) is checked against it in
 * test/memory_model_test.ts.
 */
import type { ResolvedConfig } from "../config/load.ts";
import { dataDim } from "../data/dims.ts";
import { labelClasses } from "../data/labels.ts";
import { modelShapes, type NetworkShapes } from "../models/shapes.ts";

/** The config a run trains with (profile and overrides applied). */
type ExperimentConfig = ResolvedConfig["config"];

const GB = 1024 ** 3;
const FLOAT = 4;

/**
 * Deno, TF.js and the wasm backend before any tensor (a fresh process): the largest peak of
 * the runs whose tensors are negligible (the 1-D and 2-D toys) in
 * benchmarks/results/memory-model.json, rounded up.
 */
const RUNTIME_BYTES = 0.4 * GB;
/**
 * Bytes the step holds per parameter beyond weights and slots: the gradient and TF.js's
 * intermediate copies (the wasm heap keeps its high-water mark). Calibrated on the smoke runs
 * of benchmarks/results/memory-model.json, the CIFAR-10 models' (77M and 127M weights) among
 * them since pylearn2 momentum's step runs in place on wasm+openblas.
 */
const STEP_COPIES = 4;
/** Live copies of each activation in one step: value, pre-activation, its gradient. */
const ACTIVATION_COPIES = 3;

/**
 * Each data set read from files: examples in memory (train + valid + test), and bytes held
 * per data value (the raw uint8 file and float32 copies: scaled, split, the evaluation's
 * reference sets). MNIST's and CIFAR-10's are calibrated on their smoke runs in
 * benchmarks/results/memory-model.json (rounded up); TFD's, whose data are not on the
 * machine that measured, on the peaks its configs record (`cost.memoryGB`).
 */
const DATA_SETS: Record<string, { examples: number; bytesPerValue: number }> = {
  mnist: { examples: 70_000, bytesPerValue: 12 },
  "fashion-mnist": { examples: 70_000, bytesPerValue: 12 },
  cifar10: { examples: 60_000, bytesPerValue: 6 },
  tfd: { examples: 102_236, bytesPerValue: 24 },
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

/** Parameters and values per example (summed over the layers) of one network. */
function networkSizes(net: NetworkShapes): { params: number; activations: number } {
  return { params: net.params, activations: net.layers.reduce((n, l) => n + l.values, 0) };
}

const slots = (kind: string) => (kind === "adam" ? 2 : 1);

export function estimateMemory(config: ExperimentConfig): MemoryEstimate {
  const data = {
    dim: dataDim(config.data.kind),
    ...(DATA_SETS[config.data.kind] ?? { examples: 0, bytesPerValue: 0 }),
  };
  const t = config.training;
  const dRows = config.discriminator.input.kind === "identity" ? t.batchSize : 1;
  const shapes = modelShapes({ file: "the config", config });
  const g = networkSizes(shapes.G), d = networkSizes(shapes.D);
  const gSlots = slots(t.optimizers.generator.kind),
    dSlots = slots(t.optimizers.discriminator.kind);
  const m = config.metrics;
  const evalSamples = m.kind === "image-stats"
    ? Math.max(
      m.samples,
      m.parzen?.samples ?? 0,
      m.classifier?.samples ?? 0,
      m.nearestTraining?.samples ?? 0,
      // class coverage: perClass samples for each class
      m.classCoverage ? m.classCoverage.perClass * labelClasses(config.data.kind) : 0,
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
      bytes: data.bytesPerValue * data.examples * data.dim,
    },
    {
      what: `evaluation buffers (${formatCount(evalSamples)} samples)`,
      // the samples and a copy, and G's activations for the 1,000 it makes at a time
      // (src/train/evaluate.ts)
      bytes: FLOAT * (evalSamples * 2 * data.dim + Math.min(evalSamples, 1000) * g.activations),
    },
    { what: "the runtime (Deno, TF.js, wasm)", bytes: RUNTIME_BYTES },
    ...unrollItems(t.unroll?.steps ?? 0, t.batchSize + dRows, d, dSlots),
  ].sort((a, b) => b.bytes - a.bytes);
  const total = items.reduce((n, i) => n + i.bytes, 0);
  return { totalGB: total / GB, items };
}

/**
 * Unrolled GAN (src/train/unroll.ts): G's tape holds each of the K unrolled D steps until G's
 * gradient is taken: D's forward and backward pass on the real and generated rows (the
 * backward's own saved tensors doubling the activations) and the step's new parameters,
 * optimiser state and gradients.
 */
function unrollItems(
  steps: number,
  rows: number,
  d: { params: number; activations: number },
  dSlots: number,
): MemoryItem[] {
  if (steps === 0) return [];
  return [{
    what: `the ${steps} unrolled D steps on G's tape`,
    bytes: FLOAT * steps *
      (2 * ACTIVATION_COPIES * rows * d.activations + (1 + dSlots + STEP_COPIES) * d.params),
  }];
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
