/**
 * `deno task merge [--out DIR] FOLDER...`: one index and one suite summary from the output
 * folders of `bench --shard` (one folder the shards shared, or one per shard, e.g. CI
 * artifacts). Every shard leaves a record in <folder>/shards/; a merge refuses records of
 * different plans and run folders whose config hashes disagree for the same experiment and
 * seed, lists the shards that left no record, and copies run folders into --out when there
 * are several folders.
 * Exit 0: every shard recorded and no run failed; 1: a shard is missing or a run failed or was
 * interrupted; 2: a usage error or a refusal (mixed plans or configs).
 */
import { cpSync, existsSync, mkdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { writeFileAtomic } from "../util/atomic.ts";
import type { Task } from "./plan.ts";
import type { ShardSpec } from "./shard.ts";
import {
  missedBands,
  type Outcome,
  SUITE_FORMAT,
  type SuiteSummary,
  summaryLines,
  writeSummary,
} from "./summary.ts";

export const SHARD_FORMAT = 1;

/** What one `bench --shard I/N` leaves in <out>/shards/. */
export interface ShardRecord {
  format: typeof SHARD_FORMAT;
  /** planId: the same for every shard of one submission. */
  plan: string;
  shard: number;
  count: number;
  /** Every run of the whole plan, in plan order, with its config hash and shard. */
  runs: { key: string; configHash: string; shard: number }[];
  summary: SuiteSummary;
}

export const shardRecordPath = (out: string, { index, count }: ShardSpec) =>
  join(out, "shards", `shard-${index}-of-${count}.json`);

export async function writeShardRecord(
  out: string,
  spec: ShardSpec,
  plan: readonly Task[],
  mine: readonly Task[],
  summary: SuiteSummary,
): Promise<string> {
  const { assignShards, planId } = await import("./shard.ts");
  const shards = assignShards(plan, spec.count);
  const shardOf = new Map(shards.flatMap((s, i) => s.map((t) => [t.key, i + 1])));
  const record: ShardRecord = {
    format: SHARD_FORMAT,
    plan: planId(plan, spec.count),
    shard: spec.index,
    count: spec.count,
    runs: plan.map((t) => ({
      key: t.key,
      configHash: t.resolved.configHash,
      shard: shardOf.get(t.key)!,
    })),
    summary: { ...summary, runs: summary.runs.filter((o) => mine.some((t) => t.key === o.key)) },
  };
  const path = shardRecordPath(out, spec);
  await writeFileAtomic(path, JSON.stringify(record, null, 2) + "\n");
  return path;
}

/** A merge that cannot be done (mixed plans or configs): exit 2 with this message. */
export class MergeRefusal extends Error {}

interface RunFolder {
  key: string;
  folder: string;
  dir: string;
  configHash: string | null;
  hasResult: boolean;
}

function readJson<T>(path: string): T | null {
  try {
    return JSON.parse(Deno.readTextFileSync(path));
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw new Error(`${path}: ${(e as Error).message}`);
  }
}

function listDir(path: string): Deno.DirEntry[] {
  try {
    return [...Deno.readDirSync(path)];
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return [];
    throw e;
  }
}

export function readShardRecords(folder: string): { record: ShardRecord; path: string }[] {
  return listDir(join(folder, "shards"))
    .filter((e) => e.isFile && /^shard-\d+-of-\d+\.json$/.test(e.name))
    .map((e) => join(folder, "shards", e.name))
    .sort()
    .map((path) => ({ record: readJson<ShardRecord>(path)!, path }));
}

/** Every `<experiment>/seed-<N>/` folder with a config.json, result.json or skipped.json. */
function runFolders(folder: string): RunFolder[] {
  const found: RunFolder[] = [];
  for (const exp of listDir(folder)) {
    if (!exp.isDirectory || exp.name === "shards") continue;
    for (const run of listDir(join(folder, exp.name))) {
      if (!run.isDirectory || !/^seed-\d+$/.test(run.name)) continue;
      const dir = join(folder, exp.name, run.name);
      const config = readJson<{ configHash?: string }>(join(dir, "config.json"));
      const skipped = readJson<{ configHash?: string }>(join(dir, "skipped.json"));
      const result = readJson<{ configHash?: string }>(join(dir, "result.json"));
      const configHash = result?.configHash ?? config?.configHash ?? skipped?.configHash ?? null;
      if (!config && !skipped && !result) continue;
      found.push({ key: `${exp.name}/${run.name}`, folder, dir, configHash, hasResult: !!result });
    }
  }
  return found;
}

export interface MergeReport {
  summary: SuiteSummary | null;
  /** "2/3 (mnist-mlp/seed-2, gaussian-moments/seed-1)", one per shard without a record. */
  missingShards: string[];
  /** Run folders copied into the output folder. */
  copied: number;
}

/** Merges `folders` into `out` (which may be one of them); throws MergeRefusal. */
export async function merge(folders: string[], out: string): Promise<MergeReport> {
  const sources = [...new Set([...folders.map((f) => resolve(f)), resolve(out)])]
    .filter((f) => existsSync(f));
  const records = sources.flatMap(readShardRecords);

  // one submission only: the same plan (configs, seeds, N) in every record
  const plans = [...new Set(records.map((r) => r.record.plan))];
  if (plans.length > 1) {
    const where = plans.map((p) => {
      const r = records.find((x) => x.record.plan === p)!;
      return `plan ${p} (${r.path})`;
    });
    throw new MergeRefusal(
      `the shard records belong to ${plans.length} different plans: ${where.join(", ")}; ` +
        "merge the shards of one submission (same experiments, seeds, configs and N) at a time",
    );
  }
  const planned = new Map(records[0]?.record.runs.map((r) => [r.key, r]) ?? []);

  // one config per run: the plan's, and the same in every folder that holds the run
  const byKey = new Map<string, RunFolder[]>();
  for (const run of sources.flatMap(runFolders)) {
    byKey.set(run.key, [...(byKey.get(run.key) ?? []), run]);
  }
  for (const [key, runs] of byKey) {
    const hashes = new Set(runs.map((r) => r.configHash));
    const expected = planned.get(key)?.configHash;
    if (hashes.size > 1 || (expected && !hashes.has(expected))) {
      const found = runs.map((r) => `${r.configHash ?? "none"} in ${r.dir}`);
      throw new MergeRefusal(
        `${key}: config hash ${found.join(", ")}` +
          (expected ? `; the plan's is ${expected}` : "") +
          "; runs of different configs cannot share one index (re-run it with the plan's " +
          "config, or merge into another --out)",
      );
    }
  }

  let copied = 0;
  const target = resolve(out);
  for (const [key, runs] of byKey) {
    if (runs.some((r) => r.folder === target)) continue;
    const best = runs.find((r) => r.hasResult) ?? runs[0];
    cpSync(best.dir, join(target, key), { recursive: true });
    copied++;
  }
  for (const { record, path } of records) {
    const copy = shardRecordPath(target, { index: record.shard, count: record.count });
    if (resolve(path) === copy) continue;
    mkdirSync(dirname(copy), { recursive: true });
    cpSync(path, copy);
  }

  const count = records[0]?.record.count ?? 0;
  const present = new Set(records.map((r) => r.record.shard));
  const missingShards: string[] = [];
  for (let i = 1; i <= count; i++) {
    if (present.has(i)) continue;
    const runs = [...planned.values()].filter((r) => r.shard === i).map((r) => r.key);
    missingShards.push(`${i}/${count} (${runs.length ? runs.join(", ") : "no runs"})`);
  }

  let summary: SuiteSummary | null = null;
  if (records.length) {
    const order = [...planned.keys()];
    const unique = new Map<number, ShardRecord>(records.map((r) => [r.record.shard, r.record]));
    const shards = [...unique.values()];
    const runs: Outcome[] = shards
      .flatMap((r) => r.summary.runs)
      .map((o) => ({ ...o, dir: join(out, o.key) }))
      .sort((a, b) => order.indexOf(a.key) - order.indexOf(b.key));
    const first = shards.map((r) => r.summary.startedAt).sort()[0];
    const seeds = [...new Set(order.map((k) => Number(k.split("/seed-")[1])))];
    summary = {
      format: SUITE_FORMAT,
      profile: shards[0].summary.profile,
      seeds,
      jobs: shards[0].summary.jobs,
      check: shards[0].summary.check,
      startedAt: first,
      // the longest shard: they ran side by side
      wallSeconds: Math.max(...shards.map((r) => r.summary.wallSeconds)),
      runs,
      missed: missedBands(runs),
    };
    await writeSummary(out, summary);
  }
  const { writeIndexPage } = await import("../report/build.ts");
  await writeIndexPage(out);
  return { summary, missingShards, copied };
}

const USAGE = `usage: deno task merge [--out DIR] FOLDER...

Builds one index (DIR/index.html) and one suite summary (DIR/suite.json) from the output
folders of \`bench --shard I/N\`: one folder the shards shared, or one folder per shard.

  --out DIR   where the merged index goes (default: the only FOLDER; required with several);
              run folders from the other FOLDERs are copied into it
  -h, --help  show this help

Exit 0: every shard recorded and no run failed; 1: a shard left no record, or a run failed or
was interrupted; 2: a usage error, shards of different plans, or a run whose config hash
differs between folders or from the plan.`;

export async function main(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: { out: { type: "string" }, help: { type: "boolean", short: "h", default: false } },
    });
  } catch (e) {
    console.error(`error: ${(e as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (parsed.values.help) {
    console.log(USAGE);
    return 0;
  }
  const folders = parsed.positionals;
  const out = parsed.values.out ?? (folders.length === 1 ? folders[0] : undefined);
  if (!folders.length || out === undefined) {
    console.error(
      `error: ${
        folders.length ? "several FOLDERs: give --out DIR" : "no FOLDER given"
      }\n\n${USAGE}`,
    );
    return 2;
  }
  const absent = folders.filter((f) => !existsSync(f));
  if (absent.length) {
    console.error(`error: no such folder: ${absent.join(", ")}`);
    return 2;
  }
  let report: MergeReport;
  try {
    report = await merge(folders, out);
  } catch (e) {
    if (e instanceof MergeRefusal) {
      console.error(`error: merge refused: ${e.message}`);
      return 2;
    }
    throw e;
  }
  const { summary, missingShards, copied } = report;
  if (summary) console.log(summaryLines(summary).join("\n"));
  console.log(
    `index of every run in ${out}: ${join(out, "index.html")}` +
      (copied ? ` (${copied} run folders copied)` : ""),
  );
  for (const m of missingShards) console.error(`missing shard ${m}: it left no record`);
  const bad = summary?.runs.filter((o) => o.status === "failed" || o.status === "interrupted");
  return missingShards.length || bad?.length ? 1 : 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
