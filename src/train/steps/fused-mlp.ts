/**
 * The simultaneous update of an MLP GAN (the 2014 paper's MNIST, TFD and CIFAR-10 MLPs) as
 * one hand-written step on OpenBLAS. Autodiff on wasm+openblas spends about 40% of an
 * mnist-mlp iteration outside matrix products; with this step about 20% remains, half of it
 * drawing the dropout masks (docs/performance.md).
 *
 * The mathematics is the autodiff simultaneous step's (./simultaneous.ts): both gradients at
 * the current parameters, the paper's shared D(G(z)) and dropout masks, the same losses and
 * update rules. What differs is float32 rounding (sums taken in another order, the optimiser
 * update fused), so its numbers are its own: a result records `trainStep: "fused"`, and a
 * test holds it to autodiff's within rounding (test/fused_mlp_test.ts). The training loop
 * drives it through ./fused.ts.
 *
 * Algorithm 1's alternating update (./alternating.ts) takes the same machinery, one player at
 * a time: discriminatorStep (D on the real rows and G(z), D updated) and generatorStep (D's
 * backward pass without updating it, then G's), driven by ./fused-alternating.ts. Adam, not
 * linear in the gradient, forms each weight gradient once in a scratch array.
 *
 * How it saves time:
 * - D runs once on the real and generated rows together (one product of 2B rows per layer),
 *   and that pass serves D's gradient and G's: autodiff runs D on G(z) once per tape.
 * - One backward pass of 3B rows through D carries D's gradient on the real and generated rows
 *   and G's on the generated rows.
 * - A weight gradient is never formed: Xᵀ·δ accumulates into the optimiser's velocity
 *   (v ← α·Xᵀ·δ + μ·v, one sgemm), then θ ← θ + η·v (one saxpy).
 * - The bias enters through the product (C starts as the bias rows, β = 1); elementwise work
 *   is one loop per layer over arrays allocated once; parameters are updated in place.
 */
import { KernelArena } from "../../backend/arena-kernels.ts";
import { HeapArray } from "../../backend/heap-kernels.ts";
import type { OpenBlas } from "../../backend/openblas.ts";
import {
  adamUpdateArrays,
  countBlasProduct,
  heapViewForUpdate,
  unaryInPlaceWasm,
} from "../../backend/wasm-kernels.ts";
import type { Variable } from "../../backend/tf.ts";
import type { ResolvedConfig } from "../../config/load.ts";
import type { TrainingConfig } from "../../config/schema.ts";
import type { Network } from "../../models/network.ts";
import type { AdamRule, LinearRule, Optimizer } from "../../models/optimizers.ts";
import { BCE_OBJECTIVES } from "../../config/objective-names.ts";

type Activation = "linear" | "relu" | "sigmoid" | "tanh" | "leaky-relu";
const ACTIVATIONS: readonly string[] = ["linear", "relu", "sigmoid", "tanh", "leaky-relu"];

interface LayerPlan {
  /** Inputs, pre-activation columns (units · pieces) and outputs per example. */
  inputs: number;
  cols: number;
  outputs: number;
  pieces: number;
  activation: Activation;
  alpha: number;
  W: Variable;
  b: Variable;
}

/** Why `config` cannot take the fused step, or null when it can. */
export function fusedStepUnsupported(
  config: ResolvedConfig["config"],
  G: Network,
  D: Network,
  gOpt: Optimizer,
  dOpt: Optimizer,
): string | null {
  if (config.conditional) {
    return "it is conditional (the fused step does not append labels to G's and D's inputs)";
  }
  if (config.generator.dropout) {
    return "it drops G's units (generator.dropout; the fused step has dropout in D only)";
  }
  if (!BCE_OBJECTIVES.includes(config.training.objective)) {
    return `its objective is "${config.training.objective}" (the fused step computes the ` +
      "BCE objectives only: non-saturating, minimax)";
  }
  const { training } = config;
  if (training.unroll) {
    return `it unrolls D (training.unroll.steps ${training.unroll.steps}; the fused step ` +
      "takes G's gradient at the current D only)";
  }
  if (training.update === "alternating") {
    if (training.weightClip) return "it clips D's weights (the fused step does not)";
    // autodiff applies both networks' limits after every update, the fused step its own
    if (config.generator.maxColNorm || config.discriminator.maxColNorm) {
      return "it limits column norms in alternating updates";
    }
  }
  if ((training.pack ?? 1) !== 1) {
    return `it packs D's inputs (training.pack ${training.pack}; the fused step ` +
      "scores one sample per D row)";
  }
  if (config.discriminator.input.kind !== "identity") {
    return `its discriminator input is "${config.discriminator.input.kind}"`;
  }
  for (const [net, field] of [[G, "generator"], [D, "discriminator"]] as const) {
    for (const [i, layer] of net.layers.entries()) {
      const c = layer.config;
      if (c.type === "dense" && c.batchNorm) {
        return `it batch-normalises ${field}.layers[${i}] (${field}.layers[${i}].batchNorm; ` +
          "the fused step has no batch normalisation)";
      }
      if (c.type !== "dense" && c.type !== "maxout") return `${net.name} has a ${c.type} layer`;
      if (c.type === "dense" && !ACTIVATIONS.includes(c.activation)) {
        return `${net.name} has a ${c.activation} activation`;
      }
    }
  }
  const top = D.layers.at(-1)!.config;
  if (top.type !== "dense" || top.units !== 1 || top.activation !== "sigmoid") {
    return "D does not end in one sigmoid unit";
  }
  for (const opt of [gOpt, dOpt]) {
    if (!opt.linearRule(0) && !opt.adamRule) {
      return "an optimiser is neither (momentum) SGD nor Adam";
    }
  }
  return null;
}

function plan(net: Network): LayerPlan[] {
  return net.layers.map((layer) => {
    const c = layer.config;
    if (c.type !== "dense" && c.type !== "maxout") throw new Error(`unsupported ${c.type}`);
    const [W, b] = layer.params.map((p) => p.variable);
    const pieces = c.type === "maxout" ? c.pieces : 1;
    const [inputs, cols] = W.shape as [number, number];
    return {
      inputs,
      cols,
      outputs: cols / pieces,
      pieces,
      activation: c.type === "dense" ? c.activation as Activation : "linear",
      alpha: c.type === "dense" ? c.alpha ?? 0.01 : 0,
      W,
      b,
    };
  });
}

/** How one player's parameters are updated this step. */
type UpdateRule = LinearRule | AdamRule;

function isAdam(rule: UpdateRule): rule is AdamRule {
  return "beta1" in rule;
}

/** The rule of `opt`'s next update (at epoch `epoch`). */
function ruleOf(opt: Optimizer, epoch: number): UpdateRule {
  return opt.linearRule(epoch) ?? opt.adamRule!();
}

/** An alternating D step's inputs: the real batch, G's noise and D's masks on both halves. */
export type FusedDInputs = FusedInputs;

/** An alternating G step's inputs: the noise and D's masks on G(z). */
export interface FusedGInputs {
  rows: number;
  z: Float32Array;
  masks: (Float32Array | null)[] | null;
  epoch: number;
}

/** A step's inputs: the real batch, the noise and D's dropout masks (null: none). */
export interface FusedInputs {
  rows: number;
  /** [rows, data dim] */
  real: Float32Array;
  /** [rows, noise dim] */
  z: Float32Array;
  realMasks: (Float32Array | null)[] | null;
  fakeMasks: (Float32Array | null)[] | null;
  epoch: number;
}

export interface FusedScalars {
  dReal: number;
  dFake: number;
  fakeMean: number;
  fakeStd: number;
  dLoss: number;
  gLoss: number;
  /** Global L2 norms of the two gradients this step applied, and D's accuracy. */
  dGradNorm: number;
  gGradNorm: number;
  dAccuracy: number;
}

/** Row blocks of a pass: rows [to, to + count) read forward rows [from, from + count). */
type RowMap = { to: number; from: number; count: number }[];

export interface FusedStepOptions {
  batchSize: number;
  dLoss: TrainingConfig["dLoss"];
  objective: "non-saturating" | "minimax";
  /** The flip-g-loss canary (src/train/faults.ts). */
  flipGLoss?: boolean;
  /** pylearn2's max column norm of G's and D's weight matrices, applied after each update. */
  maxColNorm?: { generator?: number; discriminator?: number };
}

export class FusedMlpStep {
  readonly #g: LayerPlan[];
  readonly #d: LayerPlan[];
  // forward: per layer, its input after dropout, pre-activations (maxout only), outputs
  readonly #gOut: Float32Array[];
  readonly #gZ: (Float32Array | null)[];
  readonly #gWin: (Int32Array | null)[];
  readonly #dIn: Float32Array;
  readonly #dMasked: Float32Array[];
  readonly #dZ: (Float32Array | null)[];
  readonly #dOut: Float32Array[];
  readonly #dWin: (Int32Array | null)[];
  // backward: per layer, δ of the pre-activations and of the inputs
  readonly #gDelta: Float32Array[];
  readonly #gInputDelta: Float32Array[];
  readonly #dDelta: Float32Array[];
  readonly #dInputDelta: Float32Array[];
  readonly #biasSum: Float64Array;
  #columnSquares = new Float64Array(0);
  #columnScale = new Float32Array(0);
  /**
   * A layer's weight gradient where it is formed apart (Adam's, and on recorded steps for its
   * norm), on the wasm heap so that Adam's heap kernel takes it; allocated once, for the
   * largest layer, so that no later allocation moves the heap under the step's views.
   */
  readonly #gradient = new HeapArray();

  constructor(
    readonly blas: OpenBlas,
    G: Network,
    D: Network,
    readonly gOpt: Optimizer,
    readonly dOpt: Optimizer,
    readonly options: FusedStepOptions,
  ) {
    this.#g = plan(G);
    this.#d = plan(D);
    const B = options.batchSize;
    const arrays = (alloc: Pick<KernelArena, "f32" | "i32">) => {
      const f32 = (n: number) => alloc.f32(n);
      const maxout = (l: LayerPlan, rows: number) => l.pieces > 1 ? f32(rows * l.cols) : null;
      const winners = (l: LayerPlan, rows: number) =>
        l.pieces > 1 ? alloc.i32(rows * l.outputs) : null;
      return {
        // G's last layer writes its output into D's input (below), so it has no array of its own
        gOut: this.#g.slice(0, -1).map((l) => f32(B * l.outputs)),
        gZ: this.#g.map((l) => maxout(l, B)),
        gWin: this.#g.map((l) => winners(l, B)),
        dIn: f32(2 * B * this.#d[0].inputs),
        dMasked: this.#d.map((l) => f32(2 * B * l.inputs)),
        dZ: this.#d.map((l) => maxout(l, 2 * B)),
        dOut: this.#d.map((l) => f32(2 * B * l.outputs)),
        dWin: this.#d.map((l) => winners(l, 2 * B)),
        gDelta: this.#g.map((l) => f32(B * l.cols)),
        gInputDelta: this.#g.map((l, i) => f32(i > 0 ? B * l.inputs : 0)),
        dDelta: this.#d.map((l) => f32(3 * B * l.cols)),
        dInputDelta: this.#d.map((l, i) => f32((i > 0 ? 3 : 1) * B * l.inputs)),
      };
    };
    // the sizes first, then every array carved from one arena, so none ever moves
    const sizes: number[] = [];
    arrays({
      f32: (n) => (sizes.push(n), new Float32Array(0)),
      i32: (n) => (sizes.push(n), new Int32Array(0)),
    });
    const a = arrays(new KernelArena(sizes, B * Math.max(...this.#d.map((l) => l.inputs))));
    this.#gOut = a.gOut;
    this.#gZ = a.gZ;
    this.#gWin = a.gWin;
    this.#dIn = a.dIn;
    this.#dMasked = a.dMasked;
    this.#dZ = a.dZ;
    this.#dOut = a.dOut;
    this.#dWin = a.dWin;
    this.#gDelta = a.gDelta;
    this.#gInputDelta = a.gInputDelta;
    this.#dDelta = a.dDelta;
    this.#dInputDelta = a.dInputDelta;
    this.#biasSum = new Float64Array(Math.max(...[...this.#g, ...this.#d].map((l) => l.cols)));
    this.#gradient.view(Math.max(...[...this.#g, ...this.#d].map((l) => l.inputs * l.cols)));
  }

  /** Frees the step's heap scratch. */
  close(): void {
    this.#gradient.free();
  }

  /** One simultaneous update; the recorded scalars when `record`. */
  step(inputs: FusedInputs, record: boolean): FusedScalars | null {
    const { rows: r, real, z, epoch, realMasks, fakeMasks } = inputs;
    this.#checkRows(r);
    const d = this.#d, dim = d[0].inputs;
    const gRule = ruleOf(this.gOpt, epoch), dRule = ruleOf(this.dOpt, epoch);
    // fresh views at each use: an activation on the wasm backend's kernels may grow the heap
    const dViews = (i: number) => views(d[i], i, dRule);
    const maskOf = (masks: FusedInputs["realMasks"], i: number) => masks?.[i] ?? null;
    const maxNorm = this.options.maxColNorm ?? {};
    // Σ g² of each player's gradient, accumulated by #update on a recorded step
    const squares = record ? { d: { sum: 0 }, g: { sum: 0 } } : null;

    // ---- forward: G(z) straight into D's input, after the real rows ----
    const fake = this.#dIn.subarray(r * dim, 2 * r * dim);
    this.#dIn.set(real.subarray(0, r * dim));
    this.#forwardG(r, z, fake, gRule);
    // D on [real; fake], each half with its own dropout masks
    const { dInputs, logits } = this.#forwardD(r, [realMasks, fakeMasks], dRule);
    // logits [2r]: real rows, then generated rows

    // ---- the losses' gradients by logit, stacked: [D on real; D on fake; G on fake] ----
    const { dLoss, objective, flipGLoss } = this.options;
    const half = dLoss === "mean" ? 0.5 : 1;
    const gSign = flipGLoss ? -1 : 1;
    const topDelta = this.#dDelta[d.length - 1];
    for (let k = 0; k < r; k++) {
      const sr = sigmoid(logits[k]), sf = sigmoid(logits[r + k]);
      topDelta[k] = half * (sr - 1) / r;
      topDelta[r + k] = half * sf / r;
      topDelta[2 * r + k] = gSign * (objective === "non-saturating" ? sf - 1 : -sf) / r;
    }

    // ---- backward through D; a layer's input δ is taken before its parameters change ----
    const dMap: RowMap = [{ to: 0, from: 0, count: 2 * r }, { to: 2 * r, from: r, count: r }];
    for (let i = d.length - 1; i >= 0; i--) {
      const l = d[i], delta = this.#dDelta[i], inDelta = this.#dInputDelta[i];
      const realMask = maskOf(realMasks, i), fakeMask = maskOf(fakeMasks, i);
      const n = r * l.inputs;
      if (i > 0) {
        // all 3r rows: D's rows feed the weights below, G's rows go on to G
        this.#gemm(false, true, 3 * r, l.inputs, l.cols, 1, delta, dViews(i).W, 0, inDelta);
        if (realMask && fakeMask) {
          multiplyInto(inDelta, 0, inDelta, realMask, n);
          multiplyInto(inDelta, n, inDelta, fakeMask, n);
          multiplyInto(inDelta, 2 * n, inDelta, fakeMask, n);
        }
        const below = d[i - 1];
        activationBackward(
          below,
          dMap,
          inDelta,
          this.#dOut[i - 1],
          this.#dWin[i - 1],
          this.#dDelta[i - 1],
        );
      } else {
        // D's input δ only on G's rows
        const gRows = delta.subarray(2 * r * l.cols, 3 * r * l.cols);
        this.#gemm(false, true, r, l.inputs, l.cols, 1, gRows, dViews(0).W, 0, inDelta);
        if (fakeMask) multiplyInto(inDelta, 0, inDelta, fakeMask, n);
      }
      this.#update(
        l,
        dViews(i),
        dRule,
        dInputs[i],
        delta,
        2 * r,
        maxNorm.discriminator,
        squares?.d,
      );
    }

    // ---- backward through G, from D's input δ on G's rows ----
    this.#backwardG(r, z, fake, gRule, maxNorm.generator, squares?.g);
    this.dOpt.steps++;
    this.gOpt.steps++;
    if (!squares) return null;
    return {
      ...scalars(logits, fake, r, half, objective, gSign),
      dGradNorm: Math.sqrt(squares.d.sum),
      gGradNorm: Math.sqrt(squares.g.sum),
    };
  }

  /**
   * Algorithm 1's D update (G fixed) on a real batch and G(z): the autodiff alternating
   * step's (./alternating.ts) discriminator step. The recorded D scalars when `record`.
   */
  discriminatorStep(inputs: FusedDInputs, record: boolean): Partial<FusedScalars> | null {
    const { rows: r, real, z, epoch, realMasks, fakeMasks } = inputs;
    this.#checkRows(r);
    const d = this.#d, dim = d[0].inputs;
    const gRule = ruleOf(this.gOpt, epoch), dRule = ruleOf(this.dOpt, epoch);
    const squares = record ? { sum: 0 } : null;
    const fake = this.#dIn.subarray(r * dim, 2 * r * dim);
    this.#dIn.set(real.subarray(0, r * dim));
    this.#forwardG(r, z, fake, gRule);
    const { dInputs, logits } = this.#forwardD(r, [realMasks, fakeMasks], dRule);
    const half = this.options.dLoss === "mean" ? 0.5 : 1;
    const topDelta = this.#dDelta[d.length - 1];
    for (let k = 0; k < r; k++) {
      topDelta[k] = half * (sigmoid(logits[k]) - 1) / r;
      topDelta[r + k] = half * sigmoid(logits[r + k]) / r;
    }
    this.#backwardD(r, [realMasks, fakeMasks], dRule, dInputs, squares);
    this.dOpt.steps++;
    if (!squares) return null;
    return { ...discriminatorScalars(logits, r, half), dGradNorm: Math.sqrt(squares.sum) };
  }

  /**
   * Algorithm 1's G update (D fixed, as the last D step left it) on G(z): the autodiff
   * alternating step's generator step. The recorded G scalars when `record`.
   */
  generatorStep(inputs: FusedGInputs, record: boolean): Partial<FusedScalars> | null {
    const { rows: r, z, epoch, masks } = inputs;
    this.#checkRows(r);
    const d = this.#d, dim = d[0].inputs;
    const gRule = ruleOf(this.gOpt, epoch), dRule = ruleOf(this.dOpt, epoch);
    const squares = record ? { sum: 0 } : null;
    const fake = this.#dIn.subarray(0, r * dim);
    this.#forwardG(r, z, fake, gRule);
    const { logits } = this.#forwardD(r, [masks], dRule);
    const { objective, flipGLoss } = this.options;
    const gSign = flipGLoss ? -1 : 1;
    const topDelta = this.#dDelta[d.length - 1];
    for (let k = 0; k < r; k++) {
      const sf = sigmoid(logits[k]);
      topDelta[k] = gSign * (objective === "non-saturating" ? sf - 1 : -sf) / r;
    }
    this.#backwardD(r, [masks], null, [], null);
    this.#backwardG(r, z, fake, gRule, undefined, squares ?? undefined);
    this.gOpt.steps++;
    if (!squares) return null;
    return {
      ...generatorScalars(logits, fake, r, objective, gSign),
      gGradNorm: Math.sqrt(squares.sum),
    };
  }

  /**
   * G's backward pass and update from D's input δ on G's r rows (#dInputDelta[0]); `fake`
   * is G's output, `z` its input.
   */
  #backwardG(
    r: number,
    z: Float32Array,
    fake: Float32Array,
    rule: UpdateRule,
    maxColNorm: number | undefined,
    squares: { sum: number } | undefined,
  ): void {
    const g = this.#g;
    const gMap: RowMap = [{ to: 0, from: 0, count: r }];
    const last = g.length - 1;
    activationBackward(
      g[last],
      gMap,
      this.#dInputDelta[0],
      fake,
      this.#gWin[last],
      this.#gDelta[last],
    );
    for (let i = last; i >= 0; i--) {
      // fresh views at each use: an activation on the wasm backend's kernels may grow the heap
      const l = g[i], delta = this.#gDelta[i];
      if (i > 0) {
        const inDelta = this.#gInputDelta[i];
        this.#gemm(false, true, r, l.inputs, l.cols, 1, delta, views(l, i, rule).W, 0, inDelta);
        activationBackward(
          g[i - 1],
          gMap,
          inDelta,
          this.#gOut[i - 1],
          this.#gWin[i - 1],
          this.#gDelta[i - 1],
        );
      }
      const X = i === 0 ? z : this.#gOut[i - 1];
      this.#update(l, views(l, i, rule), rule, X, delta, r, maxColNorm, squares);
    }
  }

  #checkRows(r: number): void {
    if (r > this.options.batchSize) {
      throw new RangeError(`${r} rows in a batch of ${this.options.batchSize}`);
    }
  }

  /** G(z) over r rows into `out`. */
  #forwardG(r: number, z: Float32Array, out: Float32Array, rule: UpdateRule): void {
    const g = this.#g;
    let x = z;
    g.forEach((l, i) => {
      const o = i === g.length - 1 ? out : this.#gOut[i];
      this.#layerForward(l, views(l, i, rule), r, x, o, this.#gZ[i], this.#gWin[i], false);
      x = o;
    });
  }

  /**
   * D on #dIn's first blocks.length·r rows, block k with dropout masks blocks[k]: each
   * layer's input after dropout, and the logits (the top layer takes no sigmoid).
   */
  #forwardD(
    r: number,
    blocks: FusedInputs["realMasks"][],
    rule: UpdateRule,
  ): { dInputs: Float32Array[]; logits: Float32Array } {
    const d = this.#d;
    const dInputs: Float32Array[] = [];
    let h = this.#dIn;
    d.forEach((l, i) => {
      const masks = blocks.map((m) => m?.[i] ?? null);
      if (masks.some((m) => !m !== !masks[0])) {
        throw new Error(`D/h${i}: a dropout mask for one half only`);
      }
      let input = h;
      if (masks[0]) {
        input = this.#dMasked[i];
        const n = r * l.inputs;
        masks.forEach((m, k) => multiplyInto(input, k * n, h, m!, n));
      }
      dInputs.push(input);
      const top = i === d.length - 1;
      this.#layerForward(
        l,
        views(l, i, rule),
        blocks.length * r,
        input,
        this.#dOut[i],
        this.#dZ[i],
        this.#dWin[i],
        top,
      );
      h = this.#dOut[i];
    });
    return { dInputs, logits: h };
  }

  /**
   * Backward through D from the top δ of its blocks.length·r rows (block k dropped out by
   * blocks[k]); each layer updated by `rule` (null: D fixed, only D's input δ is wanted, in
   * #dInputDelta[0]). A layer's input δ is taken before its parameters change.
   */
  #backwardD(
    r: number,
    blocks: FusedInputs["realMasks"][],
    rule: UpdateRule | null,
    dInputs: Float32Array[],
    squares: { sum: number } | null,
  ): void {
    const d = this.#d, rows = blocks.length * r;
    const map: RowMap = [{ to: 0, from: 0, count: rows }];
    for (let i = d.length - 1; i >= 0; i--) {
      const l = d[i], delta = this.#dDelta[i], inDelta = this.#dInputDelta[i];
      const p = views(l, i, rule ?? ruleOf(this.dOpt, 0));
      const masks = blocks.map((m) => m?.[i] ?? null);
      const n = r * l.inputs;
      if (i > 0 || !rule) {
        this.#gemm(false, true, rows, l.inputs, l.cols, 1, delta, p.W, 0, inDelta);
        masks.forEach((m, k) => m && multiplyInto(inDelta, k * n, inDelta, m, n));
        if (i > 0) {
          activationBackward(
            d[i - 1],
            map,
            inDelta,
            this.#dOut[i - 1],
            this.#dWin[i - 1],
            this.#dDelta[i - 1],
          );
        }
      }
      if (rule) this.#update(l, p, rule, dInputs[i], delta, rows, undefined, squares ?? undefined);
    }
  }

  /** OpenBLAS's sgemm (see OpenBlas.gemm), counted as the matMul kernel counts its own. */
  #gemm(...args: Parameters<OpenBlas["gemm"]>): void {
    const [, , M, N, K] = args;
    const t0 = performance.now();
    this.blas.gemm(...args);
    countBlasProduct(2 * M * N * K, (performance.now() - t0) / 1000);
  }

  /**
   * pylearn2's max_col_norm, in place: every column scaled by min(‖w‖, max) / (‖w‖ + 1e-7),
   * as network.ts's applyMaxColNorm (and pylearn2) do. Two passes over W instead of TF.js's
   * six (the column sum transposes first): 320 → ~100 ms a step on tfd-mlp's G.
   */
  #limitColumnNorms(W: Float32Array, rows: number, cols: number, max: number): void {
    const squares = this.#columnSquares.length >= cols
      ? this.#columnSquares
      : (this.#columnSquares = new Float64Array(cols));
    squares.fill(0, 0, cols);
    for (let k = 0, o = 0; k < rows; k++) {
      for (let c = 0; c < cols; c++, o++) squares[c] += W[o] * W[o];
    }
    const scale = this.#columnScale.length >= cols
      ? this.#columnScale
      : (this.#columnScale = new Float32Array(cols));
    for (let c = 0; c < cols; c++) {
      const norm = Math.sqrt(squares[c]);
      scale[c] = Math.min(norm, max) / (norm + 1e-7);
    }
    for (let k = 0, o = 0; k < rows; k++) {
      for (let c = 0; c < cols; c++, o++) W[o] *= scale[c];
    }
  }

  /**
   * Adam's update of one layer: unlike momentum's, it is not linear in the gradient, so
   * Xᵀ·δ is formed (in a scratch array) and then applied by adamUpdateArrays, the
   * arithmetic of the autodiff steps' Adam.
   */
  #adamUpdate(
    l: LayerPlan,
    p: ParamViews,
    rule: AdamRule,
    X: Float32Array,
    delta: Float32Array,
    rows: number,
    maxColNorm: number | undefined,
    squares?: { sum: number },
  ): void {
    const weights = l.inputs * l.cols;
    const grad = this.#gradient.view(weights);
    this.#gemm(true, false, l.inputs, l.cols, rows, 1, X, delta, 0, grad);
    if (squares) { for (let k = 0; k < weights; k++) squares.sum += grad[k] * grad[k]; }
    adamUpdateArrays(
      weights,
      { P: p.W, G: grad, M: p.mW!, V: p.vW! },
      { P: p.W, M: p.mW!, V: p.vW! },
      rule,
    );
    if (maxColNorm !== undefined) this.#limitColumnNorms(p.W, l.inputs, l.cols, maxColNorm);
    const sum = this.#biasSum;
    sum.fill(0, 0, l.cols);
    for (let k = 0, o = 0; k < rows; k++) {
      for (let c = 0; c < l.cols; c++, o++) sum[c] += delta[o];
    }
    if (squares) { for (let c = 0; c < l.cols; c++) squares.sum += sum[c] * sum[c]; }
    const biasGrad = grad.subarray(0, l.cols); // the weights' gradient is spent
    for (let c = 0; c < l.cols; c++) biasGrad[c] = sum[c];
    adamUpdateArrays(
      l.cols,
      { P: p.b, G: biasGrad, M: p.mb!, V: p.vb! },
      { P: p.b, M: p.mb!, V: p.vb! },
      rule,
    );
  }

  /** out ← act(input·W + b) over `rows` rows; maxout's pre-activations go to `z`. */
  #layerForward(
    l: LayerPlan,
    p: ParamViews,
    rows: number,
    input: Float32Array,
    out: Float32Array,
    z: Float32Array | null,
    win: Int32Array | null,
    logits: boolean,
  ): void {
    const pre = z ?? out;
    for (let k = 0; k < rows; k++) pre.set(p.b, k * l.cols);
    this.#gemm(false, false, rows, l.cols, l.inputs, 1, input, p.W, 1, pre);
    if (l.pieces > 1) maxoutForward(pre, out, win!, rows * l.outputs, l.pieces);
    else if (!logits) activate(out, rows * l.cols, l.activation, l.alpha);
  }

  /**
   * The optimiser's update of one layer from its input X [rows, inputs] and δ [rows, cols]:
   * the weight gradient Xᵀ·δ goes straight into the velocity (or the weights). With
   * `squares`, the gradient's Σ g² (weights and bias) is added to it: Xᵀ·δ is then formed
   * once more, in a scratch array, on the recorded steps only.
   */
  #update(
    l: LayerPlan,
    p: ParamViews,
    rule: UpdateRule,
    X: Float32Array,
    delta: Float32Array,
    rows: number,
    maxColNorm: number | undefined,
    squares?: { sum: number },
  ): void {
    if (isAdam(rule)) return this.#adamUpdate(l, p, rule, X, delta, rows, maxColNorm, squares);
    const { mu, alpha, eta } = rule;
    const weights = l.inputs * l.cols;
    if (squares) {
      const grad = this.#gradient.view(weights);
      this.#gemm(true, false, l.inputs, l.cols, rows, 1, X, delta, 0, grad);
      for (let k = 0; k < weights; k++) squares.sum += grad[k] * grad[k];
    }
    if (p.vW) {
      this.#gemm(true, false, l.inputs, l.cols, rows, alpha, X, delta, mu, p.vW);
      this.blas.saxpy(weights, eta, p.vW, p.W);
    } else {
      this.#gemm(true, false, l.inputs, l.cols, rows, alpha, X, delta, 1, p.W);
    }
    if (maxColNorm !== undefined) this.#limitColumnNorms(p.W, l.inputs, l.cols, maxColNorm);
    const sum = this.#biasSum;
    sum.fill(0, 0, l.cols);
    for (let k = 0, o = 0; k < rows; k++) {
      for (let c = 0; c < l.cols; c++, o++) sum[c] += delta[o];
    }
    if (squares) { for (let c = 0; c < l.cols; c++) squares.sum += sum[c] * sum[c]; }
    const { b, vb } = p;
    for (let c = 0; c < l.cols; c++) {
      if (vb) {
        vb[c] = mu * vb[c] + alpha * sum[c];
        b[c] += eta * vb[c];
      } else {
        b[c] += alpha * sum[c];
      }
    }
  }
}

interface ParamViews {
  W: Float32Array;
  b: Float32Array;
  /** Momentum's velocities, or Adam's second moments. */
  vW: Float32Array | null;
  vb: Float32Array | null;
  /** Adam's first moments. */
  mW: Float32Array | null;
  mb: Float32Array | null;
}

/** Heap views of layer i's parameters and optimiser state (optimiser order: W, b per layer). */
function views(l: LayerPlan, i: number, rule: UpdateRule): ParamViews {
  const v = isAdam(rule) ? rule.v : rule.velocity, m = isAdam(rule) ? rule.m : null;
  return {
    W: heapViewForUpdate(l.W),
    b: heapViewForUpdate(l.b),
    vW: v ? heapViewForUpdate(v[2 * i]) : null,
    vb: v ? heapViewForUpdate(v[2 * i + 1]) : null,
    mW: m ? heapViewForUpdate(m[2 * i]) : null,
    mb: m ? heapViewForUpdate(m[2 * i + 1]) : null,
  };
}

function sigmoid(a: number): number {
  return 1 / (1 + Math.exp(-a));
}

/** softplus(a) = log(1 + eᵃ), without overflow. */
function softplus(a: number): number {
  return a > 0 ? a + Math.log1p(Math.exp(-a)) : Math.log1p(Math.exp(a));
}

/** dst[at + k] = src[at + k] · mask[k] for k < n. */
function multiplyInto(
  dst: Float32Array,
  at: number,
  src: Float32Array,
  mask: Float32Array,
  n: number,
) {
  if (KernelArena.of(dst)?.multiplyInto(dst, at, src, mask, n)) return;
  for (let k = 0; k < n; k++) dst[at + k] = src[at + k] * mask[k];
}

function activate(x: Float32Array, n: number, activation: Activation, alpha: number): void {
  switch (activation) {
    case "linear":
      return;
    case "relu":
      if (KernelArena.of(x)?.relu(x, n)) return;
      // (v + |v|)/2 is exact and branch-free: a data-dependent branch mispredicts half the time
      for (let k = 0; k < n; k++) {
        const v = x[k];
        x[k] = (v + Math.abs(v)) * 0.5;
      }
      return;
    case "sigmoid":
    case "tanh":
      // the wasm backend's SIMD kernels: a JS loop of Math.exp is 10× slower
      unaryInPlaceWasm(activation, x, n);
      return;
    case "leaky-relu":
      for (let k = 0; k < n; k++) {
        const v = x[k], positive = +(v > 0);
        x[k] = positive * v + (1 - positive) * alpha * v;
      }
      return;
  }
}

/** Max of each group of `pieces` and its first maximal piece. */
function maxoutForward(
  z: Float32Array,
  out: Float32Array,
  win: Int32Array,
  groups: number,
  pieces: number,
) {
  // (a scalar wasm loop of the same comparisons measured slower than this one)
  for (let u = 0, o = 0; u < groups; u++, o += pieces) {
    let best = z[o], at = 0;
    for (let p = 1; p < pieces; p++) {
      // arithmetic, not a branch: which piece wins is data-dependent (2× faster measured)
      at += +(z[o + p] > best) * (p - at);
      best = z[o + at];
    }
    out[u] = best;
    win[u] = at;
  }
}

/**
 * δ of a layer's pre-activations from δ of its outputs: rows of `outDelta` read the forward
 * values (`out`, `win`) of the rows `map` names.
 */
function activationBackward(
  l: LayerPlan,
  map: RowMap,
  outDelta: Float32Array,
  out: Float32Array,
  win: Int32Array | null,
  delta: Float32Array,
): void {
  const width = l.outputs;
  for (const { to, from, count } of map) {
    const d0 = to * width, f0 = from * width, n = count * width;
    if (l.pieces > 1) {
      const p = l.pieces;
      delta.fill(0, to * l.cols, (to + count) * l.cols);
      for (let k = 0; k < n; k++) delta[(d0 + k) * p + win![f0 + k]] = outDelta[d0 + k];
      continue;
    }
    switch (l.activation) {
      case "linear":
        delta.set(outDelta.subarray(d0, d0 + n), d0);
        break;
      case "relu":
        if (KernelArena.of(delta)?.reluBackward(delta, outDelta, out, d0, f0, n)) break;
        for (let k = 0; k < n; k++) delta[d0 + k] = outDelta[d0 + k] * +(out[f0 + k] > 0);
        break;
      case "sigmoid":
        for (let k = 0; k < n; k++) {
          const y = out[f0 + k];
          delta[d0 + k] = outDelta[d0 + k] * y * (1 - y);
        }
        break;
      case "tanh":
        for (let k = 0; k < n; k++) {
          const y = out[f0 + k];
          delta[d0 + k] = outDelta[d0 + k] * (1 - y * y);
        }
        break;
      case "leaky-relu":
        for (let k = 0; k < n; k++) {
          const positive = +(out[f0 + k] > 0);
          delta[d0 + k] = outDelta[d0 + k] * (positive + (1 - positive) * l.alpha);
        }
        break;
    }
  }
}

/** The recorded scalars, as autodiff's step computes them (in float64 here). */
function scalars(
  logits: Float32Array,
  fake: Float32Array,
  r: number,
  half: number,
  objective: FusedStepOptions["objective"],
  gSign: number,
): Omit<FusedScalars, "dGradNorm" | "gGradNorm"> {
  return {
    ...discriminatorScalars(logits, r, half),
    ...generatorScalars(logits.subarray(r, 2 * r), fake, r, objective, gSign),
  };
}

/** D's scalars from its logits on r real rows, then on r generated rows. */
function discriminatorScalars(
  logits: Float32Array,
  r: number,
  half: number,
): Pick<FusedScalars, "dReal" | "dFake" | "dLoss" | "dAccuracy"> {
  let dReal = 0, dFake = 0, lossReal = 0, lossFake = 0, right = 0;
  for (let k = 0; k < r; k++) {
    const a = logits[k], f = logits[r + k];
    right += +(a > 0) + +(f < 0);
    dReal += sigmoid(a);
    dFake += sigmoid(f);
    lossReal += softplus(-a);
    lossFake += softplus(f);
  }
  return {
    dReal: dReal / r,
    dFake: dFake / r,
    dLoss: half * (lossReal + lossFake) / r,
    dAccuracy: right / (2 * r),
  };
}

/** G's scalars from its r generated rows and D's logits on them. */
function generatorScalars(
  fakeLogits: Float32Array,
  fake: Float32Array,
  r: number,
  objective: FusedStepOptions["objective"],
  gSign: number,
): Pick<FusedScalars, "fakeMean" | "fakeStd" | "gLoss"> {
  let gLoss = 0;
  for (let k = 0; k < r; k++) {
    const f = fakeLogits[k];
    gLoss += objective === "non-saturating" ? softplus(-f) : -softplus(f);
  }
  let sum = 0;
  for (let k = 0; k < fake.length; k++) sum += fake[k];
  const mean = sum / fake.length;
  let squares = 0;
  for (let k = 0; k < fake.length; k++) squares += (fake[k] - mean) ** 2;
  return {
    fakeMean: mean,
    fakeStd: Math.sqrt(squares / fake.length),
    gLoss: gSign * gLoss / r,
  };
}
