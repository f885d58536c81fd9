/** `deno task diff` over two or more runs: metric differences in combined SEs, overlaid curves. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { compareRuns } from "../src/cli/diff.ts";
import { compareMetrics, type NamedRun, overlayCharts, runName } from "../src/report/compare.ts";
import { type Result, RESULT_FORMAT } from "../src/record/result.ts";
import { runDeno } from "./helpers.ts";

/** Just what the comparison reads of a result. */
function run(name: string, seed: number, metrics: Record<string, number>): NamedRun {
  const result = {
    format: RESULT_FORMAT,
    experiment: "mnist-mlp",
    seed,
    profile: "smoke",
    status: "completed",
    metrics,
    history: {
      step: [10, 20],
      dLoss: [1.3, 1.2],
      gLoss: [0.7, 0.8],
      dReal: [0.5, 0.6],
      dFake: [0.5, 0.4],
      fakeMean: [0, 0],
      fakeStd: [1, 1],
    },
  } as unknown as Result;
  return { name, path: `runs/seed-${seed}`, result };
}

Deno.test("metrics: values, the difference to the first run, and that difference in combined SEs", () => {
  const a = run("A", 1, { parzenMean: 100, parzenSe: 3, classesCovered: 8, onlyA: 1 });
  const b = run("B", 2, { parzenMean: 110, parzenSe: 4, classesCovered: 8 });
  assert.deepEqual(compareMetrics([a, b]), [
    "metrics (B − A; SE: in combined standard errors):",
    "  parzenMean: Parzen log-likelihood (nats)",
    // 10 / √(3² + 4²) = 2
    "    A 100 ± 3  B 110 ± 4  B − A +10 = +2 SE",
    "  parzenSe: Parzen log-likelihood, standard error (nats)",
    "    A 3  B 4  B − A +1",
    "  classesCovered: classes covered",
    "    A 8  B 8  B − A 0",
    "  not in every run, A has: onlyA",
  ]);
  const c = run("C", 3, { parzenMean: 97, parzenSe: 4, classesCovered: 6 });
  assert.deepEqual(compareMetrics([a, b, c]).slice(0, 3), [
    "metrics (B − A, C − A; SE: in combined standard errors):",
    "  parzenMean: Parzen log-likelihood (nats)",
    "    A 100 ± 3  B 110 ± 4  C 97 ± 4  B − A +10 = +2 SE  C − A -3 = -0.6 SE",
  ]);
  assert.deepEqual(compareMetrics([run("A", 1, { x: 1 }), run("B", 2, { y: 2 })]), [
    "metrics (B − A; SE: in combined standard errors):",
    "  no metric is shared by every run",
    "  not in every run, A has: x",
    "  not in every run, B has: y",
  ]);
  assert.deepEqual([0, 1, 25, 26, 27].map(runName), ["A", "B", "Z", "AA", "AB"]);
});

Deno.test("three runs: each compared with the first, under its own heading", () => {
  const runs = [run("A", 1, { fakeStd: 1 }), run("B", 2, { fakeStd: 1.5 }), run("C", 1, {})];
  for (const r of runs) r.result.fingerprints = [];
  for (const r of runs) {
    Object.assign(r.result, {
      config: { a: 1 },
      backend: { name: "wasm" },
      versions: { deno: "x" },
    });
  }
  const lines = compareRuns(runs);
  assert.deepEqual(lines.slice(0, 11), [
    "A = runs/seed-1 (mnist-mlp, seed 1, smoke profile, completed)",
    "B = runs/seed-2 (mnist-mlp, seed 2, smoke profile, completed)",
    "C = runs/seed-1 (mnist-mlp, seed 1, smoke profile, completed)",
    "B against A:",
    "  config: identical",
    "  seed: 1 → 2",
    "  environment: identical",
    "  fingerprints: identical",
    "C against A:",
    "  config: identical",
    "  environment: identical",
  ]);
});

Deno.test("overlaid curves: one series per run and curve, tracked scores only where every run has them", () => {
  const a = run("A", 1, {}), b = run("B", 2, {});
  const charts = overlayCharts([a, b]);
  assert.deepEqual([...charts.keys()], ["losses.svg", "discriminator-outputs.svg"]);
  const losses = charts.get("losses.svg")!;
  assert.equal(losses.kind, "line");
  if (losses.kind !== "line") return;
  assert.deepEqual(losses.series.map((s) => [s.label, s.data.map((p) => p.y)]), [
    ["A D loss", [1.3, 1.2]],
    ["A G loss", [0.7, 0.8]],
    ["B D loss", [1.3, 1.2]],
    ["B G loss", [0.7, 0.8]],
  ]);
  const point = (epoch: number, mean: number) => ({
    epoch,
    parzen: { mean },
    classifierScore: null,
  });
  a.result.tracked = [point(1, -5), point(2, 3)] as unknown as Result["tracked"];
  assert.ok(!overlayCharts([a, b]).has("tracked-parzen.svg"), "B tracked nothing");
  b.result.tracked = [point(1, -4)] as unknown as Result["tracked"];
  const tracked = overlayCharts([a, b]).get("tracked-parzen.svg")!;
  assert.ok(tracked.kind === "line");
  assert.deepEqual(tracked.series.map((s) => s.data), [
    [{ x: 1, y: -5 }, { x: 2, y: 3 }],
    [{ x: 1, y: -4 }],
  ]);
});

Deno.test("deno task diff: --help, too few runs, a missing run, --svg writes the overlays", async () => {
  const diff = (args: string[]) =>
    runDeno(["run", "--allow-read", "--allow-write", "src/cli/diff.ts", ...args]);
  const help = await diff(["--help"]);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /^usage: deno task diff <run A> <run B> \[<run C> …\] \[--svg DIR\]/);
  const one = await diff(["x"]);
  assert.equal(one.code, 2);
  assert.match(one.stderr, /^error: give two runs or more, found 1\n/);
  const dir = Deno.makeTempDirSync();
  try {
    const missing = await diff([join(dir, "nope"), join(dir, "nope2")]);
    assert.equal(missing.code, 3);
    assert.match(missing.stderr, /^error: .*nope: no readable result\.json \(/);
    // two minimal result files, one given as a folder and one as the file
    for (const [seed, parzenMean] of [[1, 100], [2, 110]]) {
      const r = run("-", seed, { parzenMean, parzenSe: seed === 1 ? 3 : 4 }).result;
      Object.assign(r, { config: {}, backend: {}, versions: {}, fingerprints: [] });
      Deno.mkdirSync(join(dir, `seed-${seed}`));
      Deno.writeTextFileSync(join(dir, `seed-${seed}`, "result.json"), JSON.stringify(r));
    }
    const svgDir = join(dir, "svg");
    const ok = await diff([
      join(dir, "seed-1"),
      join(dir, "seed-2", "result.json"),
      "--svg",
      svgDir,
    ]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.ok(ok.stdout.includes("    A 100 ± 3  B 110 ± 4  B − A +10 = +2 SE\n"), ok.stdout);
    assert.ok(ok.stdout.endsWith(
      `wrote ${join(svgDir, "losses.svg")}\nwrote ${join(svgDir, "discriminator-outputs.svg")}\n`,
    ));
    const svg = Deno.readTextFileSync(join(svgDir, "losses.svg"));
    assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    assert.equal((svg.match(/<path /g) ?? []).length, 4, "four curves");
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
