/** Suites, --list, --jobs and the canaries: a broken harness must fail `bench --check`. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { RESULT_METRICS } from "../src/config/metric-names.ts";
import { openBlas } from "../src/backend/openblas.ts";
import { estimate, planTasks } from "../src/cli/plan.ts";
import { estimateMemory } from "../src/cli/memory-model.ts";
import { formatDuration } from "../src/cli/progress.ts";
import { loadConfig } from "../src/config/load.ts";
import type { SuiteSummary } from "../src/cli/summary.ts";
import type { Result } from "../src/record/result.ts";
import { runBench, setsOf } from "./helpers.ts";

const read = (dir: string, run: string): Result =>
  JSON.parse(Deno.readTextFileSync(join(dir, run, "result.json")));
const suite = (dir: string): SuiteSummary =>
  JSON.parse(Deno.readTextFileSync(join(dir, "suite.json")));

Deno.test("--list: the suite is every config but the blog variant, 3 seeds, each with an estimate", async () => {
  const r = await runBench(["--list"]);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split("\n");
  const keys = lines.filter((l) => /\/seed-\d /.test(l)).map((l) => l.split(" ")[0]);
  const configs = [
    "cifar10-conv",
    "cifar10-mlp",
    "gaussian-moments",
    "mnist-mlp",
    "mnist-tutorial",
    "tfd-mlp-pretrain", // before the stage that builds on it
    "tfd-mlp",
  ];
  assert.deepEqual(keys, [1, 2, 3].flatMap((s) => configs.map((c) => `${c}/seed-${s}`)));
  // fixedSeconds[profile] + secondsPerIteration × iterations, as the config file states them
  const cost = (name: string) => {
    const c = JSON.parse(Deno.readTextFileSync(`configs/${name}.json`)).cost;
    // bench resolves auto to wasm+openblas where OpenBLAS loads (the CLI has --allow-ffi)
    return {
      ...c,
      secondsPerIteration: c.secondsPerIteration[openBlas() ? "wasm+openblas" : "wasm"],
    };
  };
  const line = (key: string) => lines.find((l) => l.startsWith(`${key} `))!;
  const g = cost("gaussian-moments");
  assert.match(
    line("gaussian-moments/seed-1"),
    new RegExp(
      `paper +5000 iterations +~${
        formatDuration(g.fixedSeconds.paper + g.secondsPerIteration * 5000)
      }`,
    ),
  );
  // 750 epochs of ⌈50,000 / 100⌉ batches
  assert.match(line("mnist-mlp/seed-2"), /paper +375000 iterations/);
  assert.match(line("tfd-mlp/seed-3"), /\? iterations +time unknown/);
  assert.match(r.stdout, /^21 runs; estimated /m);

  const smoke = await runBench(["gaussian-moments", "--profile", "smoke", "--list"]);
  const s = cost("gaussian-moments");
  assert.match(
    smoke.stdout,
    new RegExp(
      `^gaussian-moments/seed-1 +smoke +300 iterations +~${
        formatDuration(s.fixedSeconds.smoke + s.secondsPerIteration * 300)
      }, ~${
        Number(
          estimateMemory(loadConfig("gaussian-moments", { profile: "smoke" }).config)
            .totalGB.toPrecision(2),
        )
      } GB +\\(\\d+ bands\\)$`,
      "m",
    ),
  );
});

Deno.test("--jobs 2 gives the numbers of --jobs 1; a stage waits for the one it builds on; skips are listed", async () => {
  const one = Deno.makeTempDirSync(), two = Deno.makeTempDirSync();
  const sets = ["--set", "training.budget.iterations=20", "--set", "training.logEvery=5"];
  const args = [
    ...["gaussian-moments", "tfd-mlp", "--profile", "smoke", "--seeds", "1,2", ...sets],
    ...["--tfd", "/nonexistent/TFD_48x48.mat"],
  ];
  const a = await runBench([...args, "--out", one]);
  assert.equal(a.code, 0, a.stderr);
  const b = await runBench([...args, "--out", two, "--jobs", "2"]);
  assert.equal(b.code, 0, b.stderr);
  // --set more than the budget: variants, each in its own <experiment>+<hash> folder
  const folder = (e: string) => loadConfig(e, { profile: "smoke", overrides: setsOf(sets) }).folder;
  const [g, pre, tfd] = ["gaussian-moments", "tfd-mlp-pretrain", "tfd-mlp"].map(folder);
  assert.match(g, /^gaussian-moments\+[0-9a-f]{8}$/);
  for (const seed of [1, 2]) {
    const run = `${g}/seed-${seed}`;
    const [x, y] = [read(one, run), read(two, run)];
    for (const key of ["fingerprints", "history", "metrics", "checks", "draws"] as const) {
      assert.equal(JSON.stringify(x[key]), JSON.stringify(y[key]), `${run} ${key}`);
    }
    assert.deepEqual(x.fingerprints.map((f) => f.step), [5, 10, 15, 20]);
  }
  // a single run runs in the bench process itself: the same numbers again
  const alone = Deno.makeTempDirSync();
  const c = await runBench([
    "gaussian-moments",
    "--profile",
    "smoke",
    "--seed",
    "2",
    ...sets,
    "--out",
    alone,
  ]);
  assert.equal(c.code, 0, c.stderr);
  assert.equal(
    JSON.stringify(read(alone, `${g}/seed-2`).fingerprints),
    JSON.stringify(read(two, `${g}/seed-2`).fingerprints),
  );
  Deno.removeSync(alone, { recursive: true });
  assert.notEqual(
    read(one, `${g}/seed-1`).fingerprints.at(-1)!.hash,
    read(one, `${g}/seed-2`).fingerprints.at(-1)!.hash,
  );
  const summary = suite(two);
  assert.equal(summary.jobs, 2);
  assert.deepEqual(
    summary.runs.map((r) => [r.key, r.status]),
    [1, 2].flatMap((s) => [
      [`${g}/seed-${s}`, "completed"],
      [`${pre}/seed-${s}`, "skipped"],
      [`${tfd}/seed-${s}`, "skipped"],
    ]),
  );
  const stacked = summary.runs.find((r) => r.key === `${tfd}/seed-2`)!;
  assert.match(
    stacked.reason!,
    /^needs tfd-mlp-pretrain, which was skipped \(.*not publicly distributed/,
  );
  assert.ok(summary.runs[0].peakRssGB! > 0, "workers report their peak memory");
  // the data error's hint follows what was found after "; ", on the summary's one line
  assert.match(
    b.stdout,
    /^ {2}tfd-mlp-pretrain\+[0-9a-f]{8}\/seed-1 +skipped: .*: expected .*; found nothing there; TFD is not publicly/m,
  );
  Deno.removeSync(one, { recursive: true });
  Deno.removeSync(two, { recursive: true });
});

Deno.test("canaries: the unbroken harness meets every smoke band; a flipped G loss, zero learning rates, frozen noise and frozen dropout masks each miss theirs", async () => {
  // [fault, canary, bands it must miss (seed 1)]; measured values in the configs' "basis"
  const cases: [string | null, string, string[]][] = [
    [null, "mnist-mlp", []],
    [null, "gaussian-moments", []],
    // an outcome band catches frozen masks too: D separates real from fake faster
    ["freeze-dropout", "mnist-mlp", ["repeatedDropoutMasks", "lastQuarter.dGap"]],
    ["flip-g-loss", "gaussian-moments", [
      "lastQuarter.fakeMean",
      "lastQuarter.fakeStd",
      "lastQuarter.dGap",
    ]],
    ["lr-zero", "gaussian-moments", ["lastQuarter.fakeMean", "lastQuarter.fakeStd"]],
    ["freeze-noise", "gaussian-moments", ["repeatedNoiseDraws"]],
  ];
  const canary = async ([fault, experiment, missed]: typeof cases[number]) => {
    const out = Deno.makeTempDirSync();
    const r = await runBench(
      [experiment, "--profile", "smoke", "--check", "--out", out],
      fault ? { GANBENCH_FAULT: fault } : {},
    );
    const what = `${fault ?? "unbroken"} ${experiment}: ${r.stdout}${r.stderr}`;
    assert.equal(r.code, missed.length ? 1 : 0, what);
    const result = read(out, `${experiment}/seed-1`);
    assert.ok(result.checks!.length >= 4);
    assert.deepEqual(result.checks!.filter((c) => !c.pass).map((c) => c.metric), missed, what);
    for (const m of missed) {
      assert.ok(r.stdout.includes(`MISSED ${experiment} seed 1 (smoke): ${m} = `), what);
    }
    assert.equal(suite(out).missed.length, missed.length);
    if (fault) {
      assert.equal(result.fault, fault);
      assert.match(
        r.stderr,
        new RegExp(`GANBENCH_FAULT=${fault}: this run is deliberately broken`),
      );
    } else {
      assert.equal(result.fault, undefined);
      assert.match(r.stdout, /^bands: \d+ met, 0 missed$/m);
      // every metric a run writes can be named in a band
      const known = RESULT_METRICS[result.config.metrics.kind];
      assert.deepEqual(Object.keys(result.metrics).filter((m) => !known.includes(m)), []);
    }
    Deno.removeSync(out, { recursive: true });
  };
  // two lanes of about equal length: the machine has two cores and each run uses one
  const lane = async (list: typeof cases) => {
    for (const c of list) await canary(c);
  };
  await Promise.all([
    lane(cases.filter((c) => c[1] === "mnist-mlp")),
    lane(cases.filter((c) => c[1] !== "mnist-mlp")),
  ]);
});

Deno.test("--suite stability: the configs naming the suite, at its profile; not in the default suite", () => {
  const plan = (profile: string) =>
    planTasks({ experiments: null, seeds: [1], profile, overrides: [], out: "out" });
  const stability = plan("stability");
  assert.deepEqual(stability.map((t) => t.resolved.experiment), [
    "grid-gan",
    "grid-wgan-gp",
    "ring-fgan-kl",
    "ring-gan",
    "ring-gan-d-wins",
    "ring-hinge",
    "ring-lsgan",
    "ring-unrolled",
    "ring-wgan",
    "ring-wgan-gp",
  ]);
  for (const t of stability) {
    assert.equal(t.resolved.profile, "stability");
    assert.equal(t.estimate.iterations, 400);
    const bands = t.resolved.expect.map((b) => b.metric);
    assert.ok(bands.includes("diverged"), t.key);
    // measured over seeds 1–5 (docs/mixtures.md §The stability suite)
    if (t.resolved.experiment === "grid-wgan-gp") {
      assert.deepEqual(bands, ["diverged", "modesCaptured", "dWonFraction"]);
    }
    if (t.resolved.experiment === "ring-unrolled") {
      assert.deepEqual(bands, ["diverged", "dWonFraction"]);
    }
  }
  assert.ok(!plan("smoke").some((t) => t.resolved.experiment.startsWith("ring-")));
});

Deno.test("estimates use the seconds per iteration of the backend the runs will use", () => {
  const resolved = loadConfig("mnist-mlp", { profile: "smoke" });
  const perIteration = resolved.cost!.secondsPerIteration as Record<string, number>;
  const fixed = resolved.cost!.fixedSeconds.smoke;
  assert.equal(estimate(resolved, "wasm").seconds, fixed + 60 * perIteration.wasm);
  assert.equal(
    estimate(resolved, "wasm+openblas").seconds,
    fixed + 60 * perIteration["wasm+openblas"],
  );
  // a backend without a measurement takes the slowest one given
  assert.equal(
    estimate(resolved, "webgpu").seconds,
    fixed + 60 * Math.max(...Object.values(perIteration)),
  );
  assert.ok(perIteration["wasm+openblas"] < perIteration.wasm);
});
