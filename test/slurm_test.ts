/**
 * The emitted sbatch script on a real (one-node) Slurm cluster: the canaries' smoke plan in 3
 * shards, merged, must hold the same runs, config hashes, numbers and fingerprints as one local
 * `bench --jobs 1` of the same plan; submitting it again reuses every run. The cluster comes
 * from Debian's slurm-wlm and munge (scripts/slurm-local.sh, as root; .ci/run installs them);
 * without them the test is skipped and says why.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import type { SuiteSummary } from "../src/cli/summary.ts";
import { CONFIG_DIR } from "../src/config/load.ts";
import type { Result } from "../src/record/result.ts";
import { runBench } from "./helpers.ts";

const ROOT = join(CONFIG_DIR, "..");
const LOCAL_CLUSTER = join(ROOT, "scripts", "slurm-local.sh");
const PLAN = ["gaussian-moments", "mnist-mlp", "--profile", "smoke", "--seeds", "1,2,3"];
const SHARDS = 3;
/** Long enough for 6 smoke runs on 2 busy cores, twice. */
const WAIT_SECONDS = 20 * 60;

async function sh(command: string): Promise<{ code: number; out: string }> {
  const r = await new Deno.Command("bash", {
    args: ["-c", command],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: r.code, out: dec.decode(r.stdout) + dec.decode(r.stderr) };
}

async function skipReason(): Promise<string | null> {
  const found = await sh("command -v sbatch && command -v squeue && command -v scontrol")
    .catch(() => ({ code: 1 }));
  if (found.code !== 0) {
    return "sbatch is not installed (apt-get install slurm-wlm munge; .ci/run does)";
  }
  if ((await sh(`${LOCAL_CLUSTER} status`)).code === 0) return null;
  if (Deno.uid() !== 0) {
    return "no Slurm node is up here, and only root can start one (scripts/slurm-local.sh up)";
  }
  return null;
}

const reason = await skipReason();
if (reason) console.log(`slurm_test: skipped: ${reason}`);

const read = <T>(path: string): T => JSON.parse(Deno.readTextFileSync(path));

/** Submits the emitted script with `bash` (array + merge); returns the two job ids. */
async function submit(script: string): Promise<[string, string]> {
  const r = await sh(`nice -n 10 bash ${script}`);
  const m = /submitted job array (\d+) \(\d+ shards\) and merge job (\d+)/.exec(r.out);
  assert.ok(m && r.code === 0, r.out);
  return [m[1], m[2]];
}

/** Waits until the jobs have left the queue; then every job and array task must be COMPLETED. */
async function waitFor(jobs: string[], logs: string): Promise<void> {
  const until = Date.now() + WAIT_SECONDS * 1000;
  while ((await sh(`squeue -h -j ${jobs.join(",")} -o %i 2>/dev/null`)).out.trim() !== "") {
    if (Date.now() > until) {
      await sh(`scancel ${jobs.join(" ")}`);
      assert.fail(`jobs ${jobs} still queued after ${WAIT_SECONDS} s:\n${await tail(logs)}`);
    }
    await new Promise((r) => setTimeout(r, 2000));
  }
  for (const job of jobs) {
    const shown = (await sh(`scontrol -o show job ${job}`)).out.trim().split("\n");
    const states = shown.map((l) => /JobState=(\S+).* ExitCode=(\S+)/.exec(l)?.slice(1).join(" "));
    assert.deepEqual(
      states,
      shown.map(() => "COMPLETED 0:0"),
      `job ${job}: ${states}\n${await tail(logs)}`,
    );
  }
}

async function tail(logs: string): Promise<string> {
  return (await sh(`tail -n 15 ${logs}/*.log`)).out;
}

Deno.test({
  name: "slurm: the emitted job array and merge give the local run's numbers; resubmitting reuses",
  ignore: reason !== null,
  async fn() {
    const started = (await sh(`${LOCAL_CLUSTER} status`)).code !== 0;
    if (started) {
      const up = await sh(`${LOCAL_CLUSTER} up`);
      assert.equal(up.code, 0, up.out);
    }
    const root = await Deno.makeTempDir({ prefix: "ganbench-slurm-" });
    const [local, shared, script] = ["local", "shared", "suite.sbatch"].map((n) => join(root, n));
    try {
      const alone = await runBench([...PLAN, "--jobs", "1", "--out", local]);
      assert.equal(alone.code, 0, alone.stderr);

      const emitted = await runBench([
        ...PLAN,
        "--emit",
        "slurm",
        "--shards",
        String(SHARDS),
        "--out",
        shared,
      ]);
      assert.equal(emitted.code, 0, emitted.stderr);
      Deno.writeTextFileSync(script, emitted.stdout);
      const t0 = performance.now();
      const jobs = await submit(script);
      await waitFor(jobs, join(shared, "slurm"));
      const clusterSeconds = (performance.now() - t0) / 1000;
      console.log(`slurm: ${SHARDS} shards and the merge took ${clusterSeconds.toFixed(0)} s`);

      const mine = read<SuiteSummary>(join(local, "suite.json"));
      const merged = read<SuiteSummary>(join(shared, "suite.json"));
      assert.deepEqual(
        merged.runs.map((o) => [o.key, o.status]),
        mine.runs.map((o) => [o.key, o.status]),
      );
      assert.equal(mine.runs.length, 6);
      assert.ok(mine.runs.every((o) => o.status === "completed"), JSON.stringify(mine.runs));
      assert.ok(Deno.statSync(join(shared, "index.html")).isFile);
      const results = new Map<string, string>();
      for (const { key } of mine.runs) {
        const a = read<Result>(join(local, key, "result.json"));
        const b = read<Result>(join(shared, key, "result.json"));
        assert.equal(b.configHash, a.configHash, key);
        assert.deepEqual(b.metrics, a.metrics, key);
        assert.deepEqual(b.fingerprints, a.fingerprints, key);
        assert.ok(b.fingerprints.length > 0, key);
        results.set(key, Deno.readTextFileSync(join(shared, key, "result.json")));
      }

      // a second submission finds every run done: reused, nothing rewritten
      const t1 = performance.now();
      const again = await submit(script);
      await waitFor(again, join(shared, "slurm"));
      console.log(`slurm: the resubmission took ${((performance.now() - t1) / 1000).toFixed(0)} s`);
      const second = read<SuiteSummary>(join(shared, "suite.json"));
      assert.deepEqual(second.runs.map((o) => o.status), mine.runs.map(() => "reused"));
      for (const [key, text] of results) {
        assert.equal(Deno.readTextFileSync(join(shared, key, "result.json")), text, key);
      }
    } finally {
      await Deno.remove(root, { recursive: true });
      if (started) await sh(`${LOCAL_CLUSTER} down`);
    }
  },
});
