/**
 * Names of the files a run writes into its folder for reports, shared by the writer
 * (src/train/figures.ts) and the readers (report pages), which import nothing of training.
 */

/** A snapshot of the fixed latent batch after `iteration` updates. */
export const snapshotFile = (iteration: number, ext: "png" | "json") =>
  `samples/iter-${String(iteration).padStart(6, "0")}.${ext}`;
