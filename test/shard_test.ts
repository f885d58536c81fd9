/** --shard and --emit: balanced, deterministic parts; stacked stages together; exact limits. */
import assert from "node:assert/strict";
import { parse } from "yaml";
import {
  emitScript,
  limitMinutes,
  shardPlans,
  shellQuote,
  slurmMemoryMB,
  slurmTime,
} from "../src/cli/emit.ts";
import { UsageError } from "../src/cli/args.ts";
import { planTasks, type Task } from "../src/cli/plan.ts";
import { assignShards, parseShard, planId, shardTasks, units } from "../src/cli/shard.ts";
import { runBench } from "./helpers.ts";

const paperSuite = () =>
  planTasks({
    experiments: null,
    seeds: [1, 2, 3],
    profile: "paper",
    overrides: [],
    out: "reports",
    backend: "wasm",
  });
const canaries = () =>
  planTasks({
    experiments: ["gaussian-moments", "mnist-mlp"],
    seeds: [1, 2, 3],
    profile: "smoke",
    overrides: [],
    out: "/shared/out",
    backend: "wasm",
  });

/** A task of `seconds` (null: unknown) for the assignment alone. */
function fake(key: string, seconds: number | null, after: string | null = null): Task {
  return {
    key,
    after,
    seed: 1,
    dependency: false,
    dir: key,
    afterDir: null,
    resolved: { configHash: `hash-${key}` } as Task["resolved"],
    estimate: { iterations: null, seconds, memoryGB: 1 },
  };
}
const keys = (shards: Task[][]) => shards.map((s) => s.map((t) => t.key));

Deno.test("parseShard: I/N with 1 ≤ I ≤ N, else a usage error that shows the form", () => {
  assert.deepEqual(parseShard("2/4"), { index: 2, count: 4 });
  for (const bad of ["0/3", "4/3", "1", "a/b", "1/0", "-1/2", "1/2/3"]) {
    assert.throws(() => parseShard(bad), {
      name: "Error",
      message: `--shard: found "${bad}"; expected I/N with 1 ≤ I ≤ N, e.g. 2/4`,
    });
  }
  assert.throws(() => parseShard("3/2"), UsageError);
});

Deno.test("assignShards: longest unit first to the least-loaded shard; plan order inside", () => {
  const tasks = [fake("a", 3), fake("b", 5), fake("c", 4), fake("d", 3), fake("e", 3)];
  // b(5)→1, c(4)→2, a(3)→2 (7), d(3)→1 (8), e(3)→2 (10)
  assert.deepEqual(keys(assignShards(tasks, 2)), [["b", "d"], ["a", "c", "e"]]);
  // more shards than units: the extra ones are empty
  assert.deepEqual(keys(assignShards(tasks.slice(0, 2), 3)), [["b"], ["a"], []]);
  // an unknown estimate counts as the plan's longest (5), not as 0 (which would give
  // [["x"], ["y", "z", "w"]])
  const unknown = [fake("x", 5), fake("y", 1), fake("z", null), fake("w", 1)];
  assert.deepEqual(keys(assignShards(unknown, 2)), [["x", "y"], ["z", "w"]]);
});

Deno.test("assignShards: a stacked stage stays with the stage it builds on, in order", () => {
  const tasks = [
    fake("pre/seed-1", 4),
    fake("big/seed-1", 6),
    fake("top/seed-1", 4, "pre/seed-1"),
    fake("top2/seed-1", 1, "top/seed-1"),
  ];
  assert.deepEqual(units(tasks).map((u) => u.map((t) => t.key)), [
    ["pre/seed-1", "top/seed-1", "top2/seed-1"],
    ["big/seed-1"],
  ]);
  assert.deepEqual(keys(assignShards(tasks, 2)), [
    ["pre/seed-1", "top/seed-1", "top2/seed-1"],
    ["big/seed-1"],
  ]);
});

Deno.test("the paper suite: every run in exactly one shard, TFD stages together, balanced, stable", () => {
  const plan = paperSuite();
  assert.equal(plan.length, 21);
  for (const n of [1, 2, 5, 7, 18]) {
    const shards = assignShards(plan, n);
    const all = shards.flat().map((t) => t.key);
    assert.deepEqual([...all].sort(), plan.map((t) => t.key).sort(), `N=${n}`);
    for (const seed of [1, 2, 3]) {
      const holder = shards.findIndex((s) => s.some((t) => t.key === `tfd-mlp/seed-${seed}`));
      const keysThere = shards[holder].map((t) => t.key);
      assert.ok(
        keysThere.indexOf(`tfd-mlp-pretrain/seed-${seed}`) >= 0 &&
          keysThere.indexOf(`tfd-mlp-pretrain/seed-${seed}`) <
            keysThere.indexOf(`tfd-mlp/seed-${seed}`),
        `N=${n}: ${keysThere}`,
      );
    }
    // list scheduling's bound: no shard exceeds the mean load by more than the longest unit
    const plans = shardPlans(plan, n, 1);
    const loads = plans.map((p) => p.seconds);
    const unitSeconds = units(plan).map((u) =>
      u.reduce((s, t) => s + (t.estimate.seconds ?? Math.max(...loads)), 0)
    );
    const total = plans.reduce((s, p) => s + p.seconds, 0);
    assert.ok(Math.max(...loads) <= total / n + Math.max(...unitSeconds), `N=${n}: ${loads}`);
    // the same plan gives the same split, and shardTasks is its I-th part
    assert.deepEqual(keys(assignShards(paperSuite(), n)), keys(shards));
    assert.deepEqual(
      shardTasks(plan, { index: n, count: n }).map((t) => t.key),
      keys(shards)[n - 1],
    );
  }
  // 18 units (15 runs + 3 TFD pairs): with 18 shards, one unit each
  assert.equal(units(plan).length, 18);
  assert.deepEqual(
    assignShards(plan, 18).map((s) => s.length).sort(),
    [...new Array(15).fill(1), 2, 2, 2],
  );
  assert.equal(planId(plan, 7), planId(paperSuite(), 7));
  assert.notEqual(planId(plan, 7), planId(plan, 6));
});

Deno.test("slurmTime and slurmMemoryMB: estimate × 1.5 + 10 min, memory × 1.25 + 0.5 GB", () => {
  assert.equal(limitMinutes(0), 10);
  assert.equal(slurmTime(0), "0-00:10:00");
  assert.equal(slurmTime(36.8), "0-00:11:00"); // 655.2 s → 11 min
  assert.equal(slurmTime(100_000), "1-17:50:00"); // 150,600 s = 2,510 min
  assert.equal(slurmMemoryMB(2.5), 3712); // 3.625 GB
  assert.equal(slurmMemoryMB(9), 12032); // 11.75 GB
  assert.equal(shellQuote("a/b-c.json"), "a/b-c.json");
  assert.equal(shellQuote(`x={"y":1}`), `'x={"y":1}'`);
  assert.equal(shellQuote("it's"), `'it'\\''s'`);
});

Deno.test("--emit slurm: array, limits from the configs' cost, merge after the array", () => {
  const plan = canaries();
  const script = emitScript("slurm", plan, {
    planArgs: ["gaussian-moments", "mnist-mlp", "--profile", "smoke", "--seeds", "1,2,3"],
    out: "/shared/out",
    shards: 3,
    blasThreads: 2,
    jobs: 1,
  });
  const lines = script.split("\n");
  // wasm: gaussian-moments 3 + 0.04 × 300 = 15 s, mnist-mlp 11 + 0.18 × 60 = 21.8 s; one of
  // each per shard (36.8 s → 11 min); memory: mnist-mlp's 1.1 GB (the memory model,
  // src/cli/memory-model.ts) → 1.1 × 1.25 + 0.5 = 1.9 GB
  for (
    const line of [
      "#SBATCH --array=1-3",
      "#SBATCH --time=0-00:11:00",
      "#SBATCH --mem=1920M",
      "#SBATCH --cpus-per-task=2",
      "#SBATCH --output=/shared/out/slurm/%A-shard-%a.log",
      "#   shard 1: ~37s, ~1.1 GB: gaussian-moments/seed-1, mnist-mlp/seed-1",
      "#   shard 3: ~37s, ~1.1 GB: gaussian-moments/seed-3, mnist-mlp/seed-3",
      'exec npx -y deno@2.9.6 task bench gaussian-moments mnist-mlp --profile smoke --seeds 1,2,3 --out /shared/out --shard "${SLURM_ARRAY_TASK_ID}/3"',
    ]
  ) assert.ok(lines.includes(line), `missing: ${line}\n${script}`);
  const merge = lines.find((l) => l.includes("--job-name=ganbench-merge"))!;
  assert.match(merge, / --dependency=afterany:\$\{array\} /);
  assert.match(merge, / --time=0-00:10:00 --mem=1792M --cpus-per-task=1 /);
  assert.match(merge, /--wrap='cd \S+ && npx -y deno@2\.9\.6 task merge \/shared\/out'\)$/);
  // stacked stages never span shards, so the array's tasks wait on nothing
  assert.equal(lines.filter((l) => l.includes("--dependency")).length, 1);

  // --jobs 2 inside a shard: both runs at once, so their memory adds up and time is the longer
  const two = emitScript("slurm", plan, {
    planArgs: [],
    out: "/o",
    shards: 3,
    blasThreads: 1,
    jobs: 2,
  }).split("\n");
  assert.ok(two.includes("#SBATCH --mem=2432M"), two.join("\n")); // ((0.4 + 1.1) × 1.25 + 0.5) GB
  assert.ok(two.includes("#SBATCH --cpus-per-task=2"));
  assert.ok(two.includes("#SBATCH --time=0-00:11:00")); // 21.8 s × 1.5 + 600 s → 11 min

  assert.throws(
    () =>
      emitScript("slurm", plan, { planArgs: [], out: "/o", shards: 7, blasThreads: 1, jobs: 1 }),
    {
      message:
        "--shards: found 7; this plan splits into at most 6 parts (a stacked stage stays with the stage it builds on)",
    },
  );
});

Deno.test("--emit github-actions: a matrix over the shards, an artifact each, a merge job", () => {
  const text = emitScript("github-actions", canaries(), {
    planArgs: ["gaussian-moments", "mnist-mlp", "--profile", "smoke", "--set", 'a={"b":1}'],
    out: "ignored",
    shards: 2,
    blasThreads: 1,
    jobs: 1,
  });
  const wf = parse(text);
  assert.deepEqual(Object.keys(wf), ["name", "on", "jobs"]);
  assert.deepEqual(wf.on, { workflow_dispatch: {} });
  const shard = wf.jobs.shard;
  assert.deepEqual(shard.strategy, { "fail-fast": false, matrix: { shard: [1, 2] } });
  assert.equal(shard["runs-on"], "ubuntu-latest");
  // 3 runs per shard, the longest 3 × 21.8 s → 65.4 × 1.5 + 600 = 698.1 s → 12 min
  assert.equal(shard["timeout-minutes"], 12);
  assert.deepEqual(shard.steps.map((s: { uses?: string; run?: string }) => s.uses ?? "run"), [
    "actions/checkout@v4",
    "actions/setup-node@v4",
    "run",
    "actions/upload-artifact@v4",
  ]);
  assert.equal(
    shard.steps[2].run,
    `npx -y deno@2.9.6 task bench gaussian-moments mnist-mlp --profile smoke --set 'a={"b":1}' --out out --shard \${{ matrix.shard }}/2`,
  );
  assert.deepEqual(shard.steps[3], {
    uses: "actions/upload-artifact@v4",
    if: "always()",
    with: { name: "shard-${{ matrix.shard }}", path: "out/", "if-no-files-found": "error" },
  });
  const merge = wf.jobs.merge;
  assert.equal(merge.needs, "shard");
  assert.equal(merge.if, "always()");
  assert.deepEqual(merge.steps[2], {
    uses: "actions/download-artifact@v4",
    with: { pattern: "shard-*", path: "shards" },
  });
  assert.equal(merge.steps[3].run, "npx -y deno@2.9.6 task merge --out merged shards/*");
  // every step is either a `uses` or a `run`, as the workflow schema requires
  for (const job of Object.values(wf.jobs) as { steps: Record<string, unknown>[] }[]) {
    for (const step of job.steps) assert.ok(("uses" in step) !== ("run" in step), String(step));
  }
});

Deno.test("bench --emit forwards the plan's arguments, not where or how it runs", async () => {
  const r = await runBench([
    "gaussian-moments",
    "--profile=smoke",
    "--out",
    "/tmp/x",
    "--set",
    "training.budget.iterations=20",
    "--emit",
    "slurm",
    "--shards=1",
    "--backend",
    "wasm",
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(
    r.stdout,
    /^exec npx -y deno@2\.9\.6 task bench gaussian-moments --profile=smoke --set training\.budget\.iterations=20 --backend wasm --out \/tmp\/x --shard "\$\{SLURM_ARRAY_TASK_ID\}\/1"$/m,
  );
  // 3 + 0.04 × 20 = 3.8 s → 605.7 s → 11 min
  assert.match(r.stdout, /^#SBATCH --time=0-00:11:00$/m);

  const bad = await runBench(["gaussian-moments", "--shards", "2"]);
  assert.equal(bad.code, 2);
  assert.match(
    bad.stderr,
    /^error: --shards N sizes an emitted script: add --emit slurm\|github-actions$/m,
  );
  const both = await runBench(["gaussian-moments", "--emit", "slurm", "--shard", "1/2"]);
  assert.equal(both.code, 2);
  assert.match(both.stderr, /^error: --emit writes every shard's job: drop --shard$/m);
});

Deno.test("bench --list --shard I/N: the part and its plan", async () => {
  const r = await runBench([
    "gaussian-moments",
    "mnist-mlp",
    "--profile",
    "smoke",
    "--seeds",
    "1,2,3",
    "--backend",
    "wasm",
    "--list",
    "--shard",
    "2/3",
  ]);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split("\n");
  assert.equal(lines[0], `shard 2/3 of plan ${planId(canaries(), 3)}: 2 of 6 runs`);
  assert.match(lines[1], /^gaussian-moments\/seed-2 +smoke +300 iterations +~15s, ~0\.4 GB/);
  assert.match(lines[2], /^mnist-mlp\/seed-2 +smoke +60 iterations +~22s, ~1\.1 GB/);
  assert.match(lines[3], /^2 runs; estimated 37s one after another$/);
});
