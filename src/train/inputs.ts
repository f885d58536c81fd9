/**
 * The random inputs of training step t, each from its own named stream: noise z, D's and G's
 * dropout masks and the real batch. Each draw is shown to the draw monitor. (A frozen stream, for the
 * canary tests, draws step 0's numbers at every step.) The arrays it draws are its own
 * (./draw-buffers.ts): each is drawn into again at its stream's next draw, which comes in a later
 * step, after the step that read it has made its tensors or run its fused update.
 */
import { tf } from "../backend/tf.ts";
import type { ResolvedConfig } from "../config/load.ts";
import { conditionWidth, drawLabels, labelsAt, oneHot } from "../data/labels.ts";
import { sampleNoise } from "../data/noise.ts";
import type { RealBatch, RealData } from "../data/real-data.ts";
import type { Network } from "../models/network.ts";
import type { Rng } from "../rng/streams.ts";
import { dropoutMaskPlan, dropoutMasksFrom, type MaskPlan } from "./dropout.ts";
import { DrawBuffers } from "./draw-buffers.ts";
import { DrawMonitor } from "./draw-monitor.ts";
import type { FaultTransforms } from "./faults.ts";
import type { Masks } from "./objectives.ts";
import type { DrawJob, DrawReply } from "./prefetch.ts";

/** Dropout masks as arrays, per layer of D or G (null where none). */
export type MaskValues = (Float32Array | null)[];

export class StepInputs {
  /** Sees every draw; a resumed run continues the checkpoint's. */
  draws = new DrawMonitor();
  /** D's dropout (discriminator.dropout), null without. */
  readonly maskPlan: MaskPlan | null;
  /** G's dropout in training steps (generator.dropout, docs/conditional.md §2), null without. */
  readonly gMaskPlan: MaskPlan | null;
  /** A conditional run's classes (docs/conditional.md); 0 unconditioned. */
  readonly classes: number;
  readonly #buffers = new DrawBuffers();

  constructor(
    readonly config: ResolvedConfig["config"],
    readonly rng: Rng,
    readonly real: RealData,
    readonly G: Network,
    readonly D: Network,
    readonly faults: Pick<FaultTransforms, "noiseStep" | "maskStep">,
  ) {
    const dropout = config.discriminator.dropout;
    this.maskPlan = dropout ? dropoutMaskPlan(D, dropout) : null;
    const gDropout = config.generator.dropout;
    this.gMaskPlan = gDropout ? dropoutMaskPlan(G, gDropout) : null;
    this.classes = conditionWidth(config);
  }

  /**
   * The labels G is conditioned on at step t, one-hot: uniform over the classes, drawn from
   * the `train/y` stream (null when the run is not conditional).
   */
  fakeLabels(step: number, rows: number) {
    if (!this.classes) return null;
    const draw = this.rng.stream("train/y").at(this.faults.noiseStep(step));
    const y = oneHot(drawLabels(draw, rows, this.classes), this.classes);
    return tf.tensor2d(this.draws.see("noise", "train/y", y), [rows, this.classes]);
  }

  noise(stream: string, step: number, rows: number): Float32Array {
    const z = sampleNoise(
      this.config.noise,
      this.rng.stream(stream).at(this.faults.noiseStep(step)),
      rows,
      this.#buffers.of(stream, rows * this.config.noise.dim),
    );
    return this.draws.see("noise", stream, z);
  }

  noiseTensor(z: Float32Array, rows: number) {
    return tf.tensor2d(z, [rows, this.config.noise.dim]);
  }

  /** Inverted-dropout masks for each D layer's input (null where none), per example and unit. */
  dropoutMasks(stream: string, step: number, rows: number, drawn?: MaskValues): MaskValues | null {
    return this.masksOf(this.maskPlan, stream, step, rows, drawn);
  }

  /**
   * The same for G's layers (generator.dropout), for one G forward pass of a training step:
   * null without G dropout. Counted with D's masks by the draw monitor.
   */
  generatorMasks(
    stream: string,
    step: number,
    rows: number,
    drawn?: MaskValues,
  ): MaskValues | null {
    return this.masksOf(this.gMaskPlan, stream, step, rows, drawn);
  }

  private masksOf(
    plan: MaskPlan | null,
    stream: string,
    step: number,
    rows: number,
    drawn?: MaskValues,
  ): MaskValues | null {
    if (!plan) return null;
    const masks = drawn ??
      dropoutMasksFrom(
        this.rng,
        plan,
        stream,
        this.faults.maskStep(step),
        rows,
        (i, length) => this.#buffers.of(`${stream}/h${i}`, length),
      );
    return masks.map((m, i) => m && this.draws.see("dropout", `${stream}/h${i}`, m));
  }

  /** D's masks as tensors, each shaped as its layer's input. */
  maskTensors(masks: MaskValues | null, rows: number): Masks {
    return tensorsFor(this.D, masks, rows);
  }

  /** G's masks as tensors, each shaped as its layer's input. */
  generatorMaskTensors(masks: MaskValues | null, rows: number): Masks {
    return tensorsFor(this.G, masks, rows);
  }

  /** The simultaneous update's random inputs, in the order its step reads them. */
  simultaneousDraws(t: number): DrawJob[] {
    const rows = this.real.rowsAt(t);
    const step = this.faults.maskStep(t);
    const masks = (stream: string, plan: MaskPlan | null): DrawJob[] =>
      plan ? [{ kind: "masks", stream, step, rows, plan }] : [];
    return [
      {
        kind: "noise",
        stream: "train/z",
        step: this.faults.noiseStep(t),
        rows,
        noise: this.config.noise,
      },
      ...masks("D/dropout/real", this.maskPlan),
      ...masks("D/dropout/fake", this.maskPlan),
      // one G forward pass a step feeds both updates: one set of G masks
      ...masks("G/dropout", this.gMaskPlan),
    ];
  }

  /**
   * Those inputs as arrays, drawn ahead by the worker (`drawn`, in simultaneousDraws' order)
   * or here, each shown to the draw monitor: both simultaneous steps read them.
   */
  simultaneousInputs(t: number, rows: number, drawn?: DrawReply["results"]) {
    // the mask jobs present, in order after the noise
    let next = 1;
    const take = (plan: MaskPlan | null) => (plan && drawn ? drawn[next++] : undefined);
    return {
      z: drawn ? this.draws.see("noise", "train/z", drawn[0][0]!) : this.noise("train/z", t, rows),
      realMasks: this.dropoutMasks("D/dropout/real", t, rows, take(this.maskPlan)),
      fakeMasks: this.dropoutMasks("D/dropout/fake", t, rows, take(this.maskPlan)),
      generatorMasks: this.generatorMasks("G/dropout", t, rows, take(this.gMaskPlan)),
    };
  }

  /** Step t's real batch as an array (this object's: see above), shown to the draw monitor. */
  realArrays(step: number): RealBatch {
    const b = this.real.batch(
      step,
      this.#buffers.of("real", this.real.rowsAt(step) * this.real.dim),
    );
    this.draws.see("real", "real", b.values);
    return b;
  }

  /** Step t's real batch as a tensor; in a conditional run, its rows' labels one-hot. */
  realBatch(step: number) {
    const b = this.realArrays(step);
    const x = tf.tensor2d(b.values, [b.rows, this.real.dim]);
    return { x, rows: b.rows, epoch: b.epoch, labels: this.classes ? this.realLabels(b) : null };
  }

  private realLabels(b: { rows: number; indices: Int32Array | null }) {
    const labels = this.real.dataset?.splits.train.labels;
    if (!labels || !b.indices) throw new Error("a conditional run needs labelled training data");
    const y = oneHot(labelsAt(labels, b.indices), this.classes);
    return tf.tensor2d(y, [b.rows, this.classes]);
  }
}

/** Masks as tensors shaped [rows, ...inShape] of their layers of `net`. */
function tensorsFor(net: Network, masks: MaskValues | null, rows: number): Masks {
  return masks?.map((m, i) => m && tf.tensor(m, [rows, ...net.layers[i].inShape])) ?? undefined;
}
