/**
 * A minimal, self-contained run page: provenance, metrics, loss and D-output curves, and
 * (for 1-D experiments) real vs. generated histograms. No scripts, no network.
 */
import type { Result } from "../train/result.ts";
import { escapeHtml, formatNumber } from "./html.ts";
import { histogramChart, lineChart } from "./svg.ts";

export function renderRunPage(r: Result): string {
  const h = r.history;
  const adapter = r.backend.adapter
    ? ` (${r.backend.adapter.description}${
      r.backend.adapter.isFallbackAdapter ? ", software fallback" : ""
    })`
    : "";
  const rows: [string, string][] = [
    ["status", r.status + (r.divergedAt ? ` at iteration ${r.divergedAt}` : "")],
    ["seed", String(r.seed)],
    ["profile", r.profile],
    ["backend", r.backend.name + adapter],
    [
      "versions",
      `deno ${r.versions.deno}, tfjs ${r.versions.tfjs}, ganbench ${
        r.versions.ganbench ?? "unknown"
      }`,
    ],
    ["config hash", r.configHash],
    ["started", r.startedAt],
    ["wall time", `${r.wallSeconds.toFixed(1)} s`],
  ];
  const metricRows = Object.entries(r.metrics).map(([k, v]) =>
    `<tr><th>${escapeHtml(k)}</th><td>${formatNumber(v)}</td></tr>`
  );
  const charts = [
    lineChart(h.step, [
      { label: "D loss", color: "#1f77b4", y: h.dLoss },
      { label: "G loss", color: "#d62728", y: h.gLoss },
    ], "Losses over iterations"),
    lineChart(h.step, [
      { label: "D(x)", color: "#2ca02c", y: h.dReal },
      { label: "D(G(z))", color: "#9467bd", y: h.dFake },
    ], "Discriminator outputs over iterations"),
  ];
  if (r.histogram) {
    const inner = (c: number[]) => c.slice(1, -1);
    charts.push(histogramChart(r.histogram.low, r.histogram.high, [
      { label: "real", color: "#2ca02c", y: inner(r.histogram.real) },
      { label: "generated", color: "#d62728", y: inner(r.histogram.fake) },
    ], "Real vs. generated samples (final model)"));
  }
  let parzen = "";
  if (r.parzen) {
    const p = r.parzen;
    const x = p.sigmaCurve.map((c) => Math.log10(c.sigma));
    charts.push(lineChart(x, [
      { label: "validation LL", color: "#1f77b4", y: p.sigmaCurve.map((c) => c.validationLL) },
    ], "Parzen: mean validation log-likelihood over log10 σ"));
    const rows: [string, string][] = [
      [
        "this run",
        `${formatNumber(p.mean)} ± ${formatNumber(p.se)} (σ = ${formatNumber(p.sigma)})`,
      ],
    ];
    if (p.paper) {
      rows.push([
        "paper, Table 1",
        `${p.paper.mean} ± ${p.paper.se}; difference ${formatNumber(p.paper.delta)} ` +
        `(${formatNumber(p.paper.standardErrors)} standard errors)`,
      ]);
    }
    if (p.trainingSetReference) {
      const t = p.trainingSetReference;
      rows.push([
        "training images as centres",
        `${formatNumber(t.mean)} ± ${formatNumber(t.se)} (σ = ${formatNumber(t.sigma)})`,
      ]);
    }
    parzen = `<h2>Parzen-window log-likelihood</h2>
<p>${p.centreCount} samples as centres, σ chosen on ${p.validationCount} validation images, ${p.testCount} test images, in nats.</p>
<table>${
      rows.map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`).join("")
    }</table>
${
      p.alarms.length
        ? `<ul class="alarms">${p.alarms.map((a) => `<li>${escapeHtml(a)}</li>`).join("")}</ul>`
        : ""
    }`;
  }
  if (r.classHistogram) {
    charts.push(histogramChart(0, 10, [
      { label: "generated", color: "#d62728", y: r.classHistogram },
      { label: "uniform", color: "#888", y: r.classHistogram.map(() => 0.1) },
    ], "Classes of generated samples (harness classifier)"));
  }
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(r.experiment)} · seed ${r.seed} · ganbench</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;max-width:960px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:1em 0}th,td{padding:2px 10px;border-bottom:1px solid #ddd;text-align:left}
td{font-variant-numeric:tabular-nums}figure{display:inline-block;margin:0 1em 1em 0}
figcaption{font-size:12px;color:#555}.alarms{color:#a40000}pre{background:#f6f6f6;padding:1em;overflow:auto}
</style></head><body>
<h1>${escapeHtml(r.experiment)} <small>seed ${r.seed}</small></h1>
<p>${escapeHtml(r.config.description)}</p>
<table>${
    rows.map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`).join("")
  }</table>
<h2>Metrics</h2>
<table>${metricRows.join("") || "<tr><td>none (run did not complete)</td></tr>"}</table>
${parzen}
<h2>Training</h2>
${charts.join("\n")}
<h2>Source</h2>
<p>${escapeHtml(r.config.source)}</p>
<details><summary>Resolved config</summary><pre>${
    escapeHtml(JSON.stringify(r.config, null, 2))
  }</pre></details>
</body></html>
`;
}
