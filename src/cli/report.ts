/**
 * `deno task report [DIR]`: rebuilds every run page and the index of an output folder
 * (default reports) from the files the runs wrote. Nothing is retrained or re-evaluated.
 */
import { parseCommand, runMain } from "./args.ts";
import { EXIT } from "./exit.ts";

const USAGE = `usage: deno task report [DIR]

Rebuilds DIR/<experiment>/seed-<N>/report.html for every run with a result.json, and
DIR/index.html, from the run folders alone (default DIR: reports).
  -h, --help  show this help
  --version   print ganbench's version

exit codes:
  0  the pages were written (or --help, --version)
  2  a bad flag or argument, or DIR is not a folder`;

export async function main(args: string[]): Promise<number> {
  const parsed = parseCommand(
    { name: "report", usage: USAGE, options: {}, positionals: { max: 1, what: "folder" } },
    args,
  );
  if (!parsed) return 0;
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

if (import.meta.main) await runMain("report", () => main(Deno.args));
