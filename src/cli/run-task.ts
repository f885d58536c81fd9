/**
 * One planned run, in this process: reuse a completed stage another builds on, skip when
 * the data (or the stage it builds on) are absent, else train, check the bands and write
 * the run folder. Loads TF.js: bench imports it only once the configs are known to be good.
 */
import type { BackendChoice } from "../backend/info.ts";
import { DataError, MissingDataError } from "../data/errors.ts";
import type { DataSources } from "../data/registry.ts";
import { checkRun, describeMiss } from "../record/bands.ts";
import type { Checkpoint } from "../record/checkpoint.ts";
import { readResult, type Result, type TrackedPoint } from "../record/result.ts";
import * as folder from "../record/run-folder.ts";
import { writeRunPage } from "../report/build.ts";
import type { TrainStepChoice } from "../train/steps/names.ts";
import { type Fault, parseFault } from "../train/faults.ts";
import { runExperiment } from "../train/run.ts";
import type { Task } from "./plan.ts";
import { ProgressBar } from "./progress.ts";
import type { Outcome } from "./summary.ts";
import { RunGuard } from "../record/run-guard.ts";

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
  /** Reuse a completed run of the same config even when no other run builds on it (--continue). */
  reuseCompleted?: boolean;
  /** Record this process's peak memory (a --jobs worker runs one task per process). */
  measureMemory?: boolean;
}

interface Mark {
  at: number;
  iteration: number;
}

/** Runs `task` holding its run folder (src/record/run-guard.ts); refused when it is in use. */
export async function runTask(task: Task, ctx: TaskContext): Promise<Outcome> {
  const guard = await RunGuard.claim(task.dir, { fresh: !ctx.resume });
  try {
    return await runClaimed(task, ctx, guard);
  } finally {
    await guard.release();
  }
}

async function runClaimed(task: Task, ctx: TaskContext, guard: RunGuard): Promise<Outcome> {
  const { resolved, seed, dir } = task;
  const label = `${resolved.experiment} seed ${seed}`;
  const base = {
    key: task.key,
    experiment: resolved.experiment,
    seed,
    profile: resolved.profile,
    dir,
  };
  const reusable = task.dependency || ctx.reuseCompleted;
  if (reusable && folder.isCompleted(dir, resolved.configHash)) {
    console.log(`${label}: reusing the completed run in ${dir}`);
    const recorded = readResult(folder.resultPath(dir));
    return { ...base, status: "reused", checks: recorded.checks };
  }
  const skip = async (reason: string): Promise<Outcome> => {
    // a run that cannot start leaves an earlier run's checkpoint or result as it was
    const kept = guard.holdsRun();
    if (!kept) {
      await folder.clearRunFolder(dir);
      await folder.writeSkipped(dir, resolved, seed, reason);
    }
    console.log(`${label}: skipped: ${reason}${kept ? `; the earlier run in ${dir} is kept` : ""}`);
    return { ...base, status: "skipped", reason };
  };

  // a stacked stage starts from the final generator of the stage before it (same seed)
  let pretrained: Checkpoint | undefined;
  const before = resolved.config.generator.pretrained?.experiment;
  if (before) {
    const beforeDir = task.afterDir ?? folder.runFolder(ctx.out, before, seed);
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
  }
  // a fresh run writes nothing before its data are read and its models built
  let configWritten = !!ctx.resume;
  const beforeWrite = async () => {
    await guard.beforeWrite();
    if (!configWritten) await folder.writeRunConfig(dir, resolved);
    configWritten = true;
  };
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
      // streamed from the tensors: the state is not copied whole to be written
      onCheckpointStream: async (cp) => {
        await beforeWrite();
        await folder.writeStreamedCheckpoint(dir, cp);
        await guard.started();
      },
      onMilestone: async (cp) => {
        await beforeWrite();
        await folder.writeMilestone(dir, cp);
      },
      onPhase: (phase) => bar.phase(phase),
      onTracked: (p) => bar.log(describeTracked(p)),
      onFigure: async (f) => {
        await beforeWrite();
        await folder.writeFigure(dir, f);
      },
    });
  } catch (e) {
    bar.finish();
    const restored = await guard.failed();
    if (restored) console.error(`${label}: the earlier run's files in ${dir} are restored`);
    if (ctx.signal.aborted) {
      const cp = restored ? null : folder.readCheckpoint(dir);
      const reason = cp
        ? `checkpoint at iteration ${cp.header.iteration} in ${folder.checkpointPath(dir)}`
        : "no checkpoint was written";
      console.error(
        `interrupted: ${label} stopped; ${reason}` +
          (cp ? ". Continue with the same command and --resume." : ""),
      );
      return { ...base, status: "interrupted", reason };
    }
    if (e instanceof MissingDataError) {
      // data absent where the user pointed: a mistake to report, not a skip
      const flag = givenDataFlag(resolved.config.data.kind, ctx.data);
      if (flag) throw new DataError(flag, e.expected, `${e.found} (${e.file})`);
      return await skip(e.message.replace(/\s*\n\s*/g, "; "));
    }
    throw e;
  }
  bar.phase("writing the run folder");
  if (ctx.milestone) {
    // a milestone's scores sit beside the run's result, never in place of it
    const path = await folder.writeMilestoneResult(dir, ctx.milestone, result);
    bar.finish();
    console.log(
      `${label}: milestone ${ctx.milestone} scored; ${metricSummary(result)}\n  → ${path}`,
    );
    return { ...base, status: result.status, wallSeconds: result.wallSeconds };
  }
  const checks = resolved.expect.length ? checkRun(resolved.expect, result) : undefined;
  await folder.writeRunResult(dir, checks ? { ...result, checks } : result);
  await writeRunPage(dir);
  bar.finish();
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

/**
 * The flag (with its value) that named where the data of `kind` are, if one did. TFD is
 * not public: a run without it is skipped (its usual place may be named and still empty).
 */
function givenDataFlag(kind: string, data: DataSources): string | null {
  const flags: Record<string, [string, string | undefined]> = {
    mnist: ["--mnist", data.mnist],
    "fashion-mnist": ["--fashion-mnist", data.fashionMnist],
    cifar10: ["--cifar10", data.cifar10],
  };
  const [flag, value] = flags[kind] ?? [];
  return value === undefined ? null : `${flag} ${value}`;
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
  if (p.parzenWithGDropout) {
    const d = p.parzenWithGDropout;
    parts.push(`with G's dropout ${d.mean.toFixed(1)} ± ${d.se.toFixed(1)}`);
  }
  if (p.classifierScore !== null) {
    parts.push(`classifier score ${p.classifierScore.toFixed(2)}, ${p.classesCovered} classes`);
  }
  if (p.coverage) {
    parts.push(
      `class coverage ${p.coverage.mean.toFixed(3)} (worst class ${p.coverage.min.toFixed(3)}), ` +
        `${p.coverage.covered} labels in control`,
    );
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
