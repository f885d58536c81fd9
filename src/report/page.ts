/**
 * The frame of every report page: one self-contained HTML file. Styles and the page's one
 * script (the sample slider) are inline; charts are inline SVG and images data: URIs, so a
 * page reads fully without script. A Content-Security-Policy allows nothing from the
 * network and runs only the inline script whose hash it names, so even a string that
 * escaped escaping could not run.
 */
import { createHash } from "node:crypto";
import { chartCsv, chartSlug, type ChartSpec, renderSvg } from "./charts.ts";
import { escapeHtml } from "./html.ts";

/** Collects a page's charts: each is inlined as SVG with CSV and SVG downloads beside it. */
export class ChartSet {
  readonly specs = new Map<string, ChartSpec>();
  #n = 0;
  constructor(readonly prefix = "chart") {}

  /** The figure's HTML: the chart, its caption, and links to its data and its image. */
  figure(spec: ChartSpec, caption = ""): string {
    const id = `${this.prefix}-${++this.#n}`;
    this.specs.set(id, spec);
    const svg = renderSvg(spec, id);
    const slug = chartSlug(spec.title);
    const utf8 = (text: string) => new TextEncoder().encode(text);
    return `<figure class="chart" id="${id}">${svg}${
      caption ? `<figcaption>${caption}</figcaption>` : ""
    }<p class="downloads">download: <a download="${slug}.csv" href="${
      dataUri("text/csv", utf8(chartCsv(spec)))
    }">CSV</a> · <a download="${slug}.svg" href="${
      dataUri("image/svg+xml", utf8(svg))
    }">SVG</a></p></figure>`;
  }
}

export function dataUri(type: string, bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return `data:${type};base64,${btoa(binary)}`;
}

/** The page's script: drives the sample-grid slider and its play button. */
export const CLIENT_SCRIPT = `"use strict";
(function () {
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
*{box-sizing:border-box}
body{font:15px/1.45 system-ui,"DejaVu Sans",sans-serif;max-width:1060px;margin:1em auto;padding:0 12px;color:#222;overflow-wrap:anywhere}
h1{font-size:1.6em;margin:.3em 0}h1 small{font-weight:normal;color:#666;font-size:.65em}
h2{margin-top:1.6em}
nav{font-size:13px;margin-bottom:.5em}
.scroll{overflow-x:auto;max-width:100%;margin:.6em 0 1.2em}
.scroll table{margin:0}
table{border-collapse:collapse;margin:.6em 0 1.2em;overflow-wrap:normal}
th,td{padding:3px 10px;border-bottom:1px solid #ddd;text-align:left;vertical-align:top}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}td.num{white-space:nowrap}
td.num small{white-space:normal}table.experiments{width:100%}
thead th{border-bottom:2px solid #999}
.meaning{color:#555;font-size:13px;font-weight:normal}
table.metrics{width:100%}.meaning code{display:block;word-break:break-all}td.unit{white-space:nowrap;font-size:13px}
table.kv td{overflow-wrap:anywhere;min-width:10em}table.kv th{white-space:nowrap}
button{white-space:nowrap;overflow-wrap:normal}.frame-label{white-space:nowrap}
.ok{color:#1a7f37}.bad{color:#b00020}.muted{color:#666}
.banner{background:#fff4ce;border:1px solid #e0b400;padding:.6em .8em;font-weight:bold;margin:.8em 0}
.headline{display:flex;flex-wrap:wrap;gap:.6em 2em;align-items:baseline;border:1px solid #ccd;background:#f7f9fc;padding:.8em 1em;margin:.8em 0}
.headline .big{font-size:1.7em;font-weight:bold;font-variant-numeric:tabular-nums}
.headline .what{font-size:13px;color:#555}
.headline>div{min-width:0}
figure{margin:0 0 1em 0;max-width:100%}
figure.chart{display:inline-block;width:500px;max-width:100%;vertical-align:top;margin-right:1em}
svg.chart{width:100%;height:auto;display:block}
.downloads{font-size:12px;margin:.2em 0 0}
.panels{display:flex;flex-wrap:wrap;gap:1em}.panels figure.chart{width:calc(50% - .5em);margin:0}
@media (max-width:700px){.panels figure.chart{width:100%}figure.chart{margin-right:0}}
figcaption{font-size:13px;color:#555;max-width:500px}
img.pixels{image-rendering:pixelated;background:#fff;max-width:100%;height:auto}
.alarms{color:#b00020}
table.bands tr.pass td:last-child{color:#1a7f37}table.bands tr.miss td:last-child{color:#b00020;font-weight:bold}
.fig2{display:flex;flex-wrap:wrap;gap:10px;align-items:flex-start}
.fig2 img{min-width:0}
.fig2 .nn{outline:3px solid #e6b800;outline-offset:2px}
.frames .controls{display:flex;gap:10px;align-items:center;margin:.3em 0}
.frames input[type=range]{width:320px;max-width:60%}
pre{background:#f6f6f6;padding:1em;overflow:auto;font-size:12px;max-width:100%}
details{margin:1em 0}
`;

export interface PageParts {
  title: string;
  body: string;
  /** Whether the page has a sample slider for the client script to drive. */
  script: boolean;
}

export function sha256Base64(text: string): string {
  return createHash("sha256").update(text).digest("base64");
}

export function renderPage({ title, body, script }: PageParts): string {
  const csp = [
    "default-src 'none'",
    "img-src data:",
    "style-src 'unsafe-inline'",
    `script-src ${script ? `'sha256-${sha256Base64(CLIENT_SCRIPT)}'` : "'none'"}`,
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
${script ? `<script>${CLIENT_SCRIPT}</script>\n` : ""}</body></html>
`;
}

/** A table inside its own horizontal scroller, so a wide table never widens the page. */
export function scrollTable(table: string): string {
  return `<div class="scroll">${table}</div>`;
}
