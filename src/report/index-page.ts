/**
 * The index of an output folder: one row per experiment (its main metric's mean ± SE over
 * seeds beside the paper's number, the bands), the seeds' main curve overlaid, the paper's
 * Table 1 beside the Parzen estimates measured here, then every experiment × seed with its
 * status and key metrics, and the runs that were skipped and why.
 */
import type { Result } from "../record/result.ts";
import { CONDITIONAL_TABLE1, PAPER, TABLE1 } from "../metrics/table1.ts";
import { lineChart, points, RUN_COLORS } from "./charts.ts";
import { mainMetric, notComparable } from "./headline.ts";
import { escapeHtml, formatNumber } from "./html.ts";
import { labelWithUnit, metricLabel } from "./metric-labels.ts";
import { ChartSet, renderPage, scrollTable } from "./page.ts";
import { bandsVerdict, numberCell, valueWithSe } from "./run-page.ts";

/** Metrics shown in the index, in this order, when an experiment's runs have them. */
export const KEY_METRICS = [
  "parzenMean",
  "parzenMeanWithGDropout",
  "classifierScore",
  "classesCovered",
  "frechetDistance",
  "nearestTrainingMedian",
  "fakeMean",
  "fakeStd",
  "jsdBits",
];

export interface IndexEntry {
  experiment: string;
  seed: number;
  /** Path of the run page relative to the index. */
  href: string;
  result: Result | null;
  skipped: { reason: string } | null;
}

/** Mean and sample standard deviation (ddof 1; null for one value) of the finite values. */
export function meanStd(values: number[]): { n: number; mean: number; std: number | null } {
  const xs = values.filter(Number.isFinite);
  const n = xs.length;
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  const std = n > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1)) : null;
  return { n, mean, std };
}

function meanStdText(values: number[]): string {
  const { n, mean, std } = meanStd(values);
  if (n === 0) return "—";
  return std === null ? formatNumber(mean) : `${formatNumber(mean)} ± ${formatNumber(std)}`;
}

interface Group {
  key: string;
  experiment: string;
  profile: string;
  configHash: string;
  runs: IndexEntry[];
}

/** Runs of one experiment are averaged only when their configs are identical (same hash). */
function groupRuns(entries: IndexEntry[]): Group[] {
  const groups = new Map<string, Group>();
  for (const e of entries) {
    if (!e.result) continue;
    const key = `${e.experiment}\u0000${e.result.configHash}`;
    let g = groups.get(key);
    if (!g) {
      g = {
        key,
        experiment: e.experiment,
        profile: e.result.profile,
        configHash: e.result.configHash,
        runs: [],
      };
      groups.set(key, g);
    }
    g.runs.push(e);
  }
  return [...groups.values()];
}

function statusCell(r: Result): string {
  const ok = r.status === "completed";
  return `<td class="${ok ? "ok" : "bad"}">${escapeHtml(r.status)}${
    r.divergedAt ? ` at ${r.divergedAt}` : ""
  }</td>`;
}

/** "6/6 met", or the missed bands by name (the run page has the values). */
function bandsCell(r: Result): string {
  if (!r.checks?.length) return `<td class="muted">none</td>`;
  const missed = r.checks.filter((c) => !c.pass);
  return missed.length
    ? `<td class="bad">missed: ${missed.map((c) => escapeHtml(c.metric)).join(", ")}</td>`
    : `<td class="ok">${r.checks.length}/${r.checks.length} met</td>`;
}

function groupTable(g: Group): string {
  const completed = g.runs.filter((e) => e.result!.status === "completed");
  const keys = KEY_METRICS.filter((k) => g.runs.some((e) => k in e.result!.metrics));
  const header =
    `<tr><th>seed</th><th>status</th><th class="num">iterations</th><th class="num">wall time (s)</th>${
      keys.map((k) =>
        `<th class="num" title="${escapeHtml(metricLabel(k).meaning)}">${
          escapeHtml(metricLabel(k).label)
        }</th>`
      ).join("")
    }<th>bands</th><th>backend</th></tr>`;
  const rows = g.runs.map(({ result: r, href }) =>
    `<tr><td><a href="${escapeHtml(href)}">seed ${r!.seed}</a></td>${
      statusCell(r!)
    }<td class="num">${r!.evaluatedAtIteration ?? r!.history.step.at(-1) ?? 0} / ${
      r!.iterations
    }</td><td class="num">${r!.wallSeconds.toFixed(1)}</td>${
      keys.map((k) => numberCell(r!.metrics[k], k)).join("")
    }${bandsCell(r!)}<td>${escapeHtml(r!.backend.name)}</td></tr>`
  );
  const summary =
    `<tr class="summary"><td>mean ± std</td><td>${completed.length} of ${g.runs.length} completed</td><td></td><td></td>${
      keys.map((k) =>
        `<td class="num" data-summary="${escapeHtml(k)}">${
          meanStdText(
            completed.map((e) => e.result!.metrics[k]).filter((v) =>
              v !== undefined
            ),
          )
        }</td>`
      ).join("")
    }<td></td><td></td></tr>`;
  const description = g.runs[0].result!.config.description;
  return `<h3 id="${escapeHtml(anchor(g))}">${escapeHtml(g.experiment)} <small class="muted">${
    escapeHtml(g.profile)
  } profile · config ${escapeHtml(g.configHash.slice(0, 12))}</small></h3>
<p class="muted">${escapeHtml(description)}</p>
${
    scrollTable(
      `<table class="runs"><thead>${header}</thead><tbody>${rows.join("")}${
        g.runs.length > 1 ? summary : ""
      }</tbody></table>`,
    )
  }`;
}

/** The paper's Table 1 with a row per measured MNIST or TFD experiment. */
function table1(groups: Group[]): string {
  const cell = (x: { mean: number; se: number } | undefined) =>
    x ? `<td class="num">${x.mean} ± ${x.se}</td>` : `<td class="num">—</td>`;
  const paperRows = TABLE1.map((row) =>
    `<tr><td>${row.model}</td><td class="muted">paper</td>${cell(row.mnist)}${cell(row.tfd)}</tr>`
  );
  // Mirza & Osindero's row is shown only beside a conditional run, the one thing it compares with.
  if (groups.some((g) => g.runs[0].result!.config.conditional)) {
    paperRows.push(
      `<tr><td>${CONDITIONAL_TABLE1.model}</td><td class="muted">Mirza &amp; Osindero</td>${
        cell(CONDITIONAL_TABLE1.mnist)
      }${cell(undefined)}</tr>`,
    );
  }
  const measured = groups.flatMap((g) => {
    const runs = g.runs.map((e) => e.result!).filter((r) => r.status === "completed" && r.parzen);
    const kind = g.runs[0].result!.config.data.kind;
    if (!runs.length || (kind !== "mnist" && kind !== "tfd")) return [];
    const values = runs.map((r) => r.parzen!.mean);
    const { n, mean, std } = meanStd(values);
    const text = n === 1
      ? `${formatNumber(mean)} ± ${formatNumber(runs[0].parzen!.se)}`
      : `${formatNumber(mean)} ± ${formatNumber(std)}`;
    const note = n === 1 ? "1 seed, ± SE over test images" : `${n} seeds, ± std over seeds`;
    const value = `<td class="num" data-table1="${
      escapeHtml(g.experiment)
    }">${text}<br><small class="muted">${note}</small></td>`;
    const empty = `<td class="num">—</td>`;
    return [
      `<tr><td><b>${escapeHtml(g.experiment)}</b> <small class="muted">(${
        g.runs[0].result!.config.conditional ? "conditional, " : ""
      }${escapeHtml(g.profile)}, ${
        runs[0].iterations.toLocaleString("en")
      } iterations)</small></td><td>ganbench</td>${
        kind === "mnist" ? value + empty : empty + value
      }</tr>`,
    ];
  });
  return `<h2>Table 1: Parzen window-based log-likelihood</h2>
<p>The paper's estimates (mean ± standard error; for TFD the error is across folds) beside the runs measured here with the same estimator (<code>parzen_ll.py</code>'s protocol). A smoke profile's number measures a barely trained model, not a reproduction. Parzen estimates are noisy and can rank a memoriser above a good model (Theis et al., 2016).</p>
${
    scrollTable(
      `<table class="table1"><thead><tr><th>model</th><th></th><th class="num">MNIST</th><th class="num">TFD</th></tr></thead><tbody>${
        paperRows.join("")
      }${
        measured.length
          ? measured.join("")
          : `<tr><td colspan="4" class="muted">no MNIST or TFD run with a Parzen estimate in this folder yet</td></tr>`
      }</tbody></table>`,
    )
  }`;
}

/** Mean ± SE over the seeds (SE = std / √n); one seed: its own SE, where it has one. */
export function meanSeOverSeeds(
  values: { value: number; se: number | null }[],
): { n: number; mean: number; se: number | null; over: "seeds" | "test images" | null } {
  const { n, mean, std } = meanStd(values.map((v) => v.value));
  if (n === 1) {
    const se = values.find((v) => Number.isFinite(v.value))!.se;
    return { n, mean, se, over: se === null ? null : "test images" };
  }
  return { n, mean, se: std === null ? null : std / Math.sqrt(n), over: n > 1 ? "seeds" : null };
}

/** One row per experiment (config): its main metric over the seeds, beside the paper's. */
function experimentsTable(groups: Group[]): string {
  const rows = groups.map((g) => {
    const results = g.runs.map((e) => e.result!);
    const completed = results.filter((r) => r.status === "completed");
    const main = completed.length ? mainMetric(completed[0]) : null;
    let value = `<td class="num">—</td>`, paper = `<td class="num">—</td>`;
    if (main) {
      const ms = completed.map(mainMetric).filter((m) => m?.key === main.key);
      const s = meanSeOverSeeds(ms.map((m) => ({ value: m!.value, se: m!.se })));
      const note = s.over === "seeds"
        ? `${s.n} seeds, ± SE over seeds`
        : s.over === "test images"
        ? "1 seed, ± SE over test images"
        : `${s.n} seed${s.n === 1 ? "" : "s"}`;
      value = `<td class="num"><small class="muted">${
        escapeHtml(labelWithUnit(main.key))
      }</small><br><span data-experiment-metric="${escapeHtml(main.key)}">${
        s.n ? valueWithSe(s.mean, s.se) : "—"
      }</span><br><small class="muted">${escapeHtml(note)}</small></td>`;
      if (main.paper) {
        paper = `<td class="num">${formatNumber(main.paper.mean)} ± ${
          formatNumber(main.paper.se)
        }</td>`;
      }
    }
    const verdicts = results.map(bandsVerdict).filter((v) => v !== null);
    const bands = verdicts.length === 0
      ? `<span class="muted">no bands declared</span>`
      : verdicts.every((v) => v.ok)
      ? `<span class="ok">bands met in ${verdicts.length} of ${results.length} runs</span>`
      : `<span class="bad">bands missed in ${
        verdicts.filter((v) => !v.ok).length
      } of ${results.length} runs</span>`;
    const caveat = notComparable(results[0]);
    return `<tr><td><a href="#${escapeHtml(anchor(g))}">${escapeHtml(g.experiment)}</a><br><small>${
      escapeHtml(g.profile)
    } profile · ${completed.length} of ${results.length} seeds completed</small>${
      caveat ? `<br><small class="bad">not comparable to the paper</small>` : ""
    }<br><small>${bands}</small></td>${value}${paper}</tr>`;
  });
  if (!rows.length) return "";
  return `<h2>Experiments</h2>
${
    scrollTable(
      `<table class="experiments"><thead><tr><th>experiment</th><th class="num">main metric, this folder</th><th class="num">paper</th></tr></thead><tbody>${
        rows.join("")
      }</tbody></table>`,
    )
  }`;
}

function anchor(g: Group): string {
  return `${g.experiment}-${g.configHash.slice(0, 12)}`;
}

/**
 * The seeds' main curve over each other: the tracked Parzen estimate through training where
 * every run tracked it, else the discriminator's loss.
 */
function seedOverlay(g: Group, charts: ChartSet): string {
  const results = g.runs.map((e) => e.result!);
  const tracked = results.every((r) => r.tracked?.some((p) => p.parzen));
  const series = results.map((r, i) => ({
    label: `seed ${r.seed}`,
    color: RUN_COLORS[i % RUN_COLORS.length],
    data: tracked
      ? points(r.tracked!.map((p) => p.epoch), r.tracked!.map((p) => p.parzen?.mean ?? null))
      : points(r.history.step, r.history.dLoss),
  }));
  const spec = tracked
    ? lineChart(`${g.experiment}: Parzen log-likelihood by seed`, "epoch", "nats", series)
    : lineChart(`${g.experiment}: D loss by seed`, "iteration", "D loss", series);
  return charts.figure(spec);
}

export function renderIndexPage(entries: IndexEntry[]): string {
  const groups = groupRuns(entries);
  const charts = new ChartSet("overlay");
  const skipped = entries.filter((e) => e.skipped);
  const incomplete = entries.filter((e) => !e.result && !e.skipped);
  const body = `<h1>ganbench <small>runs in this folder</small></h1>
<p>Reproductions of ${
    escapeHtml(PAPER)
  }. Every run links to its page; numbers are rounded to 4 significant digits (the exact values are in each run's <code>result.json</code>). Per experiment, ± is the standard error over the completed seeds (std / √n, std with ddof 1); in the runs tables, mean ± std over seeds.</p>
${experimentsTable(groups)}
${
    groups.length
      ? `<h2>Seeds overlaid</h2>\n${groups.map((g) => seedOverlay(g, charts)).join("\n")}`
      : ""
  }
${table1(groups)}
<h2>Runs</h2>
${groups.map(groupTable).join("\n") || `<p class="muted">No completed runs yet.</p>`}
${
    skipped.length
      ? `<h2>Skipped</h2><table class="skipped"><thead><tr><th>experiment</th><th>seed</th><th>reason</th></tr></thead><tbody>${
        skipped.map((e) =>
          `<tr><td>${escapeHtml(e.experiment)}</td><td>${e.seed}</td><td>${
            escapeHtml(e.skipped!.reason)
          }</td></tr>`
        ).join("")
      }</tbody></table>`
      : ""
  }
${
    incomplete.length
      ? `<h2>Without a result</h2><p class="muted">Started but not finished (interrupted, running, or failed); <code>--resume</code> continues one from its checkpoint.</p><ul>${
        incomplete.map((e) => `<li>${escapeHtml(e.experiment)} seed ${e.seed}</li>`).join("")
      }</ul>`
      : ""
  }`;
  return renderPage({ title: "ganbench runs", body, script: false });
}
