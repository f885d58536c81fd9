/**
 * `deno task report [DIR]`: rebuilds every run page and the index of an output folder
 * (default reports) from the files the runs wrote. Nothing is retrained or re-evaluated.
 */
import { parseArgs } from "node:util";
import { EXIT, runMain } from "./exit.ts";

const USAGE = `usage: deno task report [DIR]

Rebuilds DIR/<experiment>/seed-<N>/report.html for every run with a result.json, and
DIR/index.html, from the run folders alone (default DIR: reports).`;

export async function main(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: { help: { type: "boolean", short: "h", default: false } },
    });
  } catch (e) {
    console.error(`error: ${(e as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (parsed.values.help) {
    console.log(USAGE);
    return 0;
  }
  if (parsed.positionals.length > 1) {
    console.error(`error: one folder at most, found ${parsed.positionals.length}\n\n${USAGE}`);
    return 2;
  }
  const dir = parsed.positionals[0] ?? "reports";
  try {
    if (!Deno.statSync(dir).isDirectory) throw new Error();
  } catch {
    console.error(
      `error: ${dir} is not a folder (run deno task bench first, or give --out's folder)`,
    );
    return EXIT.io;
  }
  const { buildReports } = await import("../report/build.ts");
  const t0 = performance.now();
  const pages = await buildReports(dir);
  for (const p of pages) console.log(p);
  console.log(`${pages.length} pages in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  return 0;
}

if (import.meta.main) await runMain(main);
