// deno-lint-ignore-file no-explicit-any
/**
 * Report pages end to end: two short runs through the CLI (one with a hostile description;
 * a hostile experiment name is refused before anything is written, test/hardening_test.ts), `deno task report` rebuilding the same bytes, and every page opened
 * from disk in real headless Chromium: no console errors, no request beyond file: and data:,
 * charts and images drawn, the numbers in the tables those of result.json, and no page
 * wider than a 390-px phone screen. With GANBENCH_SCREENSHOTS=DIR, each page is also saved
 * there as a PNG at 390 and 1280 px.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { formatNumber } from "../src/report/html.ts";
import { KEY_METRICS, meanStd } from "../src/report/index-page.ts";
import type { Result } from "../src/record/result.ts";
import { runBench, runDeno, runDirOf, setsOf } from "./helpers.ts";

// page.evaluate's functions run in the page; these stand in for the DOM's types here
declare const document: any;
declare const Event: any;

const CHROMIUM = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].find((p) => {
  try {
    return Deno.statSync(p).isFile;
  } catch {
    return false;
  }
});
if (!CHROMIUM) {
  console.warn(
    "browser tests skipped: no Chromium at /usr/bin/chromium (Debian: apt-get install chromium)",
  );
}

/** A config copied under another (plain) name: its page and index row come from that name. */
const COPIED_NAME = "x-copied-config.v2";
const HOSTILE_TEXT = `</script><script>alert("d")</script> & 'q'`;

/** Two short runs into a fresh folder, made once for every test in this file. */
let made: Promise<{ out: string; gaussian: string; gaussian2: string; mnist: string }> | null =
  null;
function makeRuns() {
  made ??= (async () => {
    const out = Deno.makeTempDirSync({ prefix: "ganbench-report-" });
    const configDir = Deno.makeTempDirSync();
    const copiedConfig = join(configDir, `${COPIED_NAME}.json`);
    Deno.copyFileSync(
      join(import.meta.dirname!, "..", "configs", "gaussian-moments.json"),
      copiedConfig,
    );
    const aArgs = [
      copiedConfig,
      "--profile",
      "smoke",
      "--seeds",
      "2",
      "--backend",
      "wasm",
      "--out",
      out,
      "--set",
      "training.budget.iterations=24",
      "--set",
      "metrics.samples=2000",
      "--set",
      `description=${HOSTILE_TEXT}`,
    ];
    const a = await runBench(aArgs);
    assert.equal(a.code, 0, a.stderr);
    const bArgs = [
      "mnist-mlp",
      "--profile",
      "smoke",
      "--backend",
      "wasm",
      "--out",
      out,
      "--set",
      "training.budget.iterations=4",
      "--set",
      "metrics.nearestTraining.samples=50",
    ];
    const b = await runBench(bArgs);
    assert.equal(b.code, 0, b.stderr);
    // both --set more than the budget: variants, in their own folders
    const gaussian = runDirOf(out, copiedConfig, setsOf(aArgs), 1, "smoke");
    const gaussian2 = runDirOf(out, copiedConfig, setsOf(aArgs), 2, "smoke");
    const mnist = runDirOf(out, "mnist-mlp", setsOf(bArgs), 1, "smoke");
    Deno.removeSync(configDir, { recursive: true });
    return { out, gaussian, gaussian2, mnist };
  })();
  return made;
}

const readResult = (dir: string): Result =>
  JSON.parse(Deno.readTextFileSync(join(dir, "result.json")));

Deno.test("deno task report rebuilds the very same pages from the run folders", async () => {
  const { out, gaussian, mnist } = await makeRuns();
  const pages = [
    join(gaussian, "report.html"),
    join(mnist, "report.html"),
    join(out, "index.html"),
  ];
  const before = pages.map((p) => Deno.readFileSync(p));
  for (const p of pages) Deno.removeSync(p);
  const r = await runDeno([
    "run",
    "--allow-read",
    "--allow-write",
    "--allow-env",
    "--allow-ffi",
    "--allow-sys=homedir",
    "src/cli/report.ts",
    out,
  ]);
  const stdout = r.stdout;
  assert.equal(r.code, 0, r.stderr);
  assert.match(stdout, /^4 pages in [\d.]+ s$/m);
  pages.forEach((p, i) =>
    assert.ok(
      before[i].length > 0 && Deno.readFileSync(p).length === before[i].length &&
        Deno.readFileSync(p).every((b, k) => b === before[i][k]),
      `${p} differs after the rebuild`,
    )
  );
});

Deno.test("run folders hold the fixed latent batch, snapshots and Figures 2 and 3", async () => {
  const { gaussian, mnist } = await makeRuns();
  const m = readResult(mnist), g = readResult(gaussian);
  // smoke: 4 iterations → snapshots at 0…4; the latent batch is 64 × 100
  assert.deepEqual(m.figures!.snapshots, [0, 1, 2, 3, 4]);
  const latent = JSON.parse(Deno.readTextFileSync(join(mnist, "samples", "latent.json")));
  assert.deepEqual(latent.shape, [64, 100]);
  assert.equal(latent.values.length, 6400);
  assert.ok(latent.values.every((v: number) => Math.abs(v) <= Math.sqrt(3)));
  for (const f of ["iter-000000.png", "iter-000004.png"]) {
    assert.ok(Deno.statSync(join(mnist, "samples", f)).size > 1000, f);
  }
  assert.equal(m.figures!.nearest!.distance2.length, 4);
  assert.ok(m.figures!.nearest!.distance2.every((d) => d > 0 && d < 784));
  // 1-D: Figure 1 data at each snapshot; the density counts every latent sample once
  assert.equal(g.figures!.snapshots.length, 25);
  const last = JSON.parse(
    Deno.readTextFileSync(join(gaussian, "samples", "iter-000024.json")),
  );
  assert.equal(last.generated.reduce((a: number, b: number) => a + b, 0), 5000);
  assert.equal(last.probe, "batch-location");
  assert.ok(last.d.every((v: number) => v > 0 && v < 1));
});

Deno.test({
  name: "every page in headless Chromium: no errors, no network, drawn charts, exact numbers",
  ignore: !CHROMIUM,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const { out, gaussian, gaussian2, mnist } = await makeRuns();
    // a computed specifier keeps puppeteer's Node-flavoured typings out of the type check
    const specifier = "puppeteer-core";
    const { default: puppeteer } = await import(specifier);
    const profile = Deno.makeTempDirSync();
    const browser = await puppeteer.launch({
      executablePath: CHROMIUM,
      headless: true,
      pipe: true,
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        `--user-data-dir=${profile}`,
      ],
    });
    try {
      const open = async (path: string, width = 1280) => {
        const page = await browser.newPage();
        await page.setViewport({ width, height: 844 });
        const errors: string[] = [], outside: string[] = [];
        page.on("console", (m: any) => m.type() === "error" && errors.push(m.text()));
        page.on("pageerror", (e: any) => errors.push(String(e)));
        await page.setRequestInterception(true);
        page.on("request", (req: any) => {
          const url = req.url();
          if (url.startsWith("file:") || url.startsWith("data:")) req.continue();
          else {
            outside.push(url);
            req.abort();
          }
        });
        await page.goto(`file://${path}`, { waitUntil: "load" });
        return { page, errors, outside };
      };

      // ---- a 1-D run page of a copied config with a hostile description ----
      const g = await open(join(gaussian, "report.html"));
      const gView = await g.page.evaluate(() => {
        const charts = [...document.querySelectorAll("figure.chart")].map((f: any) => {
          const svg = f.querySelector("svg.chart");
          const box = svg.getBoundingClientRect();
          return {
            title: svg.querySelector("title").textContent,
            // drawn marks: lines of some length, or the dots of a short series
            marks: [...svg.querySelectorAll("path")].filter((p: any) => p.getTotalLength() > 20)
              .length + svg.querySelectorAll("circle").length,
            height: box.height,
            csv: f.querySelector("a[download$='.csv']").href,
            svg: f.querySelector("a[download$='.svg']").href,
          };
        });
        return {
          charts,
          h1: document.querySelector("h1")!.textContent,
          description: document.querySelector("h1 + p")!.textContent,
          banner: document.querySelector(".banner")?.textContent,
          injected: document.querySelectorAll("img[onerror], script:not([type]):not([src])").length,
          metrics: [...document.querySelectorAll("table.metrics td[data-metric]")].map((
            td,
          ) => [td.dataset.metric, td.dataset.value, td.textContent]),
          bands: [...document.querySelectorAll("table.bands tr.pass, table.bands tr.miss")].map((
            tr,
          ) => [
            tr.querySelector("th")!.firstChild.textContent,
            tr.querySelector("td:last-child")!.textContent,
          ]),
        };
      });
      assert.deepEqual(g.errors, []);
      assert.deepEqual(g.outside, []);
      assert.equal(gView.h1, `${COPIED_NAME} seed 1 · smoke profile`);
      assert.equal(gView.description, HOSTILE_TEXT);
      assert.equal(gView.banner, "smoke run: numbers are not comparable to the paper");
      assert.equal(gView.injected, 0, "a page without samples runs no script");
      const gr = readResult(gaussian);
      const bandCurves = (gr.checks ?? []).filter((c) => c.metric.startsWith("lastQuarter."));
      assert.ok(bandCurves.length > 0, "the smoke profile has curve bands");
      assert.equal(gView.charts.length, 9 + bandCurves.length);
      for (const c of gView.charts) {
        assert.ok(c.marks > 0, `${c.title}: nothing drawn`);
        assert.ok(c.height > 200, `${c.title}: ${c.height} px tall`);
        assert.match(c.svg, /^data:image\/svg\+xml;base64,/);
      }
      // the losses' CSV is the history, exactly
      const losses = gView.charts.find((c: any) => c.title === "Losses")!;
      const csv = new TextDecoder().decode(
        Uint8Array.from(atob(losses.csv.split(",")[1]), (ch) => ch.charCodeAt(0)),
      );
      assert.equal(
        csv,
        "iteration,D loss,G loss\n" +
          gr.history.step.map((x, i) => `${x},${gr.history.dLoss[i]},${gr.history.gLoss[i]}\n`)
            .join(""),
      );
      assert.deepEqual(
        gView.bands,
        gr.checks!.map((c) => [c.metric, c.pass ? "✓ met" : "✗ missed"]),
      );
      assert.equal(gView.metrics.length, Object.keys(gr.metrics).length);
      for (const [key, value, text] of gView.metrics) {
        assert.equal(value, String(gr.metrics[key!]), key);
        assert.equal(text, formatNumber(gr.metrics[key!]), key);
      }

      // ---- an MNIST run page: samples slider, Figures 2 and 3, Parzen beside Table 1 ----
      const m = await open(join(mnist, "report.html"));
      const mView = await m.page.evaluate(async () => {
        const variance = (img: any) => {
          const c = document.createElement("canvas");
          [c.width, c.height] = [img.naturalWidth, img.naturalHeight];
          const ctx = c.getContext("2d")!;
          ctx.drawImage(img, 0, 0);
          const { data } = ctx.getImageData(0, 0, c.width, c.height);
          let s = 0, s2 = 0;
          for (let i = 0; i < data.length; i += 4) [s, s2] = [s + data[i], s2 + data[i] ** 2];
          const n = data.length / 4;
          return s2 / n - (s / n) ** 2;
        };
        const pixels = [...document.querySelectorAll("img.pixels")];
        await Promise.all(pixels.map((i: any) => i.decode()));
        const slider = document.querySelector(".frames input[type=range]")!;
        const shownBefore = [...document.querySelectorAll(".frame")].findIndex((f: any) =>
          !f.hidden
        );
        slider.value = "0";
        slider.dispatchEvent(new Event("input"));
        return {
          images: pixels.map((i: any) => ({
            alt: i.alt,
            w: i.naturalWidth,
            variance: variance(i),
          })),
          frames: document.querySelectorAll(".frame").length,
          shownBefore,
          shownAfter: [...document.querySelectorAll(".frame")].findIndex((f: any) => !f.hidden),
          label: document.querySelector(".frame-label")!.textContent,
          parzen: [...document.querySelectorAll("table.parzen td[data-metric]")].map((
            td,
          ) => [td.dataset.metric, td.dataset.value]),
          nearest: [...document.querySelectorAll(".fig2 td.num:last-child")].map((td: any) =>
            td.textContent
          ),
        };
      });
      assert.deepEqual(m.errors, []);
      assert.deepEqual(m.outside, []);
      const mr = readResult(mnist);
      assert.equal(mView.frames, 5);
      assert.equal(mView.shownBefore, 4);
      assert.equal(mView.shownAfter, 0);
      assert.equal(mView.label, "iteration 0");
      // 8 × 8 grids of 28-pixel digits with 2-pixel gaps: 8·28 + 7·2 = 238
      for (const img of mView.images.filter((i: any) => i.alt.startsWith("samples"))) {
        assert.equal(img.w, 238);
      }
      assert.deepEqual(
        mView.images.filter((i: any) => !i.alt.startsWith("samples")).map((i: any) => [i.alt, i.w]),
        [["Figure 2 samples", 5 * 28 + 4 * 2], ["nearest training images", 28], [
          "Figure 3 interpolations",
          9 * 28 + 8 * 2,
        ]],
      );
      for (const img of mView.images) assert.ok(img.variance > 100, `${img.alt} is flat`);
      assert.deepEqual(mView.parzen, [
        ["parzen.mean", String(mr.parzen!.mean)],
        ["parzen.se", String(mr.parzen!.se)],
        ["parzen.sigma", String(mr.parzen!.sigma)],
      ]);
      assert.deepEqual(mView.nearest, mr.figures!.nearest!.distance2.map(formatNumber));

      // ---- the index: every run, mean ± std over the two seeds, Table 1 ----
      const ix = await open(join(out, "index.html"));
      const iView = await ix.page.evaluate(() => ({
        links: [...document.querySelectorAll("table.runs a")].map((a: any) => a.href),
        cells: [...document.querySelectorAll("table.runs td[data-metric]")].map((td: any) =>
          td.dataset.value
        ),
        summary: Object.fromEntries(
          [...document.querySelectorAll("td[data-summary]")].map((td: any) => [
            td.dataset.summary,
            td.textContent,
          ]),
        ),
        // the run is a --set variant: its group is mnist-mlp+<hash>
        table1: document.querySelector("td[data-table1^='mnist-mlp+']")?.textContent,
        paperRows: [...document.querySelectorAll("table.table1 tbody tr")].map((tr: any) =>
          tr.textContent
        ),
        injected: document.querySelectorAll("img[onerror], script").length,
        experiments: [...document.querySelectorAll("[data-experiment-metric]")].map((e: any) => [
          e.dataset.experimentMetric,
          e.textContent,
        ]),
      }));
      assert.deepEqual(ix.errors, []);
      assert.deepEqual(ix.outside, []);
      assert.equal(iView.injected, 0, "the index has no script at all");
      assert.equal(iView.links.length, 3);
      for (const link of iView.links) {
        assert.ok(Deno.statSync(new URL(link)).isFile, `${link} does not resolve`);
      }
      const g2 = readResult(gaussian2);
      for (const key of ["fakeMean", "fakeStd", "jsdBits"]) {
        const { mean, std } = meanStd([gr.metrics[key], g2.metrics[key]]);
        assert.equal(iView.summary[key], `${formatNumber(mean)} ± ${formatNumber(std)}`, key);
      }
      // groups sorted by name ("mnist-mlp" < "x…"), seeds in order, KEY_METRICS present
      const shown = (r: Result) =>
        KEY_METRICS.filter((k) => k in r.metrics).map((k) => String(r.metrics[k]));
      assert.deepEqual(iView.cells, [...shown(mr), ...shown(gr), ...shown(g2)]);
      assert.equal(iView.cells.length, 2 + 3 + 3);
      assert.equal(
        iView.table1,
        `${formatNumber(mr.parzen!.mean)} ± ${
          formatNumber(mr.parzen!.se)
        }1 seed, ± SE over test images`,
      );
      assert.deepEqual(iView.paperRows.slice(0, 4), [
        "DBNpaper138 ± 21909 ± 66",
        "Stacked CAEpaper121 ± 1.62110 ± 50",
        "Deep GSNpaper214 ± 1.11890 ± 29",
        "Adversarial netspaper225 ± 22057 ± 26",
      ]);
      assert.deepEqual(iView.experiments, [
        ["parzenMean", `${formatNumber(mr.metrics.parzenMean)} ± ${formatNumber(mr.parzen!.se)}`],
        [
          "jsdBits",
          `${formatNumber((gr.metrics.jsdBits + g2.metrics.jsdBits) / 2)} ± ${
            formatNumber(Math.abs(gr.metrics.jsdBits - g2.metrics.jsdBits) / 2)
          }`,
        ],
      ]);

      // ---- phone width: no horizontal page scroll, charts of usable height ----
      const shots = Deno.env.get("GANBENCH_SCREENSHOTS");
      const pages = [
        ["run-mnist", join(mnist, "report.html")],
        ["run-gaussian", join(gaussian, "report.html")],
        ["index", join(out, "index.html")],
      ];
      for (const [name, path] of pages) {
        for (const width of [390, 1280]) {
          const { page, errors } = await open(path, width);
          const view = await page.evaluate(() => ({
            scrollWidth: document.documentElement.scrollWidth,
            chartHeights: [...document.querySelectorAll("svg.chart")].map((s: any) =>
              s.getBoundingClientRect().height
            ),
          }));
          assert.deepEqual(errors, []);
          assert.ok(
            view.scrollWidth <= width,
            `${name} at ${width} px is ${view.scrollWidth} wide`,
          );
          assert.ok(view.chartHeights.length > 0, `${name} has charts`);
          for (const h of view.chartHeights) assert.ok(h >= 180, `${name}: a chart ${h} px tall`);
          if (shots) {
            await page.screenshot({ path: join(shots, `${name}-${width}.png`), fullPage: true });
          }
          await page.close();
        }
      }
    } finally {
      await browser.close();
      Deno.removeSync(profile, { recursive: true });
    }
  },
});

Deno.test({
  name: "browser test folder is removed",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const { out } = await makeRuns();
    Deno.removeSync(out, { recursive: true });
  },
});
