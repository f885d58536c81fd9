/**
 * `deno task verify <run-dir> [--backend B]`: re-runs a finished run from its recorded
 * config and seed and compares fingerprints step by step. Prints "identical" (exit 0) or the
 * first diverging step and the tensors that differ there (exit 1).
 */
import { dirname, join } from "node:path";
import { BACKEND_CHOICES, type BackendChoice } from "../backend/select.ts";
import { resolveConfig } from "../config/load.ts";
import type { Fingerprint } from "../train/checkpoint.ts";
import type { Result } from "../train/result.ts";
import { parseCommand, runMain, UsageError } from "./args.ts";
import { EXIT } from "./exit.ts";

/** The first fingerprint where two runs differ, and in what; null when they agree. */
export function firstDifference(
  a: Fingerprint[],
  b: Fingerprint[],
): { step: number; tensors: string[]; losses: boolean } | { step: null; reason: string } | null {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    if (a[i].step !== b[i].step) {
      return { step: null, reason: `fingerprint ${i} is at step ${a[i].step} vs ${b[i].step}` };
    }
    if (a[i].hash === b[i].hash) continue;
    const names = [...new Set([...Object.keys(a[i].tensors), ...Object.keys(b[i].tensors)])];
    return {
      step: a[i].step,
      tensors: names.filter((t) => a[i].tensors[t] !== b[i].tensors[t]),
      losses: a[i].losses !== b[i].losses,
    };
  }
  if (a.length !== b.length) {
    return { step: null, reason: `${a.length} vs ${b.length} fingerprints` };
  }
  return null;
}

export function describeDifference(d: NonNullable<ReturnType<typeof firstDifference>>): string {
  if (d.step === null) return `the runs are not comparable: ${d.reason}`;
  const what = [...d.tensors, ...(d.losses ? ["the recorded losses"] : [])];
  return `first diverging step: ${d.step}; differing: ${what.join(", ") || "the update counters"}`;
}

const USAGE = `usage: deno task verify <run-dir> [--backend B]

Re-runs a finished run from its recorded config and seed (and its OpenBLAS thread count
and training step) and compares fingerprints step by step.
  --backend B  ${BACKEND_CHOICES.join(" | ")} (default: the recorded one)
  -h, --help   show this help
  --version    print ganbench's version

exit codes:
  0  identical: every fingerprint matches
  1  the runs differ: the first diverging step and the tensors that differ are printed
  2  a bad flag or argument, or a folder without a readable result.json`;

export async function main(args: string[]): Promise<number> {
  const parsed = parseCommand({
    name: "verify",
    usage: USAGE,
    options: { backend: { type: "string" } },
    positionals: { max: 1, what: "run folder" },
  }, args);
  if (!parsed) return 0;
  const { values, positionals } = parsed;
  if (positionals.length !== 1) throw new UsageError("expected one run folder");
  const dir = positionals[0];
  let recorded: Result;
  try {
    recorded = JSON.parse(Deno.readTextFileSync(join(dir, "result.json")));
  } catch (e) {
    console.error(`error: ${dir}: no readable result.json (${(e as Error).message})`);
    return EXIT.io;
  }
  const backend = (values.backend ?? recorded.backend.name) as BackendChoice;
  if (!(BACKEND_CHOICES as readonly string[]).includes(backend)) {
    console.error(
      `error: --backend: found "${backend}"; expected one of ${BACKEND_CHOICES.join(", ")}`,
    );
    return 2;
  }
  const resolved = resolveConfig(join(dir, "config.json"), recorded.config);
  resolved.experiment = recorded.experiment;
  resolved.profile = recorded.profile;
  const { runExperiment } = await import("../train/run.ts");
  const folder = await import("../train/run-folder.ts");
  const stage = resolved.config.generator.pretrained?.experiment;
  const pretrained = stage
    ? folder.readCheckpoint(join(dirname(dirname(dir)), stage, `seed-${recorded.seed}`)) ??
      undefined
    : undefined;
  console.error(`re-running ${recorded.experiment} seed ${recorded.seed} on ${backend} …`);
  // the recorded OpenBLAS thread count: results depend on it
  const blasThreads = recorded.backend.blas?.threads;
  const again = await runExperiment(resolved, {
    seed: recorded.seed,
    backend,
    blasThreads,
    // and the recorded step (results before the fused step existed were all autodiff)
    trainStep: recorded.trainStep ?? "autodiff",
    pretrained,
  });
  const diff = firstDifference(recorded.fingerprints, again.fingerprints);
  if (diff === null) {
    console.log(
      `identical: all ${again.fingerprints.length} fingerprints match (${recorded.experiment} seed ${recorded.seed}, ${backend})`,
    );
    return 0;
  }
  console.log(describeDifference(diff));
  return 1;
}

if (import.meta.main) await runMain("verify", () => main(Deno.args));
