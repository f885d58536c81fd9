/**
 * `deno task diff <runA> <runB> [<runC> …] [--svg DIR]`: what differs between runs: config
 * fields, seed, environment (backend, adapter, versions) and the first differing
 * fingerprint of each run against the first; then every shared metric's values and
 * differences (in combined standard errors where recorded); with --svg, the runs' curves
 * overlaid as SVG files in DIR.
 */
import { join } from "node:path";
import {
  compareMetrics,
  type NamedRun,
  overlaySvgs,
  runLegend,
  runName,
} from "../report/compare.ts";
import { readResult, type Result } from "../record/result.ts";
import { diffJson, resultPath } from "../record/run-folder.ts";
import { describeDifference, firstDifference } from "../record/fingerprint.ts";
import { parseCommand, runMain, UsageError } from "./args.ts";
import { EXIT } from "./exit.ts";

export function diffRuns(a: Result, b: Result): string[] {
  const lines: string[] = [];
  const config = diffJson(a.config, b.config);
  lines.push(
    config.length ? `config:\n${config.map((c) => `  ${c}`).join("\n")}` : "config: identical",
  );
  if (a.seed !== b.seed) lines.push(`seed: ${a.seed} → ${b.seed}`);
  const env = diffJson({ backend: a.backend, versions: a.versions }, {
    backend: b.backend,
    versions: b.versions,
  });
  lines.push(
    env.length ? `environment:\n${env.map((c) => `  ${c}`).join("\n")}` : "environment: identical",
  );
  const d = firstDifference(a.fingerprints ?? [], b.fingerprints ?? []);
  lines.push(d === null ? "fingerprints: identical" : `fingerprints: ${describeDifference(d)}`);
  return lines;
}

const USAGE = `usage: deno task diff <run A> <run B> [<run C> …] [--svg DIR]

Each run is a run folder or its result.json. Prints what differs between each run and the
first (config, seed, environment, first differing fingerprint), then every metric they
share: the values, the difference to run A and, where both record a standard error, that
difference in combined standard errors.

  --svg DIR   also write the runs' curves overlaid (losses, D outputs, tracked scores)
              as SVG files into DIR
  -h, --help  show this help
  --version   print ganbench's version

exit codes:
  0  compared (whether or not the runs differ)
  1  the SVG files could not be written
  2  a bad flag or argument
  3  a run without a readable result.json`;

/** A run folder's result.json, or the .json file itself. */
function readRun(path: string): Result {
  let file = path;
  try {
    if (Deno.statSync(path).isDirectory) file = resultPath(path);
  } catch { /* reported by the read below */ }
  try {
    return readResult(file);
  } catch (e) {
    throw new Error(`${path}: no readable result.json (${(e as Error).message})`);
  }
}

export function compareRuns(runs: NamedRun[]): string[] {
  const lines = [...runLegend(runs)];
  const [first, ...rest] = runs;
  for (const r of rest) {
    const body = diffRuns(first.result, r.result);
    if (runs.length === 2) lines.push(...body);
    else {lines.push(
        `${r.name} against ${first.name}:`,
        ...body.map((l) => `  ${l.replaceAll("\n", "\n  ")}`),
      );}
  }
  lines.push(...compareMetrics(runs));
  return lines;
}

export function main(args: string[]): number {
  const parsed = parseCommand(
    {
      name: "diff",
      usage: USAGE,
      options: { svg: { type: "string" } },
      positionals: { max: Infinity, what: "runs" },
    },
    args,
  );
  if (!parsed) return 0;
  if (parsed.positionals.length < 2) {
    throw new UsageError(`give two runs or more, found ${parsed.positionals.length}`);
  }
  let runs: NamedRun[];
  try {
    runs = parsed.positionals.map((path, i) => ({
      name: runName(i),
      path,
      result: readRun(path),
    }));
  } catch (e) {
    console.error(`error: ${(e as Error).message}`);
    return EXIT.io;
  }
  console.log(compareRuns(runs).join("\n"));
  const dir = parsed.values.svg;
  if (dir !== undefined) {
    try {
      Deno.mkdirSync(dir, { recursive: true });
      for (const [file, svg] of overlaySvgs(runs)) {
        Deno.writeTextFileSync(join(dir, file), svg);
        console.log(`wrote ${join(dir, file)}`);
      }
    } catch (e) {
      console.error(`error: --svg ${dir}: ${(e as Error).message}`);
      return 1;
    }
  }
  return 0;
}

if (import.meta.main) await runMain("diff", () => main(Deno.args));
