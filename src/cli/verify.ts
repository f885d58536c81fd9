/**
 * `deno task verify <run-dir> [--backend B]`: re-runs a finished run from its recorded
 * config and seed and compares fingerprints step by step. Prints "identical" (exit 0) or the
 * first diverging step and the tensors that differ there (exit 1).
 */
import { dirname } from "node:path";
import { BACKEND_CHOICES, type BackendChoice } from "../backend/info.ts";
import { resolveConfig } from "../config/load.ts";
import { describeDifference, firstDifference } from "../record/fingerprint.ts";
import { parseFault } from "../train/faults.ts";
import { readResult, type Result } from "../record/result.ts";
import { configPath, readCheckpoint, resultPath, runFolder } from "../record/run-folder.ts";
import { parseCommand, runMain, UsageError } from "./args.ts";
import { EXIT } from "./exit.ts";

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
    recorded = readResult(resultPath(dir));
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
  const resolved = resolveConfig(configPath(dir), recorded.config);
  resolved.experiment = recorded.experiment;
  resolved.profile = recorded.profile;
  const { runExperiment } = await import("../train/run.ts");
  const stage = resolved.config.generator.pretrained?.experiment;
  const pretrained = stage
    ? readCheckpoint(runFolder(dirname(dirname(dir)), stage, recorded.seed)) ??
      undefined
    : undefined;
  console.error(`re-running ${recorded.experiment} seed ${recorded.seed} on ${backend} …`);
  // the recorded threads; a result from before threadSplit was recorded, on several
  // threads, was made on OpenBLAS's own, whose numbers are tied to the count
  const blasThreads = recorded.backend.blas?.threads;
  const blasThreadSplit = recorded.backend.blas?.threadSplit ??
    ((blasThreads ?? 1) > 1 ? "openblas" : "rows");
  const again = await runExperiment(resolved, {
    seed: recorded.seed,
    backend,
    blasThreads,
    blasThreadSplit,
    // and the recorded step (results before the fused step existed were all autodiff)
    trainStep: recorded.trainStep ?? "autodiff",
    // a deliberately broken (canary) run is re-run with its recorded breakage
    fault: parseFault(recorded.fault),
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
