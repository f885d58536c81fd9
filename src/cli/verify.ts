/**
 * `deno task verify <run-dir> [--backend B]`: re-runs a finished run from its recorded
 * config and seed and compares fingerprints step by step. Prints "identical" (exit 0) or the
 * first diverging step and the tensors that differ there (exit 1).
 */
import { dirname } from "node:path";
import { parseArgs } from "node:util";
import { BACKEND_CHOICES, type BackendChoice } from "../backend/info.ts";
import { resolveConfig } from "../config/load.ts";
import { describeDifference, firstDifference } from "../record/fingerprint.ts";
import { parseFault } from "../train/faults.ts";
import { readResult, type Result } from "../record/result.ts";
import { configPath, readCheckpoint, resultPath, runFolder } from "../record/run-folder.ts";

export async function main(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { backend: { type: "string" } },
  });
  if (positionals.length !== 1) {
    console.error(`usage: deno task verify <run-dir> [--backend ${BACKEND_CHOICES.join("|")}]`);
    return 2;
  }
  const dir = positionals[0];
  let recorded: Result;
  try {
    recorded = readResult(resultPath(dir));
  } catch (e) {
    console.error(`error: ${dir}: no readable result.json (${(e as Error).message})`);
    return 2;
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
  // the recorded OpenBLAS thread count: results depend on it
  const blasThreads = recorded.backend.blas?.threads;
  const again = await runExperiment(resolved, {
    seed: recorded.seed,
    backend,
    blasThreads,
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

if (import.meta.main) Deno.exit(await main(Deno.args));
