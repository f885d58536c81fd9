/**
 * The experiment config as data. Every object is strict (unknown keys are errors), every
 * number has its allowed range, and the inferred TypeScript type is what the runner sees.
 */
import { z } from "zod";
import { checkableMetrics } from "./metric-names.ts";
import { BCE_OBJECTIVES, OBJECTIVES } from "./objective-names.ts";

const positive = () => z.number().positive();
const count = () => z.int().min(1);
const probability = () => z.number().gt(0).max(1);

export const Activation = z.enum(["linear", "tanh", "sigmoid", "relu", "elu", "leaky-relu"]);

export const Init = z.discriminatedUnion("kind", [
  /** PyTorch's nn.Linear default: W and b ~ U(±1/√fan_in). */
  z.strictObject({ kind: z.literal("fan-in-uniform") }),
  /** pylearn2's `irange`: W ~ U(±irange), b = 0. */
  z.strictObject({ kind: z.literal("uniform"), irange: positive() }),
  /** W ~ N(0, std²), b = 0. */
  z.strictObject({ kind: z.literal("normal"), std: positive() }),
  /** pylearn2's `sparse_init`: each unit gets `count` nonzero inputs ~ N(0, std²); b = 0. */
  z.strictObject({ kind: z.literal("sparse"), count: count(), std: positive().default(1) }),
  /**
   * Saxe et al.'s orthogonal init (TensorFlow's `orthogonal_initializer`, Unrolled GAN's
   * notebook): W, seen as [all but its last axis, its last axis], is `gain` × a uniformly
   * random matrix with orthonormal columns (or rows, when it is wider than tall); b = 0.
   */
  z.strictObject({ kind: z.literal("orthogonal"), gain: positive().default(1) }),
]);

/** A constant initial bias, or the logit of the training set's per-pixel means. */
const Bias = z.union([z.number(), z.literal("marginals")]).optional();

/**
 * Batch normalisation of a dense layer's pre-activations, before its activation (PacGAN's
 * generator; src/models/batch-norm.ts, docs/mixtures.md §Batch normalisation): minibatch
 * statistics in training, moving averages when sampling. The learned offset β replaces the
 * layer's bias, and a learned scale γ multiplies; `epsilon` is added to the variance inside
 * the square root; `rate` is the weight of each batch in the moving averages.
 */
export const BatchNorm = z.strictObject({
  epsilon: positive(),
  rate: probability(),
});

const DenseLayer = z.strictObject({
  type: z.literal("dense"),
  units: count(),
  activation: Activation,
  /** Negative slope, only for `leaky-relu`. */
  alpha: z.number().min(0).max(1).optional(),
  init: Init.optional(),
  bias: Bias,
  /** Generator layers only (not in branches). Absent: no normalisation. */
  batchNorm: BatchNorm.optional(),
});

/** pylearn2's Maxout: a dense layer of units·pieces outputs, max over contiguous pieces. */
const MaxoutLayer = z.strictObject({
  type: z.literal("maxout"),
  units: count(),
  pieces: count(),
  init: Init.optional(),
  bias: Bias,
});

export const Layer = z.discriminatedUnion("type", [
  DenseLayer,
  MaxoutLayer,
  /**
   * Side-by-side layers on consecutive slices of a vector input (the conditional GAN's
   * separate z and y branches, docs/conditional.md): branch k takes the next `inputs` values;
   * the outputs are concatenated in order.
   */
  z.strictObject({
    type: z.literal("branches"),
    branches: z.array(
      z.strictObject({
        inputs: count(),
        layer: z.discriminatedUnion("type", [DenseLayer, MaxoutLayer]),
      }),
    ).min(2),
  }),
  /** pylearn2's MaxoutConvC01B: stride-1 conv (zero pad), maxout over channel pieces, cuda-convnet max pooling. */
  z.strictObject({
    type: z.literal("conv-maxout"),
    channels: count(),
    pieces: count(),
    kernel: count(),
    pad: z.int().min(0),
    pool: count(),
    poolStride: count(),
    init: Init.optional(),
  }),
  /** A planar (channels, height, width) view of a vector. */
  z.strictObject({
    type: z.literal("reshape"),
    shape: z.tuple([count(), count(), count()]),
  }),
  /** Transposed convolution, valid padding; `untiedBias`: one bias per output pixel and channel. */
  z.strictObject({
    type: z.literal("deconv"),
    channels: count(),
    kernel: count(),
    stride: count(),
    activation: Activation,
    untiedBias: z.boolean(),
    init: Init.optional(),
  }),
]);

export const DiscriminatorInput = z.discriminatedUnion("kind", [
  /** D sees each example: input rows = batch rows. */
  z.strictObject({ kind: z.literal("identity") }),
  /** D sees one row per batch: mean, population std, skew, excess kurtosis ("GANs in 50 lines"). */
  z.strictObject({ kind: z.literal("moments") }),
  /** D sees one row per batch: the samples, then (x − batch mean)^exponent, mean held constant. */
  z.strictObject({ kind: z.literal("data-and-diffs"), exponent: positive() }),
]);

/** Inverted dropout on a layer's input: keep with probability `keep`, multiply kept units by `scale`. */
const DropoutRule = z.strictObject({ keep: probability(), scale: positive() });
/**
 * Dropout on the inputs of the first layer with parameters and of every later one, in
 * training only (src/train/dropout.ts); the same shape for D and G. `input` null or absent:
 * none on the first layer's input.
 */
const Dropout = z.strictObject({
  input: DropoutRule.nullable().optional(),
  hidden: DropoutRule.nullable(),
});

export const Generator = z.strictObject({
  layers: z.array(Layer).min(1),
  init: Init,
  /** pylearn2's max_col_norm on dense/maxout weights after every update (TFD). */
  maxColNorm: positive().optional(),
  /**
   * A stacked stage (TFD): the final generator of `experiment` (same seed and output
   * folder, run first) is loaded into this generator's layers `into`, `into + 1`, ….
   */
  pretrained: z.strictObject({
    // a name, never a path: the stage's run folder is <out>/<experiment>/seed-<N>
    experiment: z.string().regex(
      /^[A-Za-z0-9][A-Za-z0-9_-]*$/,
      "expected the name of a config under configs/ (letters, digits, '_', '-'), not a path",
    ),
    into: z.int().min(0),
  }).optional(),
  /**
   * Inverted dropout on G's layer inputs in training steps (the conditional GAN's "dropout
   * 0.5 in both networks"; docs/conditional.md §2); samples for evaluation, figures and
   * milestones take no masks. Absent or null (`--set generator.dropout=null`, to compare
   * without it): none.
   */
  dropout: Dropout.nullable().optional(),
});

export const Discriminator = z.strictObject({
  input: DiscriminatorInput.default({ kind: "identity" }),
  layers: z.array(Layer).min(1),
  init: Init,
  maxColNorm: positive().optional(),
  dropout: Dropout.optional(),
});

export const Data = z.discriminatedUnion("kind", [
  z.strictObject({ kind: z.literal("gaussian"), mean: z.number(), std: positive() }),
  /** Pixels / 255 into [0, 1] ("unit") or mapped to [−1, 1] ("symmetric"). */
  z.strictObject({ kind: z.literal("mnist"), scale: z.enum(["unit", "symmetric"]) }),
  z.strictObject({ kind: z.literal("fashion-mnist"), scale: z.enum(["unit", "symmetric"]) }),
  /** gcnScale: pylearn2's global contrast normalisation (the paper: 55); null = pixels / 255. */
  z.strictObject({ kind: z.literal("cifar10"), gcnScale: positive().nullable() }),
  z.strictObject({ kind: z.literal("tfd"), fold: z.int().min(0).max(4) }),
  /** 2-D mixture (docs/mixtures.md): `modes` equal Gaussians N(c, std²·I), centres on a circle. */
  z.strictObject({
    kind: z.literal("ring"),
    modes: z.int().min(2),
    radius: positive(),
    std: positive(),
  }),
  /** 2-D mixture: side × side equal Gaussians on a square lattice centred at the origin. */
  z.strictObject({
    kind: z.literal("grid"),
    side: z.int().min(2),
    spacing: positive(),
    std: positive(),
  }),
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
  /**
   * pylearn2's SGD + Momentum as the 2014 code: v ← μ·v − lr·g; θ ← θ + v;
   * lr = max(lr0 / decay^t, minLr) at update t; μ moves linearly from `initial` to `final`
   * between epochs `start` and `saturate` (MomentumAdjustor).
   */
  /** PyTorch's RMSprop (centered false, momentum 0): v ← α·v + (1 − α)·g²; θ ← θ − lr·g / (√v + ε). */
  z.strictObject({
    kind: z.literal("rmsprop"),
    lr: positive(),
    alpha: z.number().min(0).lt(1).default(0.99),
    epsilon: positive().default(1e-8),
  }),
  z.strictObject({
    kind: z.literal("momentum"),
    lr: positive(),
    decay: z.number().min(1),
    minLr: z.number().min(0),
    momentum: z.strictObject({
      initial: z.number().min(0).lt(1),
      final: z.number().min(0).lt(1),
      start: z.int().min(0),
      saturate: z.int().min(0),
    }),
  }),
]);

/** A length of training: iterations, or passes over the training split (src/config/span.ts). */
export const Span = z.strictObject({ iterations: count().optional(), epochs: count().optional() })
  .refine((b) => (b.iterations === undefined) !== (b.epochs === undefined), {
    message: 'give exactly one of "iterations" and "epochs"',
  });

export const Training = z.strictObject({
  /**
   * "alternating": Algorithm 1, dSteps discriminator updates then gSteps generator updates.
   * "simultaneous": the 2014 code, one D and one G update from the same forward pass.
   */
  update: z.enum(["alternating", "simultaneous"]),
  /** The loss pair on D's raw outputs (src/train/objectives.ts, docs/mixtures.md). */
  objective: z.enum(OBJECTIVES),
  /** WGAN only: D's weights are clipped to [−weightClip, weightClip] before each D step. */
  weightClip: positive().optional(),
  /** WGAN-GP only: λ of the gradient penalty λ·E[(‖∇D(x̂)‖ − 1)²]. */
  gradientPenalty: positive().optional(),
  /**
   * PacGAN's packing (Lin et al. 2018): D scores m samples concatenated into one input, all
   * real or all generated, so its batch has batchSize / m rows; G is unchanged. Absent: 1.
   */
  pack: count().optional(),
  /**
   * Unrolled GAN (Metz et al. 2017): G's gradient is taken through `steps` (K) updates of D's
   * optimiser from its current state (src/train/unroll.ts); D's own update is unchanged.
   * Absent: G's ordinary gradient at the current D.
   */
  unroll: z.strictObject({ steps: count() }).optional(),
  dSteps: count(),
  gSteps: count(),
  batchSize: count(),
  /**
   * Iterations, or passes over the training split (reshuffled each epoch, last batch kept).
   * The only field a resumed run may change, and only upwards: no schedule depends on it, so
   * extending a run equals a run started with the larger budget.
   */
  budget: Span,
  /** "sum": BCE(real) + BCE(fake) (two backward passes, as in PyTorch examples); "mean": half that. */
  dLoss: z.enum(["sum", "mean"]),
  optimizers: z.strictObject({ generator: Optimizer, discriminator: Optimizer }),
  logEvery: count(),
  /** Write a resumable checkpoint every this many iterations (and on Ctrl-C). */
  checkpointEvery: count().default(500),
  /** Record a fingerprint (SHA-256 of every weight, optimiser slot and the losses) this often; default logEvery. */
  fingerprintEvery: count().optional(),
  /**
   * Keep a copy of the state at these points besides checkpoints/latest.ckpt
   * (checkpoints/iter-NNNNNNN.ckpt): the generator alone, or everything a resume needs.
   * Any milestone can be scored later with `bench --eval-only --milestone N`.
   */
  milestones: z.strictObject({ every: Span, keep: z.enum(["generator", "state"]) }).nullable()
    .optional(),
}).refine((t) => t.batchSize % (t.pack ?? 1) === 0, {
  message: "packing needs a batch of whole packs: batchSize must be divisible by pack",
  path: ["pack"],
}).refine((t) => t.update === "alternating" || (t.dSteps === 1 && t.gSteps === 1), {
  message:
    "the simultaneous update takes one D and one G step per iteration: set dSteps and gSteps to 1",
  path: ["dSteps"],
});

export const GaussianMetrics = z.strictObject({
  kind: z.literal("gaussian-1d"),
  samples: count(),
  histogram: z.strictObject({ bins: count(), low: z.number(), high: z.number() })
    .refine((h) => h.high > h.low, { message: "high must be greater than low", path: ["high"] }),
  /** Not for 1-D runs: declared only to refuse it with a reason rather than "unknown key". */
  track: z.unknown().optional().refine((t) => t === undefined, {
    message: "tracking scores Parzen and classifier numbers, which 1-D experiments do not have; " +
      "remove metrics.track",
  }),
});

/**
 * Score the generator at fixed points of training with the run's own protocols (the same
 * eval/z samples as the final evaluation, so tracking changes no training number): the
 * Parzen estimate as `metrics.parzen` declares it, the classifier scores of
 * `metrics.classifier` and, with `classifier`, the class coverage of `metrics.classCoverage`,
 * each where it is configured (a profile that drops the classifier drops its tracking too).
 * Recorded in result.json's `tracked` series.
 */
const Tracking = z.strictObject({
  every: Span,
  parzen: z.boolean(),
  classifier: z.boolean(),
}).refine((t) => t.parzen || t.classifier, {
  message: 'track at least one of "parzen" and "classifier"',
  path: ["parzen"],
});

/**
 * Pixel statistics of generated vs. test images, and the paper's Parzen-window estimate
 * (docs/paper-protocol.md §3): `samples` generator samples as kernel centres, σ from
 * logspace(−1, 0, 10) by the mean log-likelihood of the first `validation` images of the
 * validation split (null: all of it), the mean over the whole test split.
 */
export const ImageMetrics = z.strictObject({
  kind: z.literal("image-stats"),
  samples: count(),
  parzen: z.strictObject({
    samples: count(),
    validation: count().nullable(),
    /** Also score the first `samples` training images as centres (a perfect memoriser), cached. */
    trainingSetReference: z.boolean(),
  }).nullable().optional(),
  /**
   * MNIST only: a classifier trained by the harness (cached) scores `samples` generated
   * images: class histogram, entropy, KL to uniform, classes covered, the MNIST score and
   * the Fréchet distance of its features to the test set's.
   */
  classifier: z.strictObject({ samples: count() }).nullable().optional(),
  /** Distance from each of `samples` generated images to its nearest training image. */
  nearestTraining: z.strictObject({ samples: count() }).nullable().optional(),
  /**
   * Conditional runs only (docs/conditional.md): `perClass` samples of G for each label,
   * scored by the harness's evaluation classifier (the one `metrics.classifier` uses, trained
   * once and cached; this works without `metrics.classifier`): per class, the share classified as the
   * label it was generated for; a class is covered when that share is at least `threshold`.
   */
  classCoverage: z.strictObject({ perClass: count(), threshold: probability() }).nullable()
    .optional(),
  /**
   * Scores through training. It scores what the run's metrics configure, so a variant that
   * turns Parzen and the classifier off (e.g. `--set metrics.parzen=null`) tracks nothing.
   */
  track: Tracking.nullable().optional(),
}).refine((m) => !m.track || m.track.parzen || m.track.classifier, {
  message: "metrics.track asks for neither parzen nor classifier; set one of them, or remove it",
  path: ["track"],
});

/**
 * What tracking scores: each score it asks for, where the run's metrics configure it. Class
 * coverage (a conditional model's) comes with the classifier, whose predictions it counts.
 */
export function trackedScores(
  m: Pick<ImageMetricsConfig, "track" | "parzen" | "classifier" | "classCoverage">,
): { parzen: boolean; classifier: boolean; coverage: boolean } {
  return {
    parzen: Boolean(m.track?.parzen && m.parzen),
    classifier: Boolean(m.track?.classifier && m.classifier),
    coverage: Boolean(m.track?.classifier && m.classCoverage),
  };
}

/**
 * 2-D mixtures (docs/mixtures.md): `samples` generator samples; a sample is of high quality
 * within `sigmas` standard deviations of its nearest centre; a mode is captured when at
 * least `modeThreshold` high-quality samples have it as their nearest centre.
 */
export const MixtureMetrics = z.strictObject({
  kind: z.literal("mixture-2d"),
  samples: count(),
  sigmas: positive(),
  modeThreshold: count(),
});

export const Metrics = z.discriminatedUnion("kind", [
  GaussianMetrics,
  ImageMetrics,
  MixtureMetrics,
]);

const ProfileName = z.string().regex(/^[a-z][a-z0-9-]*$/);

/** A range a run's metric must fall in (inclusive; a missing side is open). */
export const Band = z.strictObject({
  metric: z.string().min(1),
  low: z.number().optional(),
  high: z.number().optional(),
  /** Where the numbers come from: measured runs (which, how many), or the paper. */
  basis: z.string().min(1),
  /**
   * The band holds for variants too (e.g. "the noise is never redrawn"), so a config that
   * extends this one inherits it; others are not inherited (src/config/extends.ts).
   */
  variants: z.boolean().optional(),
}).refine((b) => b.low !== undefined || b.high !== undefined, {
  message: 'give "low", "high" or both',
}).refine((b) => b.low === undefined || b.high === undefined || b.low <= b.high, {
  message: '"low" must not exceed "high"',
  path: ["high"],
});

/** What one run costs on the build machine (wasm, 2 cores): for --list and --jobs scheduling. */
export const Cost = z.strictObject({
  /**
   * Seconds per training iteration: one number, or one per backend ("wasm", "wasm+openblas",
   * …; a backend not named takes the slowest given).
   */
  secondsPerIteration: z.union([positive(), z.record(z.string(), positive())]),
  /** Per profile: seconds outside the loop (start-up, data, evaluation). */
  fixedSeconds: z.record(ProfileName, z.number().min(0)),
  /** Per profile: peak resident memory of one run, in GB. */
  memoryGB: z.record(ProfileName, positive()),
  /** How and where these were measured. */
  measured: z.string().min(1),
});

/**
 * A conditional GAN (Mirza & Osindero 2014; docs/conditional.md): G(z, y) and D(x, y), the
 * class label y as a one-hot vector appended to G's noise and to D's input rows.
 */
export const Conditional = z.strictObject({ labels: z.literal("one-hot") });

export const ExperimentConfig = z.strictObject({
  description: z.string().min(1),
  /** Where the numbers come from (paper section, reference code and commit). */
  source: z.string().min(1),
  data: Data,
  noise: Noise,
  generator: Generator,
  discriminator: Discriminator,
  /** Absent: an unconditional GAN. */
  conditional: Conditional.optional(),
  training: Training,
  metrics: Metrics,
  /** Named override sets, e.g. {"smoke": {"training.budget": {"iterations": 200}}}; applied like --set. */
  profiles: z.record(ProfileName, z.record(z.string(), z.unknown())).default({}),
  /** Stability bands per profile ("paper" or a declared profile), checked by bench --check. */
  expect: z.record(ProfileName, z.array(Band)).default({}),
  /**
   * true: part of the default suite (`deno task bench --suite paper|smoke`); a list: the
   * named suites it belongs to instead, each a profile it declares (`--suite stability`).
   */
  suite: z.union([z.boolean(), z.array(ProfileName).min(1)]).default(true),
  cost: Cost.optional(),
}).superRefine((config, ctx) => {
  const profiles = ["paper", ...Object.keys(config.profiles)];
  const known = (field: "expect" | "fixedSeconds" | "memoryGB", map: object | undefined) => {
    for (const name of Object.keys(map ?? {})) {
      if (profiles.includes(name)) continue;
      ctx.addIssue({
        code: "custom",
        path: field === "expect" ? ["expect", name] : ["cost", field, name],
        message: `no profile "${name}"; declared profiles: ${profiles.join(", ")}`,
      });
    }
  };
  known("expect", config.expect);
  for (const [i, name] of (Array.isArray(config.suite) ? config.suite : []).entries()) {
    if (name === "paper" || name === "smoke" || !profiles.includes(name)) {
      ctx.addIssue({
        code: "custom",
        path: ["suite", i],
        message: name === "paper" || name === "smoke"
          ? `"${name}" is the default suite's profile: set "suite": true`
          : `no profile "${name}" to run the suite at; declared profiles: ${profiles.join(", ")}`,
      });
    }
  }
  known("fixedSeconds", config.cost?.fixedSeconds);
  known("memoryGB", config.cost?.memoryGB);
  objectiveIssues(config).forEach((issue) => ctx.addIssue({ code: "custom", ...issue }));
  packIssues(config).forEach((issue) => ctx.addIssue({ code: "custom", ...issue }));
  unrollIssues(config).forEach((issue) => ctx.addIssue({ code: "custom", ...issue }));
  batchNormIssues(config).forEach((issue) => ctx.addIssue({ code: "custom", ...issue }));
  conditionalIssues(config).forEach((issue) => ctx.addIssue({ code: "custom", ...issue }));
  const metrics = checkableMetrics(config.metrics.kind);
  for (const [name, bands] of Object.entries(config.expect)) {
    bands.forEach((band, i) => {
      if (metrics.includes(band.metric)) return;
      ctx.addIssue({
        code: "custom",
        path: ["expect", name, i, "metric"],
        message: `expected a metric of ${config.metrics.kind} runs: ${metrics.join(", ")}`,
      });
    });
  }
});

/**
 * What packing needs of D: rows that are examples. A batch-level input (moments) has no rows
 * to pack, and dropout masks are drawn per example of the unpacked batch.
 */
function packIssues(
  config: {
    training: { pack?: number };
    discriminator: { input: { kind: string }; dropout?: unknown };
  },
): { path: (string | number)[]; message: string }[] {
  const m = config.training.pack ?? 1;
  if (m === 1) return [];
  const issues: { path: (string | number)[]; message: string }[] = [];
  if (config.discriminator.input.kind !== "identity") {
    issues.push({
      path: ["training", "pack"],
      message: `packing concatenates examples, but this D's input is ` +
        `"${config.discriminator.input.kind}" (a batch-level view): packing needs "identity"`,
    });
  }
  if (config.discriminator.dropout !== undefined) {
    issues.push({
      path: ["training", "pack"],
      message: "packing is not implemented with discriminator.dropout (its masks are drawn " +
        "per unpacked example): remove one of them",
    });
  }
  return issues;
}

/**
 * What unrolling needs: D's loss differentiated twice (its gradient, then G's gradient
 * through it), and D's optimiser as tensor operations. TF.js 4.22's second-order gradients
 * are right only through dense "relu" and "linear" layers (tanh, sigmoid and elu save their
 * output for the backward pass, and the copy they save is not linked to the tape; measured:
 * test/mixture_test.ts), the same rule as the WGAN-GP penalty; for BCE objectives D is scored
 * on logits, so a final "sigmoid" is skipped and allowed. The kl objective's exp saves its
 * output likewise. Weight clipping, the gradient penalty and max column norms act on D
 * outside its optimiser's update and are not unrolled here.
 */
function unrollIssues(
  config: {
    training: {
      unroll?: { steps: number };
      objective: string;
      weightClip?: number;
      gradientPenalty?: number;
      optimizers: { discriminator: { kind: string } };
    };
    discriminator: { layers: { type: string; activation?: string }[]; maxColNorm?: number };
  },
): { path: (string | number)[]; message: string }[] {
  const t = config.training;
  if (!t.unroll) return [];
  const issues: { path: (string | number)[]; message: string }[] = [];
  const refuse = (path: (string | number)[], message: string) => issues.push({ path, message });
  const last = config.discriminator.layers.length - 1;
  config.discriminator.layers.forEach((layer, i) => {
    const ok = layer.type === "dense" &&
      (layer.activation === "relu" || layer.activation === "linear" ||
        (i === last && layer.activation === "sigmoid" && BCE_OBJECTIVES.includes(t.objective)));
    if (ok) return;
    refuse(
      ["discriminator", "layers", i, layer.type === "dense" ? "activation" : "type"],
      "unrolling differentiates D's gradient, which TF.js computes correctly only through " +
        'dense layers: allowed "relu", "linear" (and a last "sigmoid" with a BCE objective)',
    );
  });
  if (t.objective === "kl") {
    refuse(
      ["training", "objective"],
      'unrolling differentiates D\'s gradient, which TF.js gets wrong through the "kl" ' +
        "objective's exp; allowed: non-saturating, minimax, least-squares, wasserstein, " +
        "hinge, pearson",
    );
  }
  for (const field of ["weightClip", "gradientPenalty"] as const) {
    if (t[field] === undefined) continue;
    refuse(
      ["training", field],
      `unrolling is not implemented with ${field} (it acts on D outside its optimiser's ` +
        "update): remove one of them",
    );
  }
  if (config.discriminator.maxColNorm !== undefined) {
    refuse(
      ["discriminator", "maxColNorm"],
      "unrolling is not implemented with discriminator.maxColNorm (it acts on D outside its " +
        "optimiser's update): remove one of them",
    );
  }
  const kind = t.optimizers.discriminator.kind;
  if (kind !== "adam" && kind !== "sgd" && kind !== "rmsprop") {
    refuse(
      ["training", "optimizers", "discriminator", "kind"],
      'unrolling steps D\'s optimiser as tensor operations: allowed "adam", "sgd", "rmsprop"',
    );
  }
  return issues;
}

/**
 * Where batch normalisation is implemented: G's own dense layers. In D, the batch a layer
 * normalises over would be a choice (real and generated rows together or apart, packed
 * rows, the gradient penalty's interpolates) no config here needs; in a branch, the layer
 * is one part of a conditional G. A normalised layer has no bias of its own (β takes its
 * place, as in PacGAN's generator).
 */
function batchNormIssues(
  config: {
    generator: { layers: z.infer<typeof Layer>[] };
    discriminator: { layers: z.infer<typeof Layer>[] };
  },
): { path: (string | number)[]; message: string }[] {
  const issues: { path: (string | number)[]; message: string }[] = [];
  const normalised = (l: { type: string }) => "batchNorm" in l && l.batchNorm !== undefined;
  // [path of the layer, the layer] for each layer and each branch's layer
  const layersOf = (net: "generator" | "discriminator") =>
    config[net].layers.flatMap((layer, i): [(string | number)[], z.infer<typeof Layer>][] =>
      layer.type === "branches"
        ? layer.branches.map((b, k) => [[net, "layers", i, "branches", k, "layer"], b.layer])
        : [[[net, "layers", i], layer]]
    );
  for (const [path, layer] of layersOf("generator")) {
    if (!normalised(layer)) continue;
    if (path.includes("branches")) {
      issues.push({
        path: [...path, "batchNorm"],
        message: "batch normalisation is not implemented inside branches: remove batchNorm",
      });
    } else if ("bias" in layer && layer.bias !== undefined) {
      issues.push({
        path: [...path, "bias"],
        message: "a batch-normalised layer has no bias (batchNorm's learned offset takes its " +
          "place): remove bias or batchNorm",
      });
    }
  }
  for (const [path, layer] of layersOf("discriminator")) {
    if (!normalised(layer)) continue;
    issues.push({
      path: [...path, "batchNorm"],
      message: "batch normalisation is implemented for the generator's layers only: " +
        "remove batchNorm",
    });
  }
  return issues;
}

/** The data sets whose examples carry a class label (10 classes each). */
export const LABELED_DATA = ["mnist", "fashion-mnist", "cifar10"] as const;

/**
 * What conditioning needs of the rest of the config: labelled data, the simultaneous update,
 * D rows that are single examples, no gradient penalty (all implemented only unconditioned);
 * and the class-coverage metric needs a conditional run.
 */
function conditionalIssues(
  config: {
    conditional?: unknown;
    data: { kind: string };
    training: {
      update: string;
      pack?: number;
      gradientPenalty?: number;
      unroll?: { steps: number };
    };
    discriminator: { input: { kind: string } };
    metrics: { kind: string; classCoverage?: unknown };
  },
): { path: (string | number)[]; message: string }[] {
  const issues: { path: (string | number)[]; message: string }[] = [];
  const coverage = config.metrics.kind === "image-stats" && config.metrics.classCoverage;
  if (!config.conditional) {
    if (coverage) {
      issues.push({
        path: ["metrics", "classCoverage"],
        message: "class coverage scores a generator conditioned on labels: add " +
          '"conditional": {"labels": "one-hot"}, or remove metrics.classCoverage',
      });
    }
    return issues;
  }
  const labeled: readonly string[] = LABELED_DATA;
  if (!labeled.includes(config.data.kind)) {
    issues.push({
      path: ["data", "kind"],
      message: `conditioning needs labelled data: one of ${LABELED_DATA.join(", ")}`,
    });
  }
  const t = config.training;
  if (t.update !== "simultaneous") {
    issues.push({
      path: ["training", "update"],
      message: 'conditioning is implemented for the "simultaneous" update only',
    });
  }
  if ((t.pack ?? 1) !== 1) {
    issues.push({
      path: ["training", "pack"],
      message: "conditioning labels each D row with one example's class: pack must be 1",
    });
  }
  if (t.gradientPenalty !== undefined) {
    issues.push({
      path: ["training", "gradientPenalty"],
      message: "the gradient penalty is not implemented for conditional runs: remove it",
    });
  }
  if (t.unroll !== undefined) {
    issues.push({
      path: ["training", "unroll"],
      message: "unrolling is not implemented for conditional runs: remove it",
    });
  }
  if (config.discriminator.input.kind !== "identity") {
    issues.push({
      path: ["discriminator", "input", "kind"],
      message: "conditioning appends each example's label to its D row: the input must be " +
        '"identity"',
    });
  }
  return issues;
}

/** What an objective needs of the rest of the config: its own fields, and a raw-output D. */
function objectiveIssues(
  config: {
    training: { objective: string; weightClip?: number; gradientPenalty?: number };
    discriminator: { layers: { type: string; activation?: string }[] };
    data: { kind: string };
    metrics: { kind: string };
  },
): { path: (string | number)[]; message: string }[] {
  const t = config.training, issues: { path: (string | number)[]; message: string }[] = [];
  const wants = (field: "weightClip" | "gradientPenalty", objective: string, what: string) => {
    if (t.objective === objective && t[field] === undefined) {
      issues.push({
        path: ["training", field],
        message: `the "${objective}" objective needs ${what}`,
      });
    }
    if (t.objective !== objective && t[field] !== undefined) {
      issues.push({
        path: ["training", field],
        message:
          `only the "${objective}" objective uses ${field}; this config's is "${t.objective}"`,
      });
    }
  };
  wants("weightClip", "wasserstein", "a weight clipping bound c > 0 (the WGAN paper: 0.01)");
  wants("gradientPenalty", "wasserstein-gp", "a penalty weight λ > 0 (the WGAN-GP paper: 10)");
  const last = config.discriminator.layers.length - 1;
  const top = config.discriminator.layers[last];
  if (!BCE_OBJECTIVES.includes(t.objective) && top?.activation !== "linear") {
    issues.push({
      path: ["discriminator", "layers", last, top?.activation ? "activation" : "type"],
      message: `the "${t.objective}" objective scores D's raw output: its last layer must be ` +
        `dense with a "linear" activation, found ${
          top?.activation ? `"${top.activation}"` : `a ${top?.type} layer`
        }`,
    });
  }
  if (t.objective === "wasserstein-gp") {
    // the penalty's gradient is second order: TF.js gets it wrong through tanh, sigmoid and
    // elu (measured: test/mixture_test.ts) and has none through leaky-relu or maxout
    config.discriminator.layers.forEach((layer, i) => {
      if (
        layer.type === "dense" && (layer.activation === "relu" || layer.activation === "linear")
      ) {
        return;
      }
      issues.push({
        path: ["discriminator", "layers", i, layer.type === "dense" ? "activation" : "type"],
        message: "the WGAN-GP penalty needs second-order gradients, which TF.js computes " +
          `correctly only through dense "relu" and "linear" layers; found ${
            layer.type === "dense" ? `"${layer.activation}"` : `a ${layer.type} layer`
          }`,
      });
    });
  }
  const mixtureData = config.data.kind === "ring" || config.data.kind === "grid";
  if (mixtureData !== (config.metrics.kind === "mixture-2d")) {
    issues.push({
      path: ["metrics", "kind"],
      message: mixtureData
        ? `${config.data.kind} data are scored by "mixture-2d" metrics`
        : `"mixture-2d" metrics need ring or grid data, found ${config.data.kind}`,
    });
  }
  return issues;
}

export type ExperimentConfig = z.infer<typeof ExperimentConfig>;
export type ConditionalConfig = z.infer<typeof Conditional>;
export type BandConfig = z.infer<typeof Band>;
export type SpanConfig = z.infer<typeof Span>;
export type TrackingConfig = z.infer<typeof Tracking>;
export type CostConfig = z.infer<typeof Cost>;
export type LayerConfig = z.infer<typeof Layer>;
export type InitConfig = z.infer<typeof Init>;
export type BatchNormConfig = z.infer<typeof BatchNorm>;
export type NoiseConfig = z.infer<typeof Noise>;
export type DataConfig = z.infer<typeof Data>;
export type OptimizerConfig = z.infer<typeof Optimizer>;
export type DiscriminatorInputConfig = z.infer<typeof DiscriminatorInput>;
export type DropoutRuleConfig = z.infer<typeof DropoutRule>;
export type DropoutConfig = z.infer<typeof Dropout>;
export type TrainingConfig = z.infer<typeof Training>;
export type ImageMetricsConfig = z.infer<typeof ImageMetrics>;
export type MixtureMetricsConfig = z.infer<typeof MixtureMetrics>;
