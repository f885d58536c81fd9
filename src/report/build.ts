/**
 * Writes report pages from run folders: one run's report.html, the output folder's
 * index.html, or all of them (`deno task report`). Pages are pure functions of the files in
 * the folder, so rebuilding gives the same bytes.
 */
import { join } from "node:path";
import { writeFileAtomic } from "../util/atomic.ts";
import { type IndexEntry, renderIndexPage } from "./index-page.ts";
import { readResult } from "../record/result.ts";
import {
  configPath,
  pagePath,
  resultPath,
  runFolder,
  seedOfFolder,
  skippedPath,
} from "../record/run-folder.ts";
import { withSharedFiles } from "../record/shared-files.ts";
import { readRunData } from "./run-data.ts";
import { renderRunPage } from "./run-page.ts";

export async function writeRunPage(dir: string): Promise<string> {
  const path = pagePath(dir);
  await writeFileAtomic(path, await renderRunPage(readRunData(dir)));
  return path;
}

function readJson(path: string): unknown {
  try {
    return JSON.parse(Deno.readTextFileSync(path));
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw new Error(`${path}: ${(e as Error).message}`);
  }
}

function isDir(path: string): boolean {
  try {
    return Deno.statSync(path).isDirectory;
  } catch {
    return false;
  }
}

/** Every `<experiment>/seed-<N>/` folder under `outDir`, sorted by experiment and seed. */
export function scanRuns(outDir: string): IndexEntry[] {
  const entries: IndexEntry[] = [];
  for (const exp of Deno.readDirSync(outDir)) {
    if (!exp.isDirectory) continue;
    for (const run of Deno.readDirSync(join(outDir, exp.name))) {
      const seed = seedOfFolder(run.name);
      const dir = join(outDir, exp.name, run.name);
      if (seed === null || !isDir(dir)) continue;
      const hasResult = readJson(resultPath(dir)) !== null;
      const skipped = readJson(skippedPath(dir)) as { reason: string } | null;
      if (!hasResult && !skipped && readJson(configPath(dir)) === null) continue;
      entries.push({
        experiment: exp.name,
        seed,
        href: `${encodeURIComponent(exp.name)}/${run.name}/report.html`,
        result: hasResult ? readResult(resultPath(dir)) : null,
        skipped: skipped && !hasResult ? { reason: String(skipped.reason) } : null,
      });
    }
  }
  return entries.sort((a, b) =>
    a.experiment < b.experiment ? -1 : a.experiment > b.experiment ? 1 : a.seed - b.seed
  );
}

/** The index of every run in `outDir`, scanned and written under its shared-files lock. */
export async function writeIndexPage(outDir: string): Promise<string> {
  const path = join(outDir, "index.html");
  // the scan and the write together: else a bench that scanned before another's run ended
  // could write its index after that one's, leaving the run out
  await withSharedFiles(
    outDir,
    async () => await writeFileAtomic(path, renderIndexPage(scanRuns(outDir))),
  );
  return path;
}

/** Rebuilds every run page and the index; returns the pages written. */
export async function buildReports(outDir: string): Promise<string[]> {
  const written: string[] = [];
  for (const e of scanRuns(outDir)) {
    if (e.result) written.push(await writeRunPage(runFolder(outDir, e.experiment, e.seed)));
  }
  written.push(await writeIndexPage(outDir));
  return written;
}
