/**
 * `deno task diff <runA> <runB>`: what differs between two runs: config fields, seed,
 * environment (backend, adapter, versions) and the first differing fingerprint.
 */
import { readResult, type Result } from "../record/result.ts";
import { diffJson, resultPath } from "../record/run-folder.ts";
import { describeDifference, firstDifference } from "../record/fingerprint.ts";

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

export function main(args: string[]): number {
  if (args.length !== 2) {
    console.error("usage: deno task diff <run-dir-A> <run-dir-B>");
    return 2;
  }
  const [a, b] = args.map((dir) => {
    try {
      return readResult(resultPath(dir));
    } catch (e) {
      console.error(`error: ${dir}: no readable result.json (${(e as Error).message})`);
      return null;
    }
  });
  if (!a || !b) return 2;
  console.log(diffRuns(a, b).join("\n"));
  return 0;
}

if (import.meta.main) Deno.exit(main(Deno.args));
