/**
 * `bench … --emit slurm|github-actions`: the plan as a script for an engine that already
 * spreads jobs over machines. Each job runs one shard (`bench … --shard I/N`), so a node needs
 * only what the README's set-up gives (npx and this checkout); a last job merges the shards'
 * folders into one index. Limits come from the configs' `cost` with a margin: a shard's
 * estimated time × TIME_FACTOR + TIME_EXTRA_SECONDS, and its peak memory × MEMORY_FACTOR +
 * MEMORY_EXTRA_GB (the parent bench process beside its worker). Stacked stages share a shard
 * with the stage they build on (see shard.ts), so no job waits on another but the merge.
 */
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { stringify } from "yaml";
import { formatDuration } from "./progress.ts";
import { type Token, UsageError } from "./args.ts";
import { schedule, type Task } from "./plan.ts";
import { assignShards, balancingSeconds, planId, units } from "./shard.ts";

export const EMIT_KINDS = ["slurm", "github-actions"] as const;
export type EmitKind = (typeof EMIT_KINDS)[number];

export const TIME_FACTOR = 1.5;
export const TIME_EXTRA_SECONDS = 600;
export const MEMORY_FACTOR = 1.25;
export const MEMORY_EXTRA_GB = 0.5;
/** Memory assumed for a run whose config has no cost.memoryGB for its profile. */
const UNKNOWN_MEMORY_GB = 8;
/** What every job runs: the README's set-up. */
const DENO = "npx -y deno@2.9.6";
const REPO = fileURLToPath(new URL("../../", import.meta.url)).replace(/\/$/, "");

export interface EmitOptions {
  /** The plan's arguments, passed to every shard (experiments, seeds, profile, --set, …). */
  planArgs: string[];
  out: string;
  /** null: as many shards as the plan has units. */
  shards: number | null;
  blasThreads: number;
  jobs: number;
}

export interface ShardPlan {
  tasks: Task[];
  /** Estimated seconds (unknown runs counted as the plan's longest; see balancingSeconds). */
  seconds: number;
  /** Peak GB of the runs a shard runs at once (--jobs). */
  memoryGB: number;
}

/** The N shards with their estimated time and memory under `jobs`. */
export function shardPlans(tasks: readonly Task[], count: number, jobs: number): ShardPlan[] {
  const seconds = balancingSeconds(tasks);
  const known = tasks.map((t) => t.estimate.memoryGB).filter((m): m is number => m !== null);
  const memory = (t: Task) =>
    t.estimate.memoryGB ?? (known.length ? Math.max(...known) : UNKNOWN_MEMORY_GB);
  return assignShards(tasks, count).map((shard) => {
    const counted = shard.map((t) => ({ ...t, estimate: { ...t.estimate, seconds: seconds(t) } }));
    const largest = shard.map(memory).sort((a, b) => b - a).slice(0, jobs);
    return {
      tasks: shard,
      seconds: schedule(counted, jobs, Infinity).makespan ?? 0,
      memoryGB: largest.reduce((s, m) => s + m, 0),
    };
  });
}

/** A job's time limit in whole minutes: the estimate with its margin, rounded up. */
export function limitMinutes(seconds: number): number {
  return Math.ceil((seconds * TIME_FACTOR + TIME_EXTRA_SECONDS) / 60);
}

/** Slurm's D-HH:MM:SS for limitMinutes(seconds). */
export function slurmTime(seconds: number): string {
  const minutes = limitMinutes(seconds);
  const pad = (n: number) => String(n).padStart(2, "0");
  const days = Math.floor(minutes / 1440);
  return `${days}-${pad(Math.floor((minutes % 1440) / 60))}:${pad(minutes % 60)}:00`;
}

/** Megabytes for Slurm's --mem, rounded up. */
export function slurmMemoryMB(gb: number): number {
  return Math.ceil((gb * MEMORY_FACTOR + MEMORY_EXTRA_GB) * 1024);
}

/** `args` without the options that say where and how a plan runs rather than what it is. */
export function planArgs(
  args: string[],
  tokens: readonly Token[],
): string[] {
  const dropped = new Set(["out", "emit", "shards", "shard", "list", "continue", "dry-run"]);
  const skip = new Set<number>();
  for (const t of tokens) {
    if (t.kind !== "option" || !dropped.has(t.name!)) continue;
    skip.add(t.index);
    // "--out DIR" (not "--out=DIR"): the value is the next argument
    if (t.value !== undefined && !t.inlineValue) skip.add(t.index + 1);
  }
  return args.filter((_, i) => !skip.has(i));
}

/** Quotes `s` for a POSIX shell where it needs it. */
export function shellQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replaceAll("'", `'\\''`)}'`;
}

function shardCount(tasks: readonly Task[], shards: number | null): number {
  const possible = units(tasks).length;
  if (shards !== null && shards > possible) {
    throw new UsageError(
      `--shards: found ${shards}; this plan splits into at most ${possible} parts ` +
        "(a stacked stage stays with the stage it builds on)",
    );
  }
  return shards ?? possible;
}

function planComment(plans: ShardPlan[], id: string, runs: number): string[] {
  const longest = Math.max(...plans.map((p) => p.seconds));
  return [
    `ganbench plan ${id}: ${runs} runs in ${plans.length} shards; ` +
    `the longest shard is estimated at ${formatDuration(longest)}.`,
    ...plans.map((p, i) =>
      `  shard ${i + 1}: ~${formatDuration(p.seconds)}, ~${p.memoryGB} GB: ` +
      p.tasks.map((t) => t.key).join(", ")
    ),
  ];
}

export function emitScript(kind: EmitKind, tasks: readonly Task[], options: EmitOptions): string {
  const count = shardCount(tasks, options.shards);
  const plans = shardPlans(tasks, count, options.jobs);
  const comment = planComment(plans, planId(tasks, count), tasks.length);
  return kind === "slurm"
    ? slurmScript(plans, comment, options)
    : githubWorkflow(plans, comment, options);
}

function slurmScript(plans: ShardPlan[], comment: string[], options: EmitOptions): string {
  const q = shellQuote;
  const out = resolve(options.out);
  const logs = `${out}/slurm`;
  const count = plans.length;
  const bench = [...options.planArgs, "--out", out].map(q).join(" ");
  const merge = `cd ${q(REPO)} && ${DENO} task merge ${q(out)}`;
  return [
    "#!/bin/bash",
    ...comment.map((l) => `# ${l}`),
    "# Submit with `bash THIS_FILE`: it submits the job array (one task per shard) and a merge",
    "# job that runs when every task has ended. Submitting again is safe: a shard reuses its",
    "# completed runs and resumes those with a checkpoint. The checkout and the output folder",
    "# must be on a file system that every node sees (docs/cluster.md).",
    "#SBATCH --job-name=ganbench",
    `#SBATCH --array=1-${count}`,
    `#SBATCH --time=${slurmTime(Math.max(...plans.map((p) => p.seconds)))}`,
    `#SBATCH --mem=${slurmMemoryMB(Math.max(...plans.map((p) => p.memoryGB)))}M`,
    `#SBATCH --cpus-per-task=${options.blasThreads * options.jobs}`,
    `#SBATCH --output=${logs}/%A-shard-%a.log`,
    "set -euo pipefail",
    'if [ -z "${SLURM_JOB_ID:-}" ]; then',
    `  mkdir -p ${q(logs)}`,
    '  array=$(sbatch --parsable "$0")',
    "  array=${array%%;*}",
    "  merge=$(sbatch --parsable --job-name=ganbench-merge --dependency=afterany:${array} " +
    `--time=${slurmTime(0)} --mem=${slurmMemoryMB(1)}M --cpus-per-task=1 ` +
    `--output=${logs}/%j-merge.log --wrap=${q(merge)})`,
    '  echo "submitted job array ${array} (' + count +
    " shards) and merge job ${merge%%;*}; logs in " + logs + '"',
    "  exit 0",
    "fi",
    `cd ${q(REPO)}`,
    `exec ${DENO} task bench ${bench} --shard "\${SLURM_ARRAY_TASK_ID}/${count}"`,
    "",
  ].join("\n");
}

function githubWorkflow(plans: ShardPlan[], comment: string[], options: EmitOptions): string {
  const count = plans.length;
  const minutes = limitMinutes(Math.max(...plans.map((p) => p.seconds)));
  const bench = [...options.planArgs, "--out", "out"].map(shellQuote).join(" ");
  const setup = [
    { uses: "actions/checkout@v4" },
    { uses: "actions/setup-node@v4", with: { "node-version": 22 } },
  ];
  const workflow = {
    name: "ganbench",
    on: { workflow_dispatch: {} },
    jobs: {
      shard: {
        name: `shard \${{ matrix.shard }}/${count}`,
        "runs-on": "ubuntu-latest",
        "timeout-minutes": minutes,
        strategy: {
          "fail-fast": false,
          matrix: { shard: plans.map((_, i) => i + 1) },
        },
        steps: [
          ...setup,
          { run: `${DENO} task bench ${bench} --shard \${{ matrix.shard }}/${count}` },
          {
            uses: "actions/upload-artifact@v4",
            if: "always()",
            with: { name: "shard-${{ matrix.shard }}", path: "out/", "if-no-files-found": "error" },
          },
        ],
      },
      merge: {
        needs: "shard",
        if: "always()",
        "runs-on": "ubuntu-latest",
        steps: [
          ...setup,
          { uses: "actions/download-artifact@v4", with: { pattern: "shard-*", path: "shards" } },
          { run: `${DENO} task merge --out merged shards/*` },
          {
            uses: "actions/upload-artifact@v4",
            if: "always()",
            with: { name: "merged", path: "merged/" },
          },
        ],
      },
    },
  };
  return [
    ...comment.map((l) => `# ${l}`),
    "# GitHub-hosted runners stop a job after 6 hours: choose --shards so that shards fit.",
    stringify(workflow, { lineWidth: 0 }),
  ].join("\n");
}
