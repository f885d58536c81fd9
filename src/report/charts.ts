/**
 * Charts as SVG text: line charts over a numeric (or logarithmic) x axis and bar charts over
 * categories. A chart is a plain data description (ChartSpec); `renderSvg` draws it, so the
 * same chart is inlined in a page, written as a file (`diff --svg`) and exported as CSV.
 * Axis ticks come from d3-scale. The SVG scales to its container's width; its text is sized
 * for a phone (the viewBox is narrow, so text stays legible when shrunk to ~360 px).
 */
// @ts-types="@types/d3-scale"
import { scaleLinear, scaleLog } from "d3-scale";
import { escapeHtml } from "./html.ts";

export interface Point {
  x: number;
  y: number | null;
}

export interface SeriesSpec {
  label: string;
  color: string;
  data: Point[];
  /** SVG stroke-dasharray, e.g. "6 3". */
  dash?: string;
  /** Drawn as steps centred on each x (a histogram). */
  stepped?: boolean;
}

export interface LineSpec {
  kind: "line";
  title: string;
  xTitle: string;
  yTitle: string;
  series: SeriesSpec[];
  xLog?: boolean;
  yMin?: number;
  yMax?: number;
}

export interface BarSpec {
  kind: "bar";
  title: string;
  xTitle: string;
  yTitle: string;
  labels: string[];
  bars: { label: string; color: string; data: number[] };
  /** A dashed line across the categories (e.g. the uniform share). */
  reference?: { label: string; color: string; data: number[] };
}

export type ChartSpec = LineSpec | BarSpec;

export const COLORS = {
  d: "#1f77b4",
  g: "#d62728",
  real: "#222222",
  generated: "#2ca02c",
  disc: "#1f77b4",
  grey: "#888888",
};

/** Colours for runs or seeds drawn over each other (distinct for colour-blind readers too). */
export const RUN_COLORS = [
  "#0072b2",
  "#d55e00",
  "#009e73",
  "#cc79a7",
  "#e69f00",
  "#56b4e9",
  "#000000",
  "#f0e442",
];

/** Finite values as points; others as gaps (null), so a diverged run's NaN shows as a break. */
export function points(x: number[], y: (number | null)[]): Point[] {
  return x.map((v, i) => ({
    x: v,
    y: typeof y[i] === "number" && Number.isFinite(y[i]) ? y[i] : null,
  }));
}

export function lineChart(
  title: string,
  xTitle: string,
  yTitle: string,
  series: SeriesSpec[],
  extra: { xLog?: boolean; yMin?: number; yMax?: number } = {},
): LineSpec {
  return { kind: "line", title, xTitle, yTitle, series, ...extra };
}

export function barChart(
  title: string,
  xTitle: string,
  yTitle: string,
  labels: string[],
  bars: BarSpec["bars"],
  reference?: BarSpec["reference"],
): BarSpec {
  return { kind: "bar", title, xTitle, yTitle, labels, bars, ...(reference ? { reference } : {}) };
}

/** The SVG's coordinate size; it is drawn at the container's width, keeping this ratio. */
export const SVG_SIZE = { width: 460, height: 300 };
const FONT = 13;
const MARGIN = { right: 14, bottom: 42 };
/** Room left of the plot: the y title, then the widest tick label. */
const leftMargin = (labels: string[]) =>
  Math.ceil(26 + Math.max(1, ...labels.map((l) => l.length)) * CHAR);
/** Rough width of a character of the chart's font, for laying out the legend. */
const CHAR = 0.58 * FONT;

const f1 = (v: number) => (Math.round(v * 10) / 10).toString();

interface Layout {
  top: number;
  legend: string;
}

/** Legend entries left to right, wrapped into rows; returns the plot's top edge. */
function legend(
  items: { label: string; color: string; dash?: string; bar?: boolean }[],
  left: number,
): Layout {
  const parts: string[] = [];
  let x = left, y = 24 + FONT + 4;
  for (const item of items) {
    const w = 22 + item.label.length * CHAR + 14;
    if (x + w > SVG_SIZE.width - MARGIN.right && x > left) {
      x = left;
      y += FONT + 5;
    }
    const swatch = item.bar
      ? `<rect x="${f1(x)}" y="${f1(y - 9)}" width="16" height="9" fill="${item.color}"/>`
      : `<line x1="${f1(x)}" x2="${f1(x + 16)}" y1="${f1(y - 4)}" y2="${
        f1(y - 4)
      }" stroke="${item.color}" stroke-width="2.5"${
        item.dash ? ` stroke-dasharray="${item.dash}"` : ""
      }/>`;
    parts.push(`${swatch}<text x="${f1(x + 21)}" y="${f1(y)}">${escapeHtml(item.label)}</text>`);
    x += w;
  }
  return { top: y + 10, legend: parts.join("") };
}

/** The extent of the finite values, widened when empty or a single value. */
function extent(values: number[], positive = false): [number, number] {
  const xs = values.filter((v) => Number.isFinite(v) && (!positive || v > 0));
  if (!xs.length) return positive ? [1, 10] : [0, 1];
  let lo = Math.min(...xs), hi = Math.max(...xs);
  if (lo === hi) {
    if (positive) [lo, hi] = [lo / 2, hi * 2];
    else {
      const pad = Math.abs(lo) * 0.1 || 1;
      [lo, hi] = [lo - pad, hi + pad];
    }
  }
  return [lo, hi];
}

function frame(
  spec: ChartSpec,
  id: string,
  body: string,
  box: { top: number; left: number },
  legendSvg: string,
): string {
  const { top, left } = box;
  const { width, height } = SVG_SIZE;
  const bottom = height - MARGIN.bottom;
  const mid = (top + bottom) / 2;
  return `<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 ${width} ${height}" role="img" aria-labelledby="${id}-title" font-family="DejaVu Sans, system-ui, sans-serif" font-size="${FONT}">` +
    `<title id="${id}-title">${escapeHtml(spec.title)}</title>` +
    `<rect width="${width}" height="${height}" fill="#fff"/>` +
    `<text x="${width / 2}" y="18" text-anchor="middle" font-size="${
      FONT + 2
    }" font-weight="bold">${escapeHtml(spec.title)}</text>` +
    legendSvg + body +
    `<text x="${(left + width - MARGIN.right) / 2}" y="${height - 6}" text-anchor="middle">${
      escapeHtml(spec.xTitle)
    }</text>` +
    `<text transform="translate(14 ${f1(mid)}) rotate(-90)" text-anchor="middle">${
      escapeHtml(spec.yTitle)
    }</text></svg>`;
}

function yAxis(y: (v: number) => number, ticks: { at: number; label: string }[], x0: number) {
  const x1 = SVG_SIZE.width - MARGIN.right;
  return ticks.map((t) =>
    `<line x1="${x0}" x2="${x1}" y1="${f1(y(t.at))}" y2="${f1(y(t.at))}" stroke="#e4e4e4"/>` +
    `<text x="${x0 - 5}" y="${f1(y(t.at) + 4)}" text-anchor="end">${escapeHtml(t.label)}</text>`
  ).join("");
}

/** A series as path data: a new subpath after each gap. */
function pathData(data: { x: number; y: number }[][]): string {
  return data.filter((run) => run.length).map((run) =>
    run.map((p, i) => `${i ? "L" : "M"}${f1(p.x)} ${f1(p.y)}`).join("")
  ).join("");
}

/** Runs of consecutive finite points; a stepped series becomes horizontal steps. */
function segments(s: SeriesSpec, usable: (p: Point) => boolean): Point[][] {
  const runs: Point[][] = [];
  let current: Point[] = [];
  s.data.forEach((p, i) => {
    if (p.y === null || !usable(p)) {
      if (current.length) runs.push(current);
      current = [];
      return;
    }
    if (!s.stepped) return void current.push(p);
    const prev = s.data[i - 1], next = s.data[i + 1];
    const left = prev ? (prev.x + p.x) / 2 : p.x - (next ? (next.x - p.x) / 2 : 0.5);
    const right = next ? (p.x + next.x) / 2 : p.x + (prev ? (p.x - prev.x) / 2 : 0.5);
    current.push({ x: left, y: p.y }, { x: right, y: p.y });
  });
  if (current.length) runs.push(current);
  return runs;
}

function renderLine(spec: LineSpec, id: string): string {
  const bottom = SVG_SIZE.height - MARGIN.bottom, right = SVG_SIZE.width - MARGIN.right;
  const all = spec.series.flatMap((s) => s.data);
  let [ylo, yhi] = extent(all.map((p) => p.y ?? NaN));
  if (spec.yMin !== undefined) ylo = spec.yMin;
  if (spec.yMax !== undefined) yhi = spec.yMax;
  if (!(yhi > ylo)) yhi = ylo + 1;
  // ticks depend on the domain only, so the margin can be sized before the range is known
  const y = scaleLinear().domain([ylo, yhi]);
  if (spec.yMin === undefined && spec.yMax === undefined) y.nice(5);
  const yFormat = y.tickFormat(5);
  const yTicks = y.ticks(5).map((at) => ({ at, label: yFormat(at) }));
  const left = leftMargin(yTicks.map((t) => t.label));
  const { top, legend: legendSvg } = legend(spec.series, left);
  y.range([bottom, top]);
  const xs = extent(all.map((p) => p.x), spec.xLog);
  const x = spec.xLog
    ? scaleLog().domain(xs).range([left, right])
    : scaleLinear().domain(xs).range([left, right]).nice(6);
  const xFormat = spec.xLog ? x.tickFormat(6, "~g") : x.tickFormat(6);
  const [dlo, dhi] = x.domain();
  const inside = (p: Point) => p.x >= Math.min(dlo, dhi) && p.x <= Math.max(dlo, dhi);
  const xAxis = x.ticks(6).filter((t) => xFormat(t) !== "").map((t) =>
    `<line x1="${f1(x(t))}" x2="${f1(x(t))}" y1="${bottom}" y2="${bottom + 5}" stroke="#555"/>` +
    `<text x="${f1(x(t))}" y="${bottom + 18}" text-anchor="middle">${escapeHtml(xFormat(t))}</text>`
  ).join("");
  const lines = spec.series.map((s) => {
    const runs = segments(s, inside).map((run) => run.map((p) => ({ x: x(p.x), y: y(p.y!) })));
    const dots = !s.stepped && s.data.length <= 60
      ? runs.flat().map((p) => `<circle cx="${f1(p.x)}" cy="${f1(p.y)}" r="2.2"/>`).join("")
      : "";
    return `<g fill="${s.color}"><path d="${
      pathData(runs)
    }" fill="none" stroke="${s.color}" stroke-width="1.8" stroke-linejoin="round"${
      s.dash ? ` stroke-dasharray="${s.dash}"` : ""
    }/>${dots}</g>`;
  }).join("");
  const body = yAxis(y, yTicks, left) +
    `<clipPath id="${id}-clip"><rect x="${left}" y="${top - 3}" width="${right - left}" height="${
      bottom - top + 6
    }"/></clipPath>` +
    `<line x1="${left}" x2="${right}" y1="${bottom}" y2="${bottom}" stroke="#555"/>` + xAxis +
    `<g clip-path="url(#${id}-clip)">${lines}</g>`;
  return frame(spec, id, body, { top, left }, legendSvg);
}

function renderBar(spec: BarSpec, id: string): string {
  const bottom = SVG_SIZE.height - MARGIN.bottom, right = SVG_SIZE.width - MARGIN.right;
  const values = [...spec.bars.data, ...(spec.reference?.data ?? []), 0];
  const y = scaleLinear().domain(extent(values)).nice(5);
  const yFormat = y.tickFormat(5);
  const yTicks = y.ticks(5).map((at) => ({ at, label: yFormat(at) }));
  const left = leftMargin(yTicks.map((t) => t.label));
  const { top, legend: legendSvg } = legend([
    { ...spec.bars, bar: true },
    ...(spec.reference ? [{ ...spec.reference, dash: "5 3" }] : []),
  ], left);
  y.range([bottom, top]);
  const band = (right - left) / spec.labels.length;
  const bars = spec.bars.data.map((v, i) => {
    const y0 = y(0), y1 = y(Number.isFinite(v) ? v : 0);
    return `<rect x="${f1(left + i * band + band * 0.15)}" y="${f1(Math.min(y0, y1))}" width="${
      f1(band * 0.7)
    }" height="${f1(Math.abs(y1 - y0))}"/>`;
  }).join("");
  const labels = spec.labels.map((l, i) =>
    `<text x="${f1(left + (i + 0.5) * band)}" y="${bottom + 18}" text-anchor="middle">${
      escapeHtml(l)
    }</text>`
  ).join("");
  const ref = spec.reference
    ? `<path d="${
      pathData([spec.reference.data.map((v, i) => ({ x: left + (i + 0.5) * band, y: y(v) }))])
    }" fill="none" stroke="${spec.reference.color}" stroke-width="1.8" stroke-dasharray="5 3"/>`
    : "";
  const body = yAxis(y, yTicks, left) + `<g fill="${spec.bars.color}">${bars}</g>` +
    `<line x1="${left}" x2="${right}" y1="${bottom}" y2="${bottom}" stroke="#555"/>` + labels + ref;
  return frame(spec, id, body, { top, left }, legendSvg);
}

/** The chart as a standalone SVG document; `id` prefixes its element ids (unique per page). */
export function renderSvg(spec: ChartSpec, id = "chart"): string {
  return spec.kind === "line" ? renderLine(spec, id) : renderBar(spec, id);
}

function csvField(v: string | number | null): string {
  if (v === null) return "";
  const s = String(v);
  return /[",\n\r]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/**
 * The chart's numbers as CSV (exact values, not rounded): one column per series when every
 * series has the same x values, else one row per point (series, x, y).
 */
export function chartCsv(spec: ChartSpec): string {
  const rows: (string | number | null)[][] = [];
  if (spec.kind === "bar") {
    rows.push([spec.xTitle, spec.bars.label, ...(spec.reference ? [spec.reference.label] : [])]);
    spec.labels.forEach((l, i) =>
      rows.push([l, spec.bars.data[i], ...(spec.reference ? [spec.reference.data[i]] : [])])
    );
  } else {
    const first = spec.series[0]?.data.map((p) => p.x) ?? [];
    const shared = spec.series.every((s) =>
      s.data.length === first.length && s.data.every((p, i) => p.x === first[i])
    );
    if (shared) {
      rows.push([spec.xTitle, ...spec.series.map((s) => s.label)]);
      first.forEach((xv, i) => rows.push([xv, ...spec.series.map((s) => s.data[i].y)]));
    } else {
      rows.push(["series", spec.xTitle, spec.yTitle]);
      for (const s of spec.series) for (const p of s.data) rows.push([s.label, p.x, p.y]);
    }
  }
  return toCsv(rows);
}

/** Rows as CSV text: fields quoted where needed, null as an empty field. */
export function toCsv(rows: (string | number | null)[][]): string {
  return rows.map((r) => r.map(csvField).join(",")).join("\n") + "\n";
}

/** A file name from a chart's title: "Losses" → "losses". */
export function chartSlug(title: string): string {
  return title.toLowerCase().normalize("NFKD").replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "") ||
    "chart";
}
