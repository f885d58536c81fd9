/** Small static SVG charts (no script, no network), for pages that open from disk. */
import { escapeHtml, formatNumber } from "./html.ts";

export interface Series {
  label: string;
  color: string;
  y: number[];
}

const W = 560, H = 220, PAD = { l: 52, r: 12, t: 12, b: 28 };

export function lineChart(x: number[], series: Series[], title: string): string {
  const ys = series.flatMap((s) => s.y).filter(Number.isFinite);
  if (x.length === 0 || ys.length === 0) return `<p>${escapeHtml(title)}: no data</p>`;
  const [x0, x1] = [x[0], x[x.length - 1] === x[0] ? x[0] + 1 : x[x.length - 1]];
  let [y0, y1] = [Math.min(...ys), Math.max(...ys)];
  if (y0 === y1) [y0, y1] = [y0 - 1, y1 + 1];
  const px = (v: number) => PAD.l + ((v - x0) / (x1 - x0)) * (W - PAD.l - PAD.r);
  const py = (v: number) => H - PAD.b - ((v - y0) / (y1 - y0)) * (H - PAD.t - PAD.b);
  const lines = series.map((s) => {
    const pts = s.y.map((v, i) =>
      Number.isFinite(v) ? `${px(x[i]).toFixed(1)},${py(v).toFixed(1)}` : ""
    )
      .filter(Boolean).join(" ");
    return `<polyline fill="none" stroke="${s.color}" stroke-width="1.5" points="${pts}"/>`;
  });
  const legend = series.map((s, i) =>
    `<text x="${PAD.l + 8 + i * 120}" y="${PAD.t + 12}" fill="${s.color}">${
      escapeHtml(s.label)
    }</text>`
  );
  return svgFrame(title, [
    axes(formatNumber(y0), formatNumber(y1), formatNumber(x0), formatNumber(x1)),
    ...lines,
    ...legend,
  ]);
}

/** Two histograms over the same bins, drawn as step outlines. */
export function histogramChart(
  low: number,
  high: number,
  series: Series[],
  title: string,
): string {
  const bins = series[0]?.y.length ?? 0;
  const totals = series.map((s) => s.y.reduce((a, b) => a + b, 0) || 1);
  const dens = series.map((s, k) => s.y.map((c) => c / totals[k]));
  const ymax = Math.max(...dens.flat(), 1e-12);
  const px = (i: number) => PAD.l + (i / bins) * (W - PAD.l - PAD.r);
  const py = (v: number) => H - PAD.b - (v / ymax) * (H - PAD.t - PAD.b);
  const paths = dens.map((d, k) => {
    let path = `M${px(0)},${py(0)}`;
    d.forEach((
      v,
      i,
    ) => (path += ` L${px(i).toFixed(1)},${py(v).toFixed(1)} L${px(i + 1).toFixed(1)},${
      py(v).toFixed(1)
    }`));
    path += ` L${px(bins)},${py(0)}`;
    return `<path d="${path}" fill="none" stroke="${series[k].color}" stroke-width="1.5"/>`;
  });
  const legend = series.map((s, i) =>
    `<text x="${PAD.l + 8 + i * 120}" y="${PAD.t + 12}" fill="${s.color}">${
      escapeHtml(s.label)
    }</text>`
  );
  return svgFrame(title, [
    axes("0", formatNumber(ymax), formatNumber(low), formatNumber(high)),
    ...paths,
    ...legend,
  ]);
}

function axes(yLow: string, yHigh: string, xLow: string, xHigh: string): string {
  return `<line x1="${PAD.l}" y1="${H - PAD.b}" x2="${W - PAD.r}" y2="${
    H - PAD.b
  }" stroke="#888"/>` +
    `<line x1="${PAD.l}" y1="${PAD.t}" x2="${PAD.l}" y2="${H - PAD.b}" stroke="#888"/>` +
    `<text x="${PAD.l - 4}" y="${H - PAD.b}" text-anchor="end">${yLow}</text>` +
    `<text x="${PAD.l - 4}" y="${PAD.t + 10}" text-anchor="end">${yHigh}</text>` +
    `<text x="${PAD.l}" y="${H - 8}">${xLow}</text>` +
    `<text x="${W - PAD.r}" y="${H - 8}" text-anchor="end">${xHigh}</text>`;
}

function svgFrame(title: string, parts: string[]): string {
  return `<figure><svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" ` +
    `height="${H}" role="img" aria-label="${
      escapeHtml(title)
    }" font-size="11" font-family="sans-serif">` +
    parts.join("") + `</svg><figcaption>${escapeHtml(title)}</figcaption></figure>`;
}
