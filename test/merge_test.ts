/** Shards run twice, --continue, and deno task merge: one index, refusals, missing shards. */
import assert from "node:assert/strict";
import { cpSync } from "node:fs";
import { join } from "node:path";
import type { ShardRecord } from "../src/cli/merge.ts";
import type { SuiteSummary } from "../src/cli/summary.ts";
import type { Result } from "../src/record/result.ts";
import { runBench, runDeno } from "./helpers.ts";

const budget = (n: number) => ["--set", `training.budget={"iterations":${n}}`];
const PLAN = ["gaussian-moments", "--profile", "smoke", "--seeds", "1,2", "--backend", "wasm"];
const read = <T>(path: string): T => JSON.parse(Deno.readTextFileSync(path));
const result = (dir: string, seed: number) =>
  read<Result>(join(dir, "gaussian-moments", `seed-${seed}`, "result.json"));
const merge = (args: string[]) =>
  runDeno([
    "run",
    "--allow-read",
    "--allow-write",
    "--allow-env",
    "--allow-ffi",
    "--allow-sys=homedir",
    "src/cli/merge.ts",
    ...args,
  ]);

Deno.test("shards, re-submission, --continue and merge", async (t) => {
  const root = await Deno.makeTempDir({ prefix: "ganbench-merge-" });
  const [a, b] = [join(root, "a"), join(root, "b")];
  try {
    await t.step("a shard run twice reuses its completed run, byte for byte", async () => {
      const first = await runBench([...PLAN, ...budget(20), "--out", a, "--shard", "1/2"]);
      assert.equal(first.code, 0, first.stderr);
      const bytes = Deno.readTextFileSync(join(a, "gaussian-moments/seed-1/result.json"));
      // the shard's record, not suite.json: shards may share a folder
      assert.throws(() => Deno.statSync(join(a, "suite.json")), Deno.errors.NotFound);
      const again = await runBench([...PLAN, ...budget(20), "--out", a, "--shard", "1/2"]);
      assert.equal(again.code, 0, again.stderr);
      assert.match(again.stdout, /gaussian-moments seed 1: reusing the completed run in /);
      assert.equal(Deno.readTextFileSync(join(a, "gaussian-moments/seed-1/result.json")), bytes);
      const record = read<ShardRecord>(join(a, "shards/shard-1-of-2.json"));
      assert.deepEqual(record.summary.runs.map((o) => [o.key, o.status]), [
        ["gaussian-moments/seed-1", "reused"],
      ]);
      assert.deepEqual(record.runs.map((r) => [r.key, r.shard]), [
        ["gaussian-moments/seed-1", 1],
        ["gaussian-moments/seed-2", 2],
      ]);
      const other = await runBench([...PLAN, ...budget(20), "--out", b, "--shard", "2/2"]);
      assert.equal(other.code, 0, other.stderr);
    });

    await t.step(
      "--continue starts a missing run, then resumes it from its checkpoint",
      async () => {
        const c = join(root, "c");
        const args = ["gaussian-moments", "--profile", "smoke", "--backend", "wasm", "--out", c];
        const start = await runBench([...args, ...budget(10), "--continue"]);
        assert.equal(start.code, 0, start.stderr);
        const more = await runBench([...args, ...budget(20), "--continue"]);
        assert.equal(more.code, 0, more.stderr);
        assert.match(more.stderr, /extending the run \(a new budget\) from iteration 10/);
        // the resumed run ends exactly where the uninterrupted shard run of 20 did
        assert.deepEqual(result(c, 1).fingerprints.at(-1), result(a, 1).fingerprints.at(-1));
        assert.deepEqual(result(c, 1).metrics, result(a, 1).metrics);
        // a run that stopped after its last checkpoint and before its result (same config)
        const reference = result(c, 1);
        Deno.removeSync(join(c, "gaussian-moments/seed-1/result.json"));
        const resumed = await runBench([...args, ...budget(20), "--continue"]);
        assert.equal(resumed.code, 0, resumed.stderr);
        assert.match(resumed.stderr, /gaussian-moments seed 1: resuming at iteration 20/);
        assert.deepEqual(result(c, 1).fingerprints, reference.fingerprints);
        assert.deepEqual(result(c, 1).metrics, reference.metrics);
        const both = await runBench([...args, "--continue", "--resume"]);
        assert.equal(both.code, 2);
        assert.match(
          both.stderr,
          /^error: --continue already resumes the runs that have a checkpoint: drop --resume$/m,
        );
      },
    );

    await t.step("merge: folders of one submission into one index and suite summary", async () => {
      const m = join(root, "merged");
      const r = await merge(["--out", m, a, b]);
      assert.equal(r.code, 0, r.stderr);
      const suite = read<SuiteSummary>(join(m, "suite.json"));
      assert.deepEqual(suite.runs.map((o) => [o.key, o.status, o.dir]), [
        ["gaussian-moments/seed-1", "reused", join(m, "gaussian-moments/seed-1")],
        ["gaussian-moments/seed-2", "completed", join(m, "gaussian-moments/seed-2")],
      ]);
      assert.deepEqual(suite.seeds, [1, 2]);
      assert.deepEqual(result(m, 2), result(b, 2));
      assert.ok(Deno.statSync(join(m, "index.html")).isFile);
      assert.match(Deno.readTextFileSync(join(m, "index.html")), /gaussian-moments/);
      assert.deepEqual([...Deno.readDirSync(join(m, "shards"))].map((e) => e.name).sort(), [
        "shard-1-of-2.json",
        "shard-2-of-2.json",
      ]);
      assert.match(r.stdout, /\(2 run folders copied\)/);
      // merging again in place changes nothing and copies nothing
      const again = await merge([m]);
      assert.equal(again.code, 0, again.stderr);
      assert.doesNotMatch(again.stdout, /copied/);
    });

    await t.step("merge: a shard without a record is listed with its runs (exit 1)", async () => {
      const r = await merge(["--out", join(root, "partial"), a]);
      assert.equal(r.code, 1);
      assert.match(
        r.stderr,
        /^missing shard 2\/2 \(gaussian-moments\/seed-2\): it left no record$/m,
      );
    });

    await t.step("merge: refuses a run whose config hash differs between folders", async () => {
      const d = join(root, "d");
      cpSync(b, d, { recursive: true });
      const path = join(d, "gaussian-moments/seed-2/result.json");
      Deno.writeTextFileSync(path, JSON.stringify({ ...read<Result>(path), configHash: "0ther" }));
      const r = await merge(["--out", join(root, "mixed"), b, d]);
      assert.equal(r.code, 2);
      const hash = result(b, 2).configHash;
      assert.equal(
        r.stderr.trim(),
        `error: merge refused: gaussian-moments/seed-2: config hash ${hash} in ${
          join(b, "gaussian-moments/seed-2")
        }, 0ther in ${join(d, "gaussian-moments/seed-2")}; the plan's is ${hash}; runs of ` +
          "different configs cannot share one index (re-run it with the plan's config, or " +
          "merge into another --out)",
      );
    });

    await t.step("merge: refuses shard records of different plans", async () => {
      const e = join(root, "e");
      cpSync(a, e, { recursive: true });
      const path = join(e, "shards/shard-1-of-2.json");
      Deno.writeTextFileSync(path, JSON.stringify({ ...read<ShardRecord>(path), plan: "other" }));
      const r = await merge(["--out", join(root, "plans"), e, b]);
      assert.equal(r.code, 2);
      assert.match(
        r.stderr,
        /^error: merge refused: the shard records belong to 2 different plans: /,
      );
      assert.match(r.stderr, /merge the shards of one submission/);
      const usage = await merge([a, b]);
      assert.equal(usage.code, 2);
      assert.match(usage.stderr, /^error: several FOLDERs: give --out DIR$/m);
    });
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
