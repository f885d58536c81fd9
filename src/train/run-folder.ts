/**
 * The run folder, one per experiment × seed:
 *   <out>/<experiment>/seed-<N>/config.json  resolved config + hash
 *                               result.json  the Result, written last
 *                               report.html  rendered from result.json
 */
import { join } from "node:path";
import { renderRunPage } from "../report/run-page.ts";
import { writeFileAtomic } from "../util/atomic.ts";
import type { Result } from "./result.ts";

export function runFolder(outDir: string, experiment: string, seed: number): string {
  return join(outDir, experiment, `seed-${seed}`);
}

export async function writeRunFolder(outDir: string, result: Result): Promise<string> {
  const dir = runFolder(outDir, result.experiment, result.seed);
  await writeFileAtomic(
    join(dir, "config.json"),
    JSON.stringify({ configHash: result.configHash, config: result.config }, null, 2) + "\n",
  );
  await writeFileAtomic(join(dir, "result.json"), JSON.stringify(result, null, 2) + "\n");
  await writeFileAtomic(join(dir, "report.html"), renderRunPage(result));
  return dir;
}
