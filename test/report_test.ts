/** Report building blocks: figures leave training untouched, image grids, escaping, summaries. */
import assert from "node:assert/strict";
import { decode } from "fast-png";
import { loadConfig } from "../src/config/load.ts";
import { PAPER_TABLE1, TABLE1 } from "../src/metrics/table1.ts";
import { encodeGrid, GAP } from "../src/record/image-grid.ts";
import { meanStd, renderIndexPage } from "../src/report/index-page.ts";
import { jsonForScript } from "../src/report/page.ts";
import { renderRunPage } from "../src/report/run-page.ts";
import type { Figure } from "../src/record/figures.ts";
import type { Result } from "../src/record/result.ts";
import { nearestTraining, snapshotSchedule } from "../src/train/figures.ts";
import { runExperiment } from "../src/train/run.ts";

Deno.test("figures come from their own streams: training numbers and fingerprints do not change", async () => {
  const config = loadConfig("gaussian-moments", {
    overrides: [
      "training.budget.iterations=12",
      "training.dSteps=2",
      "training.gSteps=2",
      "training.logEvery=3",
      "metrics.samples=1000",
    ],
  });
  const figures: Figure[] = [];
  const withFigures = await runExperiment(config, {
    seed: 4,
    backend: "wasm",
    onFigure: (f) => Promise.resolve(void figures.push(f)),
  });
  const without = await runExperiment(config, { seed: 4, backend: "wasm" });
  assert.equal(JSON.stringify(withFigures.history), JSON.stringify(without.history));
  assert.equal(JSON.stringify(withFigures.fingerprints), JSON.stringify(without.fingerprints));
  assert.equal(JSON.stringify(withFigures.metrics), JSON.stringify(without.metrics));
  assert.equal(without.figures, null);
  // the latent batch, then a 1-D snapshot at each point of the schedule
  assert.deepEqual(figures.map((f) => f.file), [
    "samples/latent.json",
    ...snapshotSchedule(12).map((i) => `samples/iter-${String(i).padStart(6, "0")}.json`),
  ]);
  assert.deepEqual(withFigures.figures!.snapshots, snapshotSchedule(12));
});

Deno.test("snapshot schedule: iteration 0, then 24 evenly spaced, the last at the budget", () => {
  assert.deepEqual(snapshotSchedule(5), [0, 1, 2, 3, 4, 5]);
  const s = snapshotSchedule(125000);
  assert.equal(s.length, 25);
  assert.deepEqual([s[0], s[1], s[24]], [0, 5208, 125000]);
});

Deno.test("image grids: layout, gaps, display scaling, planar RGB to interleaved", () => {
  // two 1×2×2 gray images in a 1 × 2 grid, values in [0, 1]
  const gray = decode(encodeGrid({
    images: Float32Array.from([0, 0.5, 1, 2, /**/ 0.25, 0.75, -1, NaN]),
    shape: [1, 2, 2],
    rows: 1,
    cols: 2,
    display: { kind: "unit", offset: 0, scale: 1 },
  }));
  assert.equal(gray.width, 2 * 2 + GAP);
  assert.equal(gray.height, 2);
  assert.equal(gray.channels, 1);
  const row = (y: number) => Array.from(gray.data.subarray(y * gray.width, (y + 1) * gray.width));
  assert.deepEqual(row(0), [0, 128, 255, 255, 64, 191]);
  assert.deepEqual(row(1), [255, 255, 255, 255, 0, 0]); // 2 clamps to 255; −1 and NaN to 0
  // symmetric data ([−1, 1]) and per-image min–max (GCN)
  const sym = decode(encodeGrid({
    images: Float32Array.from([-1, 0, 1, 0.5]),
    shape: [1, 2, 2],
    rows: 1,
    cols: 1,
    display: { kind: "unit", offset: 1, scale: 0.5 },
  }));
  assert.deepEqual(Array.from(sym.data), [0, 128, 255, 191]);
  const gcn = decode(encodeGrid({
    images: Float32Array.from([-3, 1, 5, 9]),
    shape: [1, 2, 2],
    rows: 1,
    cols: 1,
    display: { kind: "per-image" },
  }));
  assert.deepEqual(Array.from(gcn.data), [0, 85, 170, 255]);
  // RGB: planar rows (R plane, G plane, B plane) become interleaved pixels
  const rgb = decode(encodeGrid({
    images: Float32Array.from([1, 0, /**/ 0, 1, /**/ 0, 0]),
    shape: [3, 1, 2],
    rows: 1,
    cols: 1,
    display: { kind: "unit", offset: 0, scale: 1 },
  }));
  assert.equal(rgb.channels, 3);
  assert.deepEqual(Array.from(rgb.data), [255, 0, 0, 0, 255, 0]);
  assert.throws(
    () =>
      encodeGrid({
        images: new Float32Array(7),
        shape: [1, 2, 2],
        rows: 1,
        cols: 2,
        display: { kind: "per-image" },
      }),
    /7 values are not 1 × 2 images of 1×2×2/,
  );
});

Deno.test("nearest training image: the brute-force minimum of squared L2, in the display scale", () => {
  const train = Float32Array.from([0, 0, /**/ 1, 1, /**/ 3, 0, /**/ 0.9, 1.2]);
  const q = [Float32Array.from([1, 1.1]), Float32Array.from([2.6, 0.1])];
  const { index, distance2 } = nearestTraining(q, train, 2, null);
  assert.deepEqual(Array.from(index), [1, 2]);
  assert.ok(Math.abs(distance2[0] - 0.01) < 1e-6);
  assert.ok(Math.abs(distance2[1] - (0.16 + 0.01)) < 1e-6);
  // training rows are mapped to the queries' scale first: (0,0) (.5,.5) (1.5,0) (.45,.6)
  const unit = nearestTraining([Float32Array.from([1, 1.1])], train, 2, (v) => v / 2);
  assert.deepEqual(Array.from(unit.index), [3]);
  assert.ok(Math.abs(unit.distance2[0] - (0.55 ** 2 + 0.5 ** 2)) < 1e-6);
});

Deno.test("mean ± std over seeds (ddof 1) and the paper's Table 1", () => {
  const s = meanStd([1, 2, 3, 4, NaN]);
  assert.equal(s.n, 4);
  assert.equal(s.mean, 2.5);
  assert.ok(Math.abs(s.std! - Math.sqrt(5 / 3)) < 1e-12);
  assert.equal(meanStd([7]).std, null);
  // the paper's Table 1: evaluation compares with the adversarial nets' row
  assert.equal(PAPER_TABLE1.model, "Adversarial nets");
  assert.deepEqual(PAPER_TABLE1.mnist, { mean: 225, se: 2 });
  assert.deepEqual(PAPER_TABLE1.tfd, { mean: 2057, se: 26 });
  assert.deepEqual(TABLE1.map((r) => r.model), [
    "DBN",
    "Stacked CAE",
    "Deep GSN",
    "Adversarial nets",
  ]);
});

Deno.test("every user-controlled string in the index is escaped", () => {
  const hostile = `<img src=x onerror=alert(1)>"'&`;
  const html = renderIndexPage([
    {
      experiment: hostile,
      seed: 1,
      href: "x/seed-1/report.html",
      result: null,
      skipped: { reason: hostile },
    },
    { experiment: `a</td><script>`, seed: 2, href: "y", result: null, skipped: null },
  ]);
  assert.ok(!html.includes("<img src=x"));
  assert.ok(!html.includes("<script"), "the index runs no script");
  assert.ok(html.includes("&lt;img src=x onerror=alert(1)&gt;&quot;&#39;&amp;"));
  assert.ok(html.includes("a&lt;/td&gt;&lt;script&gt; seed 2"));
  assert.match(html, /script-src 'none'/);
});

Deno.test("JSON inside a script block cannot close it", () => {
  const text = jsonForScript({ a: "</script><script>alert(1)</script>", b: "&" });
  assert.ok(!text.includes("<") && !text.includes(">") && !text.includes("&"));
  assert.deepEqual(JSON.parse(text), { a: "</script><script>alert(1)</script>", b: "&" });
});

Deno.test("the run page shows each stability band with its value and verdict, and the curve under its band", async () => {
  const config = loadConfig("gaussian-moments", {
    overrides: ["training.budget.iterations=8", "training.logEvery=2", "metrics.samples=1000"],
  });
  const result = await runExperiment(config, { seed: 1, backend: "wasm" });
  result.profile = "smoke<script>";
  result.checks = [
    { metric: "diverged", low: null, high: 0, value: 0, pass: true },
    { metric: "lastQuarter.dGap", low: -0.5, high: 0.25, value: 0.75, pass: false },
  ];
  const html = await renderRunPage({
    dir: "/nonexistent",
    result,
    snapshots: [],
    images: new Map(),
    missing: [],
  });
  assert.match(html, /<h2>Stability bands \(smoke&lt;script&gt; profile\)<\/h2>/);
  assert.match(
    html,
    /<tr class="pass"><th>diverged<\/th><td>≤ 0<\/td><td[^>]*>0<\/td><td>✓ met<\/td><\/tr>/,
  );
  assert.match(
    html,
    /<tr class="miss"><th>lastQuarter\.dGap<\/th><td>\[-0\.5, 0\.25\]<\/td><td[^>]*>0\.75<\/td><td>✗ missed<\/td><\/tr>/,
  );
  // one curve, for the band on a curve: the D gap with both edges over the last quarter
  const specs = JSON.parse(
    /<script type="application\/json" id="chart-specs">(.*?)<\/script>/s.exec(html)![1],
  );
  const bandChart = Object.values(specs).find((s) =>
    (s as { options: { plugins: { title: { text: string } } } }).options.plugins.title.text ===
      "lastQuarter.dGap: curve and band"
  ) as { data: { datasets: { label: string; data: { x: number; y: number }[] }[] } };
  const [curve, low, high] = bandChart.data.datasets;
  assert.deepEqual(
    curve.data.map((p) => p.y),
    result.history.dReal.map((r, i) => r - result.history.dFake[i]),
  );
  assert.deepEqual(low.data, [{ x: 8, y: -0.5 }, { x: 8, y: -0.5 }]);
  assert.deepEqual(high.data.map((p) => p.y), [0.25, 0.25]);
});

Deno.test("the index says per run whether its stability bands were met, naming the missed ones", async () => {
  const config = loadConfig("gaussian-moments", {
    overrides: ["training.budget.iterations=4", "training.logEvery=2", "metrics.samples=1000"],
  });
  const base = await runExperiment(config, { seed: 1, backend: "wasm" });
  const entry = (seed: number, checks: Result["checks"]) => ({
    experiment: "gaussian-moments",
    seed,
    href: `gaussian-moments/seed-${seed}/report.html`,
    result: { ...base, seed, checks },
    skipped: null,
  });
  const html = renderIndexPage([
    entry(1, [{ metric: "diverged", low: null, high: 0, value: 0, pass: true }]),
    entry(2, [
      { metric: "diverged", low: null, high: 0, value: 0, pass: true },
      { metric: "lastQuarter.<dGap>", low: null, high: 0.6, value: 0.9, pass: false },
    ]),
    entry(3, undefined),
  ]);
  assert.match(html, /seed 1<\/a>.*?<td class="ok">1\/1 met<\/td>/s);
  assert.match(html, /seed 2<\/a>.*?<td class="bad">missed: lastQuarter\.&lt;dGap&gt;<\/td>/s);
  assert.match(html, /seed 3<\/a>.*?<td class="muted">none<\/td>/s);
});
