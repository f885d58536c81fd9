/**
 * The experiment config as data. Every object is strict (unknown keys are errors), every
 * number has its allowed range, and the inferred TypeScript type is what the runner sees.
 */
import { z } from "zod";

const positive = () => z.number().positive();
const count = () => z.int().min(1);

export const Activation = z.enum(["linear", "tanh", "sigmoid", "relu", "elu", "leaky-relu"]);

export const DenseLayer = z.strictObject({
  type: z.literal("dense"),
  units: count(),
  activation: Activation,
  /** Negative slope, only for `leaky-relu`. */
  alpha: z.number().min(0).max(1).optional(),
});

export const Init = z.discriminatedUnion("kind", [
  /** PyTorch's nn.Linear default: W and b ~ U(±1/√fan_in). */
  z.strictObject({ kind: z.literal("fan-in-uniform") }),
  /** pylearn2's `irange`: W ~ U(±irange), b = bias. */
  z.strictObject({ kind: z.literal("uniform"), irange: positive(), bias: z.number().default(0) }),
]);

export const DiscriminatorInput = z.discriminatedUnion("kind", [
  /** D sees each example: input rows = batch rows. */
  z.strictObject({ kind: z.literal("identity") }),
  /** D sees one row per batch: mean, population std, skew, excess kurtosis ("GANs in 50 lines"). */
  z.strictObject({ kind: z.literal("moments") }),
  /** D sees one row per batch: the samples, then (x − batch mean)^exponent, mean held constant. */
  z.strictObject({ kind: z.literal("data-and-diffs"), exponent: positive() }),
]);

export const Generator = z.strictObject({
  layers: z.array(DenseLayer).min(1),
  init: Init,
});

export const Discriminator = z.strictObject({
  input: DiscriminatorInput,
  layers: z.array(DenseLayer).min(1),
  init: Init,
});

export const Data = z.discriminatedUnion("kind", [
  z.strictObject({ kind: z.literal("gaussian"), mean: z.number(), std: positive() }),
]);

export const Noise = z.discriminatedUnion("kind", [
  z.strictObject({
    kind: z.literal("uniform"),
    dim: count(),
    low: z.number(),
    high: z.number(),
  }).refine((n) => n.high > n.low, { message: "high must be greater than low", path: ["high"] }),
  z.strictObject({ kind: z.literal("normal"), dim: count(), std: positive().default(1) }),
]);

export const Optimizer = z.discriminatedUnion("kind", [
  /** PyTorch's SGD: v ← μ·v + g; θ ← θ − lr·v. */
  z.strictObject({ kind: z.literal("sgd"), lr: positive(), momentum: z.number().min(0).lt(1) }),
  /** PyTorch's Adam (ε added to √v̂, bias-corrected moments). */
  z.strictObject({
    kind: z.literal("adam"),
    lr: positive(),
    beta1: z.number().min(0).lt(1),
    beta2: z.number().min(0).lt(1),
    epsilon: positive().default(1e-8),
  }),
]);

export const Training = z.strictObject({
  /** Algorithm 1: per iteration, dSteps discriminator updates, then gSteps generator updates. */
  update: z.literal("alternating"),
  objective: z.enum(["non-saturating", "minimax"]),
  dSteps: count(),
  gSteps: count(),
  batchSize: count(),
  iterations: count(),
  /** "sum": BCE(real) + BCE(fake) (two backward passes, as in PyTorch examples); "mean": half that. */
  dLoss: z.enum(["sum", "mean"]),
  optimizers: z.strictObject({ generator: Optimizer, discriminator: Optimizer }),
  logEvery: count(),
});

export const GaussianMetrics = z.strictObject({
  kind: z.literal("gaussian-1d"),
  samples: count(),
  histogram: z.strictObject({ bins: count(), low: z.number(), high: z.number() })
    .refine((h) => h.high > h.low, { message: "high must be greater than low", path: ["high"] }),
});

export const Metrics = z.discriminatedUnion("kind", [GaussianMetrics]);

export const ExperimentConfig = z.strictObject({
  description: z.string().min(1),
  /** Where the numbers come from (paper section, reference code and commit). */
  source: z.string().min(1),
  data: Data,
  noise: Noise,
  generator: Generator,
  discriminator: Discriminator,
  training: Training,
  metrics: Metrics,
  /** Named override sets, e.g. {"smoke": {"training.iterations": 200}}; applied like --set. */
  profiles: z.record(z.string().regex(/^[a-z][a-z0-9-]*$/), z.record(z.string(), z.unknown()))
    .default({}),
});

export type ExperimentConfig = z.infer<typeof ExperimentConfig>;
export type DenseLayerConfig = z.infer<typeof DenseLayer>;
export type InitConfig = z.infer<typeof Init>;
export type NoiseConfig = z.infer<typeof Noise>;
export type OptimizerConfig = z.infer<typeof Optimizer>;
export type DiscriminatorInputConfig = z.infer<typeof DiscriminatorInput>;
