/**
 * Mode-collapse scores of 2-D samples against a mixture's centres (docs/mixtures.md):
 * VEEGAN's high-quality samples and modes captured (Srivastava et al. 2017, §5.1), and
 * PacGAN's reverse KL of the mode histogram (Lin et al. 2018, Table 1), computed as
 * PacGAN's released code does.
 */
import type { MixtureMetricsConfig } from "../config/schema.ts";
import { nearestRowsDirect } from "./nearest.ts";

/**
 * A sample is of high quality when closer than sigmas·std to its nearest centre; a mode is
 * captured when at least modeThreshold high-quality samples are nearest to it.
 */
export type MixtureRule = Pick<MixtureMetricsConfig, "sigmas" | "modeThreshold">;

export interface MixtureScores {
  modes: number;
  modesCaptured: number;
  /** High-quality samples / all samples. */
  highQualityFraction: number;
  /**
   * KL(q ‖ uniform) in nats, q the high-quality samples' shares of the modes; null when no
   * sample is of high quality (q does not exist).
   */
  reverseKl: number | null;
  /** High-quality samples nearest to each mode. */
  counts: number[];
}

/** Scores `points` (n rows of x, y) against `centres` with isotropic `std`. */
export function scoreMixture(
  points: Float32Array,
  centres: [number, number][],
  std: number,
  rule: MixtureRule,
): MixtureScores {
  const n = points.length / 2, k = centres.length;
  const counts = new Array<number>(k).fill(0);
  const limit2 = (rule.sigmas * std) ** 2;
  const nearest = nearestRowsDirect(points, centres.flat(), 2);
  for (let i = 0; i < n; i++) {
    // strict, as PacGAN's code: a point at exactly 3σ is not counted
    if (nearest.distance2[i] < limit2) counts[nearest.index[i]]++;
  }
  const good = counts.reduce((a, b) => a + b, 0);
  let reverseKl: number | null = null;
  if (good > 0) {
    reverseKl = 0;
    for (const c of counts) if (c > 0) reverseKl += (c / good) * Math.log((c / good) * k);
  }
  return {
    modes: k,
    modesCaptured: counts.filter((c) => c >= rule.modeThreshold).length,
    highQualityFraction: n ? good / n : 0,
    reverseKl,
    counts,
  };
}

/** What a 2-D run records at each snapshot (samples/iter-NNNNNN.json): points and scores. */
export interface ScatterSnapshot {
  kind: "scatter";
  iteration: number;
  /** The first `SCATTER_POINTS` samples of the fixed latent batch, x, y interleaved (4 decimals). */
  points: number[];
  centres: [number, number][];
  std: number;
  /** Scored on the first `metrics.samples` rows of the fixed latent batch. */
  scores: MixtureScores;
}

/** Points drawn per snapshot (the papers' figures show 2,500; the page stays light). */
export const SCATTER_POINTS = 1000;

export function scatterSnapshot(
  iteration: number,
  samples: Float32Array,
  centres: [number, number][],
  std: number,
  rule: MixtureRule & { samples: number },
): ScatterSnapshot {
  const scored = samples.subarray(0, Math.min(samples.length, 2 * rule.samples));
  const shown = samples.subarray(0, Math.min(samples.length, 2 * SCATTER_POINTS));
  return {
    kind: "scatter",
    iteration,
    points: Array.from(shown, (v) => Math.round(v * 1e4) / 1e4),
    centres,
    std,
    scores: scoreMixture(scored, centres, std, rule),
  };
}
