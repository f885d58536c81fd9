/**
 * `--shard I/N`: the I-th of N deterministic parts of a plan, for a cluster's job array or a CI
 * matrix. A stacked stage and every stage it builds on (same seed) form one unit that never
 * splits, so no shard waits on another. Units go, longest first, to the shard with the least
 * estimated time so far (ties: the lower shard), and each shard keeps the plan's run order.
 * Loads configs only; no TF.js.
 */
import { createHash } from "node:crypto";
import type { Task } from "./plan.ts";
import { UsageError } from "./args.ts";

export interface ShardSpec {
  /** 1-based. */
  index: number;
  count: number;
}

export function parseShard(text: string): ShardSpec {
  const m = /^([1-9]\d*)\/([1-9]\d*)$/.exec(text);
  if (!m || Number(m[1]) > Number(m[2])) {
    throw new UsageError(`--shard: found "${text}"; expected I/N with 1 ≤ I ≤ N, e.g. 2/4`);
  }
  return { index: Number(m[1]), count: Number(m[2]) };
}

/**
 * Seconds each task is counted as when balancing: its estimate, or (none known: TFD's epochs
 * depend on a file's size) the longest estimate in the plan, so an unknown run is never
 * assumed short; 1 when no run has an estimate.
 */
export function balancingSeconds(tasks: readonly Task[]): (t: Task) => number {
  const known = tasks.map((t) => t.estimate.seconds).filter((s): s is number => s !== null);
  const fallback = known.length ? Math.max(...known) : 1;
  return (t) => t.estimate.seconds ?? fallback;
}

/** The plan's tasks grouped so that each stage is with the stages it builds on (plan order). */
export function units(tasks: readonly Task[]): Task[][] {
  const byKey = new Map(tasks.map((t) => [t.key, t]));
  // each stage builds on at most one: follow the chain to its first stage
  const first = (t: Task): string => {
    let u = t;
    while (u.after && byKey.has(u.after)) u = byKey.get(u.after)!;
    return u.key;
  };
  const groups = new Map<string, Task[]>();
  for (const t of tasks) groups.set(first(t), [...(groups.get(first(t)) ?? []), t]);
  return [...groups.values()];
}

/** All N shards of the plan, each a list of tasks in plan order (a shard may be empty). */
export function assignShards(tasks: readonly Task[], count: number): Task[][] {
  const seconds = balancingSeconds(tasks);
  const order = new Map(tasks.map((t, i) => [t.key, i]));
  const cost = (u: Task[]) => u.reduce((s, t) => s + seconds(t), 0);
  const sorted = units(tasks).sort((a, b) =>
    cost(b) - cost(a) || order.get(a[0].key)! - order.get(b[0].key)!
  );
  const shards: Task[][] = Array.from({ length: count }, () => []);
  const loads = new Array<number>(count).fill(0);
  for (const unit of sorted) {
    const least = loads.indexOf(Math.min(...loads));
    shards[least].push(...unit);
    loads[least] += cost(unit);
  }
  return shards.map((s) => s.sort((a, b) => order.get(a.key)! - order.get(b.key)!));
}

/** Shard I of N (the tasks it runs, in plan order). */
export function shardTasks(tasks: readonly Task[], spec: ShardSpec): Task[] {
  return assignShards(tasks, spec.count)[spec.index - 1];
}

/**
 * Names the whole plan and its split: the same experiments, seeds, resolved configs and N give
 * the same id, so a merge can tell shards of one submission from another's.
 */
export function planId(tasks: readonly Task[], count: number): string {
  const runs = tasks.map((t) => [t.key, t.resolved.configHash]);
  return createHash("sha256").update(JSON.stringify({ count, runs })).digest("hex").slice(0, 16);
}
