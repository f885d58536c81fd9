/**
 * `deno task diff <runA> <runB>`: what differs between two runs: config fields, seed,
 * environment (backend, adapter, versions) and the first differing fingerprint.
 */
import { join } from "node:path";
import { diffJson } from "../train/run-folder.ts";
import type { Result } from "../train/result.ts";
import { parseCommand, runMain, UsageError } from "./args.ts";
import { describeDifference, firstDifference } from "./verify.ts";

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

const USAGE = `usage: deno task diff <run-dir-A> <run-dir-B>

What differs between two run folders (each with a result.json): config fields, seed,
environment (backend, adapter, versions) and the first differing fingerprint.
  -h, --help  show this help
  --version   print ganbench's version

exit codes:
  0  compared (whether or not the runs differ)
  2  a bad flag or argument, or a folder without a readable result.json`;

export function main(args: string[]): number {
  const parsed = parseCommand(
    { name: "diff", usage: USAGE, options: {}, positionals: { max: 2, what: "run folders" } },
    args,
  );
  if (!parsed) return 0;
  if (parsed.positionals.length !== 2) {
    throw new UsageError(`expected two run folders, found ${parsed.positionals.length}`);
  }
  const [a, b] = parsed.positionals.map((dir) => {
    try {
      return JSON.parse(Deno.readTextFileSync(join(dir, "result.json"))) as Result;
    } catch (e) {
      console.error(`error: ${dir}: no readable result.json (${(e as Error).message})`);
      return null;
    }
  });
  if (!a || !b) return 2;
  console.log(diffRuns(a, b).join("\n"));
  return 0;
}

if (import.meta.main) await runMain("diff", () => main(Deno.args));
