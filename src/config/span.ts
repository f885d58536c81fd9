/**
 * How many iterations a span of training (a budget, a tracking interval, a milestone
 * interval) is: the one place that turns epochs into iterations.
 */
import type { SpanConfig, TrainingConfig } from "./schema.ts";

export interface SpanContext {
  /** Minibatches per pass over the training split; null for sampled data (no epochs). */
  batchesPerEpoch: number | null;
  /** Discriminator minibatches per iteration: dSteps for the alternating update, else 1. */
  dPerIteration: number;
}

/** The span in iterations (rounded up to whole iterations). */
export function spanIterations(span: SpanConfig, context: SpanContext, field: string): number {
  if (span.iterations !== undefined) return span.iterations;
  if (context.batchesPerEpoch === null) {
    throw new RangeError(
      `${field}: an epoch count needs a data set; sampled data take "iterations"`,
    );
  }
  return Math.ceil((span.epochs! * context.batchesPerEpoch) / context.dPerIteration);
}

/** dSteps for Algorithm 1's alternating update; the simultaneous update takes one. */
export function discriminatorBatchesPerIteration(
  training: Pick<TrainingConfig, "update" | "dSteps">,
): number {
  return training.update === "simultaneous" ? 1 : training.dSteps;
}
