/** Report building blocks: figures leave training untouched, image grids, escaping, summaries. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { decode } from "fast-png";
import { DERIVED_METRICS, RESULT_METRICS } from "../src/config/metric-names.ts";
import { loadConfig } from "../src/config/load.ts";
import { PAPER_TABLE1, TABLE1 } from "../src/metrics/table1.ts";
import {
  barChart,
  chartCsv,
  chartSlug,
  lineChart,
  points,
  renderSvg,
} from "../src/report/charts.ts";
import { encodeGrid, GAP } from "../src/record/image-grid.ts";
import { labelWithUnit, METRIC_LABELS, metricLabel } from "../src/report/metric-labels.ts";
import { meanStd, renderIndexPage } from "../src/report/index-page.ts";
import { renderRunPage } from "../src/report/run-page.ts";
import type { Figure } from "../src/record/figures.ts";
import { HISTORY_SERIES } from "../src/record/history.ts";
import type { Result } from "../src/record/result.ts";
import { nearestRowsChunked, nearestRowsDirect } from "../src/metrics/nearest.ts";
import { snapshotSchedule } from "../src/train/figures.ts";
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
  const q = Float32Array.from([1, 1.1, /**/ 2.6, 0.1]);
  const { index, distance2 } = nearestRowsDirect(q, train, 2);
  assert.deepEqual(Array.from(index), [1, 2]);
  assert.ok(Math.abs(distance2[0] - 0.01) < 1e-6);
  assert.ok(Math.abs(distance2[1] - (0.16 + 0.01)) < 1e-6);
  // training rows are mapped to the queries' scale first: (0,0) (.5,.5) (1.5,0) (.45,.6)
  const unit = nearestRowsDirect(Float32Array.from([1, 1.1]), train, 2, (v) => v / 2);
  assert.deepEqual(Array.from(unit.index), [3]);
  assert.ok(Math.abs(unit.distance2[0] - (0.55 ** 2 + 0.5 ** 2)) < 1e-6);
});

Deno.test("nearest training image read a chunk of rows at a time: the whole-array answer, bit for bit", () => {
  // 37 rows of 5 values with near-ties and repeats, so chunks meet ties at their edges
  const dim = 5, count = 37;
  const train = new Float32Array(count * dim);
  let x = 12345;
  for (let i = 0; i < train.length; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    train[i] = Math.fround((x >>> 8) / 2 ** 24 * 3 - 1.5);
  }
  train.copyWithin(20 * dim, 3 * dim, 4 * dim); // row 20 repeats row 3: the first must win
  const queries = Float32Array.from([
    ...train.subarray(3 * dim, 4 * dim), // exactly row 3 (and 20): distance 0
    ...train.subarray(36 * dim).map((v) => v + 1e-3), // next to the last row
    0.1,
    -0.2,
    0.3,
    0.05,
    0, // somewhere in the middle
    NaN,
    0,
    0,
    0,
    0, // no finite distance: index 0, Infinity
  ]);
  const reads: [number, number][] = [];
  const readRows = (from: number, to: number, out: Float32Array) => {
    reads.push([from, to]);
    out.set(train.subarray(from * dim, to * dim));
  };
  for (const map of [null, (v: number) => v * 0.5 + 0.25]) {
    const whole = nearestRowsDirect(queries, train, dim, map);
    if (!map) assert.deepEqual(Array.from(whole.index.subarray(0, 2)), [3, 36]);
    assert.equal(whole.index[3], 0);
    assert.equal(whole.distance2[3], Infinity);
    for (const chunk of [1, 3, 20, 36, 37, 1000]) {
      reads.length = 0;
      const got = nearestRowsChunked(queries, count, dim, readRows, map, chunk);
      assert.deepEqual(got.index, whole.index, `chunk ${chunk}`);
      assert.deepEqual(got.distance2, whole.distance2, `chunk ${chunk}`);
      // every row read once, in order, in pieces of the chunk's size
      assert.equal(reads.length, Math.ceil(count / chunk));
      assert.deepEqual(reads.at(-1), [chunk * (reads.length - 1), count]);
    }
  }
  assert.equal(nearestRowsDirect(queries, train, dim).distance2[0], 0);
  assert.throws(
    () => nearestRowsChunked(queries, count, dim, readRows, null, 0),
    /^RangeError: chunkRows must be a positive integer \(got 0\)$/,
  );
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
    /<tr class="pass"><th>diverged<div class="meaning">1 when a loss or weight stopped being finite, else 0<\/div><\/th><td>≤ 0<\/td><td[^>]*>0<\/td><td>✓ met<\/td><\/tr>/,
  );
  assert.match(
    html,
    /<tr class="miss"><th>lastQuarter\.dGap<div class="meaning">[^<]*<\/div><\/th><td>\[-0\.5, 0\.25\]<\/td><td[^>]*>0\.75<\/td><td>✗ missed<\/td><\/tr>/,
  );
  // the headline names the missed band in words
  assert.match(html, /<div class="big bad">missed: D\(x\) − D\(G\(z\)\), last quarter<\/div>/);
  // one curve, for the band on a curve: the D gap with both edges over the last quarter; its
  // CSV download holds the exact values (one row per point: the series' x differ)
  const rows = chartCsvRows(html, "lastQuarter.dGap: curve and band");
  assert.deepEqual(rows[0], ["series", "iteration", "dGap"]);
  const gap = result.history.dReal.map((r, i) => r - result.history.dFake[i]);
  assert.deepEqual(
    rows.slice(1),
    [
      ...result.history.step.map((x, i) => ["dGap", String(x), String(gap[i])]),
      ["band low", "8", "-0.5"],
      ["band low", "8", "-0.5"],
      ["band high", "8", "0.25"],
      ["band high", "8", "0.25"],
    ],
  );
});

/** The rows of the CSV linked beside the chart titled `title` (plain fields only). */
/** A CSV line's fields: split at commas outside double quotes, "" inside them a quote. */
function csvFields(line: string): string[] {
  const fields = [""];
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted && c === '"' && line[i + 1] === '"') fields[fields.length - 1] += line[++i];
    else if (c === '"') quoted = !quoted;
    else if (c === "," && !quoted) fields.push("");
    else fields[fields.length - 1] += c;
  }
  return fields;
}

function chartCsvRows(html: string, title: string): string[][] {
  const figure = html.split("<figure ").find((f) => f.includes(`-title">${title}</title>`));
  assert.ok(figure, `no chart titled ${title}`);
  const b64 = /href="data:text\/csv;base64,([^"]+)"/.exec(figure!)![1];
  const text = new TextDecoder().decode(Uint8Array.from(atob(b64), (c) => c.charCodeAt(0)));
  return text.trimEnd().split("\n").map(csvFields);
}

/** A finished 1-D run made into an MNIST-like result with a Parzen estimate beside Table 1. */
async function parzenResult(profile: string): Promise<Result> {
  const config = loadConfig("gaussian-moments", {
    overrides: ["training.budget.iterations=4", "training.logEvery=2", "metrics.samples=1000"],
  });
  const r = await runExperiment(config, { seed: 1, backend: "wasm" });
  r.profile = profile;
  r.metrics = { parzenMean: -31, parzenSe: 2.5 };
  r.parzen = {
    sigma: 0.2,
    mean: -31,
    se: 2.5,
    testCount: 100,
    centreCount: 50,
    validationCount: 20,
    dim: 784,
    sigmaCurve: [{ sigma: 0.1, validationLL: -40 }, { sigma: 0.2, validationLL: -30 }],
    alarms: [],
    paper: { mean: 225, se: 2, delta: -256, standardErrors: -79.2 },
    trainingSetReference: null,
  };
  return r;
}

const page = (result: Result) =>
  renderRunPage({ dir: "/nonexistent", result, snapshots: [], images: new Map(), missing: [] });

Deno.test("the run page leads with the headline; a smoke run says so and never bolds the comparison with Table 1", async () => {
  const smoke = await page(await parzenResult("smoke"));
  const banner = smoke.indexOf(
    `<p class="banner" role="note">smoke run: numbers are not comparable to the paper</p>`,
  );
  assert.ok(banner > 0, "the smoke banner");
  assert.ok(banner < smoke.indexOf("<h2>"), "the banner comes before every section");
  assert.match(
    smoke,
    /<div class="what">Parzen log-likelihood \(nats\)<\/div><div class="big" data-headline="parzenMean" data-value="-31">-31 ± 2\.5<\/div><div class="what">paper, Table 1: 225 ± 2<\/div><div class="what" data-paper-difference>not compared \(smoke profile\)<\/div>/,
  );
  assert.ok(!/<b>[^<]*standard errors/.test(smoke), "no bold comparison in a smoke run");
  assert.ok(
    smoke.includes(
      `<p class="muted" data-paper-difference>This run − Table 1: -256 nats = -79.2 standard errors of the difference. (smoke run: numbers are not comparable to the paper.)</p>`,
    ),
  );
  // metric names in words, with their meaning and the name in result.json
  assert.match(
    smoke,
    /<th>Parzen log-likelihood, standard error<div class="meaning">standard error of that mean over the test images <code>parzenSe<\/code><\/div><\/th><td class="num" data-metric="parzenSe" data-value="2\.5">2\.5<\/td><td class="unit">nats<\/td>/,
  );
  // the headline and samples come before the details table
  assert.ok(smoke.indexOf('aria-label="result"') < smoke.indexOf("<h2>Training curves</h2>"));
  assert.ok(smoke.indexOf("<h2>Training curves</h2>") < smoke.indexOf("<h2>Details</h2>"));

  const paper = await page(await parzenResult("paper"));
  assert.ok(!paper.includes(`class="banner"`));
  assert.ok(
    paper.includes(
      `<div class="what" data-paper-difference>difference: <b>-256 nats = -79.2 standard errors of the difference</b></div>`,
    ),
  );
  assert.ok(
    paper.includes(
      `<p data-paper-difference><b>This run − Table 1: -256 nats = -79.2 standard errors of the difference.</b></p>`,
    ),
  );
  // a paper-profile run scored before its budget was reached is not comparable either
  const early = await parzenResult("paper");
  early.evaluatedAtIteration = 2;
  assert.ok(
    (await page(early)).includes(
      `<p class="banner" role="note">scored after 2 of 4 iterations: numbers are not comparable to the paper</p>`,
    ),
  );
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

Deno.test("every metric a run records or a band names has a label, a unit entry and a meaning", () => {
  for (const key of [...Object.values(RESULT_METRICS).flat(), ...Object.keys(DERIVED_METRICS)]) {
    const l = METRIC_LABELS[key];
    assert.ok(l, `${key} has no label in src/report/metric-labels.ts`);
    assert.ok(l.label && l.label !== key || key === "diverged", `${key}: label in words`);
    assert.ok(l.meaning.length > 10, `${key}: meaning`);
  }
  assert.equal(labelWithUnit("parzenSe"), "Parzen log-likelihood, standard error (nats)");
  assert.equal(metricLabel("nearestTrainingMin").label, "distance to nearest training image (min)");
  assert.deepEqual(metricLabel("newMetric"), { label: "newMetric", unit: "", meaning: "" });
});

Deno.test("charts: CSV of the exact plotted values, gaps as breaks, text escaped", () => {
  const spec = lineChart("Losses <b>", "iteration", "loss", [
    { label: "D, loss", color: "#000", data: points([1, 2, 3], [0.5, NaN, 0.25]) },
    { label: "G", color: "#111", data: points([1, 2, 3], [1, 2, 3]) },
  ]);
  assert.equal(chartCsv(spec), 'iteration,"D, loss",G\n1,0.5,1\n2,,2\n3,0.25,3\n');
  const svg = renderSvg(spec, "c1");
  assert.ok(svg.includes('<title id="c1-title">Losses &lt;b&gt;</title>'));
  const paths = [...svg.matchAll(/<path d="([^"]*)"/g)].map((m) => m[1]);
  // the NaN splits D's curve into two one-point subpaths; G is one line of three points
  assert.equal(paths[0].match(/M/g)!.length, 2);
  assert.equal(paths[1].match(/L/g)!.length, 2);
  // x ticks 1…3 and y ticks from d3-scale's nice domain
  assert.match(svg, />1\.0<\/text>.*>3\.0<\/text>/s);
  const bars = barChart("Classes", "class", "share", ["0", "1"], {
    label: "generated",
    color: "#000",
    data: [0.75, 0.25],
  }, { label: "uniform", color: "#888", data: [0.5, 0.5] });
  assert.equal(chartCsv(bars), "class,generated,uniform\n0,0.75,0.5\n1,0.25,0.5\n");
  assert.equal(chartSlug("lastQuarter.dGap: curve and band"), "lastquarter-dgap-curve-and-band");
});

Deno.test("report code loads nothing of training, models, backends or TF.js at run time", async () => {
  const entries = ["build.ts", "compare.ts", "serve.ts"].map((f) => `src/report/${f}`);
  const graphs = [];
  for (const entry of entries) {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["info", "--json", entry],
      cwd: join(import.meta.dirname!, ".."),
      stdout: "piped",
      stderr: "null",
    }).output();
    graphs.push(JSON.parse(new TextDecoder().decode(out.stdout)));
  }
  const loaded = new Set<string>();
  for (const graph of graphs) {
    type Module = { specifier: string; dependencies?: { code?: { specifier: string } }[] };
    const modules = new Map<string, Module>(
      (graph.modules as Module[]).map((m) => [m.specifier, m]),
    );
    // follow only the imports that run (a type-only import has no "code" edge)
    const queue: string[] = [...graph.roots];
    while (queue.length) {
      const s = queue.pop()!;
      if (loaded.has(s)) continue;
      loaded.add(s);
      for (const d of modules.get(s)?.dependencies ?? []) if (d.code) queue.push(d.code.specifier);
    }
  }
  assert.ok([...loaded].some((s) => s.endsWith("/src/report/run-page.ts")), "the graph was read");
  // the checkpoint's byte codec (src/models/tensor-file.ts) is plain TypeScript: the run
  // folder's reader (src/record/) reads checkpoint headers with it
  const codec = /\/src\/models\/tensor-(file|layout)\.ts$/;
  const forbidden = [...loaded].filter((s) =>
    (/\/src\/(train|models|backend|data)\//.test(s) && !codec.test(s)) || s.includes("@tensorflow")
  );
  assert.deepEqual(forbidden, []);
});

Deno.test("the page links the whole history and the tracked scores as CSV, exact values", async () => {
  const r = await parzenResult("smoke");
  r.tracked = [{
    iteration: 2,
    epoch: 0.5,
    learningRate: { generator: 0.1, discriminator: 0.05 },
    wallSeconds: 1.25,
    parzen: { mean: -40.5, se: 1.5, sigma: 0.2 },
    parzenDiagnostics: null,
    parzenWithGDropout: { mean: 12.25, se: 1.75, sigma: 0.2 },
    classifierScore: null,
    classesCovered: null,
    fakePixelStd: 0.125,
    scoreSeconds: 0.5,
  }, {
    iteration: 4,
    epoch: 1,
    learningRate: { generator: 0.1, discriminator: 0.05 },
    wallSeconds: 2.5,
    parzen: null,
    parzenDiagnostics: null,
    classifierScore: null,
    classesCovered: null,
    coverage: { perClass: [0.75, 0.25], mean: 0.5, min: 0.25, covered: 1 },
    fakePixelStd: 0.25,
    scoreSeconds: 0.75,
  }];
  const html = await page(r);
  const link = (file: string) => {
    const b64 = new RegExp(`<a download="${file}" href="data:text/csv;base64,([^"]+)"`).exec(html);
    assert.ok(b64, `no ${file} link`);
    return new TextDecoder().decode(Uint8Array.from(atob(b64[1]), (c) => c.charCodeAt(0)));
  };
  const h = r.history;
  assert.deepEqual(HISTORY_SERIES.slice(6), ["dGradNorm", "gGradNorm", "dAccuracy", "dWon"]);
  // a freshly trained run records every signal, and the page draws them
  assert.match(html, /Gradient norms/);
  assert.match(html, /Discriminator&#39;s advantage|Discriminator's advantage/);
  assert.match(
    html,
    /D won: accuracy ≥ 0\.99 with G&#39;s gradient norm|D won: accuracy ≥ 0\.99 with G's gradient norm/,
  );
  assert.ok(
    HISTORY_SERIES.every((k) => h[k].length === h.step.length && h[k].every(Number.isFinite)),
  );
  assert.equal(
    link("history.csv"),
    "iteration,dLoss,gLoss,dReal,dFake,fakeMean,fakeStd,dGradNorm,gGradNorm,dAccuracy,dWon\n" +
      h.step.map((s, i) => [s, ...HISTORY_SERIES.map((k) => h[k][i])].join(",") + "\n").join(""),
  );
  assert.equal(
    link("tracked.csv"),
    "iteration,epoch,generatorLearningRate,discriminatorLearningRate,wallSeconds,parzenMean,parzenSe,parzenSigma,parzenMeanWithGDropout,parzenSeWithGDropout,classifierScore,classesCovered,coverageMean,coverageMin,coverageClassesCovered,fakePixelStd,scoreSeconds\n" +
      "2,0.5,0.1,0.05,1.25,-40.5,1.5,0.2,12.25,1.75,,,,,,0.125,0.5\n" +
      "4,1,0.1,0.05,2.5,,,,,,,,0.5,0.25,1,0.25,0.75\n",
  );
  // a conditional run's coverage is drawn against epochs (a gap where a point has none)
  assert.deepEqual(chartCsvRows(html, "Class coverage through training"), [
    ["epoch", "class coverage (mean)", "class coverage (worst class)"],
    ["0.5", "", ""],
    ["1", "0.5", "0.25"],
  ]);
  // the tracked Parzen curve is drawn; a smoke run's chart leaves Table 1's line out
  const rows = chartCsvRows(html, "Parzen log-likelihood through training");
  // with the estimate of G sampled with its dropout beside it, where a point has one
  assert.deepEqual(rows, [
    [
      "epoch",
      "Parzen log-likelihood",
      "+ SE",
      "− SE",
      "Parzen log-likelihood, G sampled with its dropout",
    ],
    ["0.5", "-40.5", "-39", "-42", "12.25"],
    ["1", "", "", "", ""],
  ]);
});

Deno.test("the index's Table 1 adds Mirza & Osindero's row beside a conditional MNIST run, and only then", async () => {
  const plain = await parzenResult("paper");
  plain.config = { ...plain.config, data: { kind: "mnist", scale: "unit" } } as Result["config"];
  const conditional: Result = {
    ...plain,
    config: { ...plain.config, conditional: { labels: "one-hot" } } as Result["config"],
    configHash: "c".repeat(64),
  };
  const entry = (experiment: string, result: Result) => ({
    experiment,
    seed: 1,
    href: `${experiment}/seed-1/report.html`,
    result,
    skipped: null,
  });
  const row =
    `<tr><td>Conditional adversarial nets</td><td class="muted">Mirza &amp; Osindero</td><td class="num">132 ± 1.8</td><td class="num">—</td></tr>`;
  const without = renderIndexPage([entry("mnist-mlp", plain)]);
  assert.ok(!without.includes("Mirza &amp; Osindero"));
  assert.match(without, /<b>mnist-mlp<\/b> <small class="muted">\(paper, 4 iterations\)/);
  const withIt = renderIndexPage([entry("mnist-mlp", plain), entry("mnist-cgan", conditional)]);
  assert.ok(withIt.includes(row));
  assert.match(
    withIt,
    /<b>mnist-cgan<\/b> <small class="muted">\(conditional, paper, 4 iterations\)/,
  );
  // the paper rows come first, the measured rows after them
  assert.ok(withIt.indexOf(row) < withIt.indexOf("<b>mnist-cgan</b>"));
});
