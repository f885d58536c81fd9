/**
 * The run folder, one per experiment × seed:
 *   <out>/<experiment>/seed-<N>/config.json              resolved config + hash, written first
 *                               checkpoints/latest.ckpt  the last healthy state (resumable)
 *                               samples/                 the fixed latent batch and its samples
 *                                                        (or 1-D densities) through training
 *                               figures/                 the paper's Figures 2 and 3 (images)
 *                               result.json              the Result, written last
 *                               report.html              rendered from result.json (by the
 *                                                        report layer, src/report/build.ts)
 *                               skipped.json             instead, when the data are absent
 * Every file is written atomically (temp file, fsync, rename).
 */
import { join } from "node:path";
import type { ResolvedConfig } from "../config/load.ts";
import { writeFileAtomic, writeFileAtomicStream } from "../util/atomic.ts";
import {
  type Checkpoint,
  checkpointParts,
  decodeCheckpoint,
  streamCheckpoint,
  type StreamedCheckpoint,
} from "./checkpoint.ts";
import type { Figure } from "./figures.ts";
import { encodeGrid } from "./image-grid.ts";
import { readResult, type Result } from "./result.ts";

/** `<experiment>/seed-<N>`: a run's folder relative to the output folder (also its task key). */
export function runKey(experiment: string, seed: number): string {
  return `${experiment}/seed-${seed}`;
}

/**
 * `<out>/<experiment>/seed-<N>` (a variant's folder is `<experiment>+<hash>`): the one place a
 * run folder's path is built.
 */
export function runFolder(outDir: string, experiment: string, seed: number): string {
  return join(outDir, runKey(experiment, seed));
}

/** The seed of a run folder's name ("seed-7" → 7), or null for any other name. */
export function seedOfFolder(name: string): number | null {
  const m = /^seed-(\d+)$/.exec(name);
  return m ? Number(m[1]) : null;
}

/** The files of a run folder, by what they hold. */
export const RUN_FILES = {
  config: "config.json",
  result: "result.json",
  page: "report.html",
  skipped: "skipped.json",
} as const;

export const configPath = (dir: string) => join(dir, RUN_FILES.config);
export const resultPath = (dir: string) => join(dir, RUN_FILES.result);
export const pagePath = (dir: string) => join(dir, RUN_FILES.page);
export const skippedPath = (dir: string) => join(dir, RUN_FILES.skipped);
export const checkpointPath = (dir: string) => join(dir, "checkpoints", "latest.ckpt");

/** Where the milestone at `iteration` is kept (config training.milestones). */
export const milestonePath = (dir: string, iteration: number) =>
  join(dir, "checkpoints", `iter-${String(iteration).padStart(7, "0")}.ckpt`);

/** A fresh run owns its folder: results, pages and checkpoints of an earlier run go. */
export async function clearRunFolder(dir: string): Promise<void> {
  const { result, page, skipped } = RUN_FILES;
  const names = [result, page, skipped, "checkpoints", "samples", "figures"];
  for (const name of names) {
    await Deno.remove(join(dir, name), { recursive: true }).catch((e) => {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    });
  }
}

export async function writeRunConfig(dir: string, resolved: ResolvedConfig): Promise<void> {
  await writeFileAtomic(
    configPath(dir),
    JSON.stringify(
      {
        experiment: resolved.experiment,
        profile: resolved.profile,
        configHash: resolved.configHash,
        config: resolved.config,
      },
      null,
      2,
    ) + "\n",
  );
}

export function writeCheckpoint(dir: string, cp: Checkpoint): Promise<void> {
  // in parts: the state's values are written from the checkpoint's array, not copied first
  return writeFileAtomic(checkpointPath(dir), checkpointParts(cp));
}

/** The same file as `writeCheckpoint`'s, written tensor by tensor from where the run keeps them. */
export function writeStreamedCheckpoint(dir: string, cp: StreamedCheckpoint): Promise<void> {
  return writeFileAtomicStream(checkpointPath(dir), (write) => streamCheckpoint(cp, write));
}

export function writeMilestone(dir: string, cp: Checkpoint): Promise<void> {
  return writeFileAtomic(milestonePath(dir, cp.header.iteration), checkpointParts(cp));
}

/** The run's checkpoint, or null when there is none. */
export function readCheckpoint(dir: string): Checkpoint | null {
  return readCheckpointFile(checkpointPath(dir));
}

/** The milestone kept at `iteration`, or null when there is none. */
export function readMilestone(dir: string, iteration: number): Checkpoint | null {
  return readCheckpointFile(milestonePath(dir, iteration));
}

/**
 * Why `cp` cannot continue `task`'s run (another seed, or a change besides a raised budget,
 * listed path by path), or null when it can.
 */
export function resumeRefusal(
  cp: Checkpoint,
  task: {
    dir: string;
    seed: number;
    resolved: ResolvedConfig;
    estimate: { iterations: number | null };
  },
): string | null {
  const { dir, seed, resolved } = task;
  if (cp.header.seed !== seed) {
    return `the checkpoint in ${dir} is of seed ${cp.header.seed}, not ${seed}`;
  }
  if (cp.header.configHash !== resolved.configHash) {
    const started = cp.header.config ?? readRunConfig(dir)?.config;
    const changes = started ? diffJson(started, resolved.config) : [];
    const others = changes.filter((c) => !c.startsWith("$.training.budget"));
    // checkpoints before format 2 do not record their config: only config.json can tell
    if (!started || others.length || (cp.header.config === undefined && changes.length)) {
      return `the config of ${dir} has changed since the run started; refusing to mix them.\n` +
        (others.length
          ? others.map((c) => `  ${c}`).join("\n")
          : changes.length
          ? "  (its checkpoint predates extensions: only the same budget can resume it)"
          : "  (config.json is missing; the hash differs)") +
        "\n  Only training.budget may change on --resume (to extend the run). " +
        "Start afresh without --resume, or use another --out.";
    }
  }
  const budget = task.estimate.iterations;
  if (budget !== null && budget < cp.header.iteration) {
    return `training.budget: ${budget} iterations is fewer than the ${cp.header.iteration} ` +
      `the run in ${dir} has done; an extension can only raise the budget`;
  }
  return null;
}

function readCheckpointFile(path: string): Checkpoint | null {
  let bytes: Uint8Array;
  try {
    bytes = Deno.readFileSync(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
  return decodeCheckpoint(bytes, path);
}

/** The resolved config a run started with (its config.json), or null. */
export function readRunConfig(dir: string): { configHash: string; config: unknown } | null {
  try {
    return JSON.parse(Deno.readTextFileSync(configPath(dir)));
  } catch {
    return null;
  }
}

/** Whether the folder holds a completed run of exactly this config. */
export function isCompleted(dir: string, configHash: string): boolean {
  try {
    const r = readResult(resultPath(dir));
    return r.status === "completed" && r.configHash === configHash && readCheckpoint(dir) !== null;
  } catch {
    return false;
  }
}

/** A run that could not start because its data are absent: why, for the index. */
export async function writeSkipped(
  dir: string,
  resolved: ResolvedConfig,
  seed: number,
  reason: string,
) {
  await writeFileAtomic(
    skippedPath(dir),
    JSON.stringify(
      { experiment: resolved.experiment, seed, configHash: resolved.configHash, reason },
      null,
      2,
    ) + "\n",
  );
}

/** A figure of the report: an image grid as PNG, anything else as JSON. */
export function writeFigure(dir: string, figure: Figure): Promise<void> {
  return writeFileAtomic(
    join(dir, figure.file),
    figure.kind === "image-grid" ? encodeGrid(figure) : JSON.stringify(figure.value) + "\n",
  );
}

/** The reason recorded in the folder's skipped.json, or null when there is none. */
export function readSkipped(dir: string): string | null {
  try {
    return JSON.parse(Deno.readTextFileSync(skippedPath(dir))).reason ?? null;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
}

/** Scores of a milestone (bench --eval-only --milestone N), beside the run's own result. */
export async function writeMilestoneResult(
  dir: string,
  iteration: number,
  result: Result,
): Promise<string> {
  const path = join(dir, "evaluations", `iter-${String(iteration).padStart(7, "0")}.json`);
  await writeFileAtomic(path, JSON.stringify(result, null, 2) + "\n");
  return path;
}

/** Writes result.json; the page is rendered from it by the report layer (writeRunPage). */
export async function writeRunResult(dir: string, result: Result): Promise<void> {
  await writeFileAtomic(resultPath(dir), JSON.stringify(result, null, 2) + "\n");
}

/** Paths where two JSON values differ, e.g. ["$.training.batchSize: 100 → 64"]. */
export function diffJson(a: unknown, b: unknown, path = "$"): string[] {
  if (JSON.stringify(a) === JSON.stringify(b)) return [];
  const isObj = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object";
  if (isObj(a) && isObj(b) && Array.isArray(a) === Array.isArray(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])];
    return keys.flatMap((k) =>
      diffJson(a[k], b[k], Array.isArray(a) ? `${path}[${k}]` : `${path}.${k}`)
    );
  }
  const show = (v: unknown) => (v === undefined ? "(absent)" : JSON.stringify(v));
  return [`${path}: ${show(a)} → ${show(b)}`];
}
