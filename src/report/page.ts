/**
 * The frame of every report page: one self-contained HTML file. Styles, chart.js and the
 * page's own script are inline; images are data: URIs. A Content-Security-Policy allows
 * nothing from the network and runs only the two inline scripts whose hashes it names, so
 * even a string that escaped escaping could not run.
 */
import { createHash } from "node:crypto";
import { chartJsSource, type ChartSpec, renderChartPng } from "./charts.ts";
import { escapeHtml } from "./html.ts";

/** Collects a page's charts: each becomes a PNG (shown without script) and a live chart. */
export class ChartSet {
  readonly specs: Record<string, ChartSpec> = {};
  #n = 0;

  /** The figure's HTML; the PNG is rendered now. */
  async figure(spec: ChartSpec, caption = ""): Promise<string> {
    const id = `chart-${++this.#n}`;
    this.specs[id] = spec;
    const png = await renderChartPng(spec);
    const title = spec.options.plugins.title.text;
    const img = png
      ? `<img class="static" alt="${escapeHtml(title)}" src="${dataUri("image/png", png)}">`
      : "";
    return `<figure class="chart">${img}<canvas class="live" data-chart="${id}" role="img" aria-label="${
      escapeHtml(title)
    }" hidden></canvas>${caption ? `<figcaption>${caption}</figcaption>` : ""}</figure>`;
  }
}

export function dataUri(type: string, bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return `data:${type};base64,${btoa(binary)}`;
}

/** JSON for a <script type="application/json"> block: "<" never appears raw. */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value).replaceAll("<", "\\u003c").replaceAll(">", "\\u003e")
    .replaceAll("&", "\\u0026");
}

/**
 * The page's script: draws each chart from its JSON configuration (replacing the PNG),
 * and drives the sample-grid slider and its play button.
 */
export const CLIENT_SCRIPT = `"use strict";
(function () {
  var specs = JSON.parse(document.getElementById("chart-specs").textContent);
  document.querySelectorAll("canvas.live").forEach(function (canvas) {
    var spec = specs[canvas.dataset.chart];
    spec.options.responsive = true;
    spec.options.maintainAspectRatio = true;
    spec.options.aspectRatio = ${600 / 280};
    new Chart(canvas, spec);
    canvas.hidden = false;
    var img = canvas.parentElement.querySelector("img.static");
    if (img) img.hidden = true;
  });
  document.querySelectorAll(".frames").forEach(function (box) {
    var frames = box.querySelectorAll(".frame");
    var slider = box.querySelector("input[type=range]");
    var label = box.querySelector(".frame-label");
    var play = box.querySelector("button.play");
    var timer = null;
    function show(i) {
      frames.forEach(function (f, k) { f.hidden = k !== i; });
      slider.value = String(i);
      label.textContent = "iteration " + frames[i].dataset.iteration;
    }
    slider.addEventListener("input", function () { show(Number(slider.value)); });
    play.addEventListener("click", function () {
      if (timer) { clearInterval(timer); timer = null; play.textContent = "play"; return; }
      play.textContent = "pause";
      var i = Number(slider.value) >= frames.length - 1 ? -1 : Number(slider.value);
      timer = setInterval(function () {
        i += 1;
        if (i >= frames.length) { clearInterval(timer); timer = null; play.textContent = "play"; return; }
        show(i);
      }, 400);
    });
    box.querySelector(".controls").hidden = false;
    show(frames.length - 1);
  });
})();
`;

const STYLE = `
body{font:14px/1.45 "DejaVu Sans",system-ui,sans-serif;max-width:1040px;margin:1.5em auto;padding:0 1em;color:#222}
h1 small{font-weight:normal;color:#666}
nav{font-size:13px;margin-bottom:.5em}
table{border-collapse:collapse;margin:.6em 0 1.2em}
th,td{padding:3px 10px;border-bottom:1px solid #ddd;text-align:left;vertical-align:top}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
thead th{border-bottom:2px solid #999}
tr.group td{background:#f3f6fa;font-weight:bold}
.ok{color:#1a7f37}.bad{color:#b00020}.muted{color:#666}
figure{display:inline-block;margin:0 1em 1em 0;vertical-align:top}
figure.chart{width:600px;max-width:100%}
figure.chart img,figure.chart canvas{width:100%;height:auto}
.panels{display:flex;flex-wrap:wrap;gap:1em}.panels figure.chart{width:calc(50% - .5em);margin:0}
figcaption{font-size:12px;color:#555;max-width:600px}
img.pixels{image-rendering:pixelated;background:#fff}
.alarms{color:#b00020}
table.bands tr.pass td:last-child{color:#1a7f37}table.bands tr.miss td:last-child{color:#b00020;font-weight:bold}
.fig2{display:flex;gap:10px;align-items:flex-start}
.fig2 .nn{outline:3px solid #e6b800;outline-offset:2px}
.frames .controls{display:flex;gap:10px;align-items:center;margin:.3em 0}
.frames input[type=range]{width:320px}
pre{background:#f6f6f6;padding:1em;overflow:auto;font-size:12px}
details{margin:1em 0}
`;

export interface PageParts {
  title: string;
  body: string;
  charts: ChartSet | null;
}

export function sha256Base64(text: string): string {
  return createHash("sha256").update(text).digest("base64");
}

export function renderPage({ title, body, charts }: PageParts): string {
  const scripts = charts && Object.keys(charts.specs).length
    ? [chartJsSource(), CLIENT_SCRIPT]
    : [];
  const csp = [
    "default-src 'none'",
    "img-src data:",
    "style-src 'unsafe-inline'",
    `script-src ${
      scripts.length ? scripts.map((s) => `'sha256-${sha256Base64(s)}'`).join(" ") : "'none'"
    }`,
    "base-uri 'none'",
    "form-action 'none'",
  ].join("; ");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style></head><body>
${body}
${
    scripts.length
      ? `<script type="application/json" id="chart-specs">${jsonForScript(charts!.specs)}</script>
${scripts.map((s) => `<script>${s}</script>`).join("\n")}`
      : ""
  }
</body></html>
`;
}
