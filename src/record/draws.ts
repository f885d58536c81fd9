/** What the training loop's draw monitor (src/train/draw-monitor.ts) records in a run. */

/** The random streams the monitor watches. */
export type DrawKind = "noise" | "dropout" | "real";

/** How often a random stream handed the training loop the same numbers as its previous draw. */
export interface DrawCounts {
  draws: number;
  repeats: number;
}

/** What a checkpoint keeps of the monitor, so a resumed run counts as an uninterrupted one. */
export interface DrawState {
  counts: Record<DrawKind, DrawCounts>;
  previous: Record<string, string>;
}
