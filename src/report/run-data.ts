/**
 * Everything a report reads of one run folder: result.json and the figures the run wrote
 * (samples/, figures/). Nothing is recomputed; a figure file that is missing is listed, not
 * fatal, so a page can always be rebuilt.
 */
import { join } from "node:path";
import { type DensitySnapshot, snapshotFile } from "../record/figures.ts";
import { readResult, type Result } from "../record/result.ts";
import { resultPath } from "../record/run-folder.ts";

export interface RunData {
  dir: string;
  result: Result;
  /** Sample grids (PNG bytes) or 1-D densities at each snapshot found on disk. */
  snapshots: { iteration: number; png: Uint8Array | null; density: DensitySnapshot | null }[];
  /** Figure files by their path in the run folder. */
  images: Map<string, Uint8Array>;
  /** Files result.json names that are not there. */
  missing: string[];
}

/** Figure files live in samples/ or figures/ of the run folder, never elsewhere. */
const SAFE_FILE = /^(samples|figures)\/[A-Za-z0-9][A-Za-z0-9._-]*$/;

function readOrNull(path: string): Uint8Array | null {
  try {
    return Deno.readFileSync(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
}

export function readRunData(dir: string): RunData {
  const result = readResult(resultPath(dir));
  const missing: string[] = [];
  const snapshots: RunData["snapshots"] = [];
  const images = new Map<string, Uint8Array>();
  const f = result.figures ?? null;
  const image = !!f?.display;
  for (const iteration of f?.snapshots ?? []) {
    const file = snapshotFile(iteration, image ? "png" : "json");
    const bytes = readOrNull(join(dir, file));
    if (!bytes) {
      missing.push(file);
      continue;
    }
    snapshots.push({
      iteration,
      png: image ? bytes : null,
      density: image ? null : JSON.parse(new TextDecoder().decode(bytes)),
    });
  }
  const named = [f?.nearest?.file, f?.nearest?.neighboursFile, f?.interpolation?.file];
  for (const file of named) {
    if (!file) continue;
    if (!SAFE_FILE.test(file)) throw new Error(`${dir}/result.json names an unsafe file: ${file}`);
    const bytes = readOrNull(join(dir, file));
    if (bytes) images.set(file, bytes);
    else missing.push(file);
  }
  return { dir, result, snapshots, images, missing };
}
