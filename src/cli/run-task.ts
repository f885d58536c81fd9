/**
 * One planned run, in this process: reuse a completed stage another builds on, skip when
 * the data (or the stage it builds on) are absent, else train, check the bands and write
 * the run folder. Loads TF.js: bench imports it only once the configs are known to be good.
 */
import type { BackendChoice } from "../backend/info.ts";
import { MissingDataError } from "../data/errors.ts";
import type { DataSources } from "../data/registry.ts";
import { checkRun, describeMiss } from "../record/bands.ts";
import type { Checkpoint } from "../record/checkpoint.ts";
import { readResult, type Result, type TrackedPoint } from "../record/result.ts";
import * as folder from "../record/run-folder.ts";
import { writeRunPage } from "../report/build.ts";
import type { TrainStepChoice } from "../train/steps/choice.ts";
import { type Fault, parseFault } from "../train/faults.ts";
import { runExperiment } from "../train/run.ts";
import type { Task } from "./plan.ts";
import { ProgressBar } from "./progress.ts";
import type { Outcome } from "./summary.ts";

export interface TaskContext {
  out: string;
  backend: BackendChoice;
  /** OpenBLAS threads on wasm+openblas. */
  blasThreads: number;
  trainStep: TrainStepChoice;
  evalOnly: boolean;
  /** With evalOnly: the resume checkpoint is the milestone kept at this iteration. */
  milestone?: number | null;
  data: DataSources;
  signal: AbortSignal;
  resume?: Checkpoint;
  /** Record this process's peak memory (a --jobs worker runs one task per process). */
  measureMemory?: boolean;
}

interface Mark {
  at: number;
  iteration: number;
}

export async function runTask(task: Task, ctx: TaskContext): Promise<Outcome> {
  const { resolved, seed, dir } = task;
  const label = `${resolved.experiment} seed ${seed}`;
  const base = {
    key: task.key,
    experiment: resolved.experiment,
    seed,
    profile: resolved.profile,
    dir,
  };
  if (task.dependency && folder.isCompleted(dir, resolved.configHash)) {
    console.log(`${label}: reusing the completed run in ${dir}`);
    const recorded = readResult(folder.resultPath(dir));
    return { ...base, status: "reused", checks: recorded.checks };
  }
  const skip = async (reason: string): Promise<Outcome> => {
    await folder.clearRunFolder(dir);
    await folder.writeSkipped(dir, resolved, seed, reason);
    console.log(`${label}: skipped: ${reason}`);
    return { ...base, status: "skipped", reason };
  };

  // a stacked stage starts from the final generator of the stage before it (same seed)
  let pretrained: Checkpoint | undefined;
  const before = resolved.config.generator.pretrained?.experiment;
  if (before) {
    const beforeDir = folder.runFolder(ctx.out, before, seed);
    const why = folder.readSkipped(beforeDir);
    if (why) return await skip(`needs ${before}, which was skipped (${why})`);
    pretrained = folder.readCheckpoint(beforeDir) ?? undefined;
    if (!pretrained) {
      throw new Error(`${before} left no checkpoint for ${resolved.experiment} to build on`);
    }
  }

  if (ctx.resume) {
    const h = ctx.resume.header;
    const extending = !ctx.evalOnly && h.configHash !== resolved.configHash;
    console.error(
      `${label}: ${
        ctx.evalOnly
          ? `evaluating the ${ctx.milestone ? "milestone" : "checkpoint"} of`
          : extending
          ? "extending the run (a new budget) from"
          : "resuming at"
      } iteration ${h.iteration}`,
    );
    // an extension now belongs to the new config; a deleted config.json comes back
    if (extending || !folder.readRunConfig(dir)) await folder.writeRunConfig(dir, resolved);
  } else {
    await folder.clearRunFolder(dir);
    await folder.writeRunConfig(dir, resolved);
  }
  const bar = new ProgressBar(label);
  const timing: { first?: Mark; last?: Mark } = {};
  let peakGB = 0;
  let result: Result;
  try {
    result = await runExperiment(resolved, {
      fault: faultFromEnv(),
      seed,
      backend: ctx.backend,
      blasThreads: ctx.blasThreads,
      trainStep: ctx.trainStep,
      signal: ctx.signal,
      resume: ctx.resume,
      pretrained,
      evalOnly: ctx.evalOnly,
      data: ctx.data,
      onProgress: (p) => {
        const now = { at: performance.now(), iteration: p.iteration };
        timing.first ??= now;
        timing.last = now;
        if (ctx.measureMemory) peakGB = Math.max(peakGB, residentGB());
        bar.update(p);
      },
      onCheckpoint: (cp) => folder.writeCheckpoint(dir, cp),
      onMilestone: (cp) => folder.writeMilestone(dir, cp),
      onTracked: (p) => bar.log(describeTracked(p)),
      onFigure: (f) => folder.writeFigure(dir, f),
    });
  } catch (e) {
    bar.finish();
    if (ctx.signal.aborted) {
      const cp = folder.readCheckpoint(dir);
      const reason = cp
        ? `checkpoint at iteration ${cp.header.iteration} in ${folder.checkpointPath(dir)}`
        : "no checkpoint was written";
      console.error(
        `interrupted: ${label} stopped; ${reason}` +
          (cp ? ". Continue with the same command and --resume." : ""),
      );
      return { ...base, status: "interrupted", reason };
    }
    if (e instanceof MissingDataError) return await skip(e.message.replace(/\s*\n\s*/g, " "));
    throw e;
  }
  bar.finish();
  if (ctx.milestone) {
    // a milestone's scores sit beside the run's result, never in place of it
    const path = await folder.writeMilestoneResult(dir, ctx.milestone, result);
    console.log(
      `${label}: milestone ${ctx.milestone} scored; ${metricSummary(result)}\n  → ${path}`,
    );
    return { ...base, status: result.status, wallSeconds: result.wallSeconds };
  }
  const checks = resolved.expect.length ? checkRun(resolved.expect, result) : undefined;
  await folder.writeRunResult(dir, checks ? { ...result, checks } : result);
  await writeRunPage(dir);
  const summary = metricSummary(result);
  const misses = (checks ?? []).filter((c) => !c.pass);
  console.log(
    `${label}: ${result.status}${result.divergedAt ? ` at ${result.divergedAt}` : ""} ` +
      `in ${result.wallSeconds.toFixed(1)} s on ${result.backend.name}; ${summary}` +
      (checks ? `; bands ${checks.length - misses.length}/${checks.length} met` : "") +
      misses.map((c) => `\n  missed: ${describeMiss(label, c)}`).join("") +
      `\n  → ${dir}/result.json`,
  );
  const { first, last } = timing;
  const timed = first && last && last.iteration > first.iteration
    ? (last.at - first.at) / 1000 / (last.iteration - first.iteration)
    : undefined;
  return {
    ...base,
    status: result.status,
    checks,
    wallSeconds: result.wallSeconds,
    ...(timed === undefined ? {} : { secondsPerIteration: Number(timed.toPrecision(4)) }),
    ...(ctx.measureMemory ? { peakRssGB: Number(Math.max(peakGB, residentGB()).toFixed(2)) } : {}),
  };
}

/** Resident memory now, in GB (sampled at every progress report and at the end). */
function residentGB(): number {
  return Deno.memoryUsage().rss / 1024 ** 3;
}

function metricSummary(result: Result): string {
  return Object.entries(result.metrics)
    .slice(0, 4)
    .map(([k, v]) => `${k}=${Number(v.toPrecision(5))}`)
    .join(" ");
}

/** One log line per tracked point: "epoch 25 (it 12500): Parzen 150.1 ± 2.3 (σ 0.167) …". */
export function describeTracked(p: TrackedPoint): string {
  const parts = [`tracked at epoch ${Number(p.epoch.toFixed(2))} (iteration ${p.iteration})`];
  if (p.parzen) {
    parts.push(
      `Parzen ${p.parzen.mean.toFixed(1)} ± ${p.parzen.se.toFixed(1)} (σ ${
        p.parzen.sigma.toPrecision(3)
      })`,
    );
  }
  if (p.classifierScore !== null) {
    parts.push(`classifier score ${p.classifierScore.toFixed(2)}, ${p.classesCovered} classes`);
  }
  parts.push(`lr ${p.learningRate.generator.toPrecision(3)}`, `${p.scoreSeconds.toFixed(1)} s`);
  return parts.join("; ");
}

/** The canary tests' deliberate breakage (GANBENCH_FAULT), announced on stderr. */
function faultFromEnv(): Fault | null {
  const fault = parseFault(Deno.env.get("GANBENCH_FAULT"));
  if (fault) console.error(`warning: GANBENCH_FAULT=${fault}: this run is deliberately broken`);
  return fault;
}
