/**
 * The run page's section for 2-D mixture runs: scatters of generated samples over the
 * mode centres (with their 3σ discs) at snapshots through training, as the mode-collapse
 * papers' figures, and modes captured and the high-quality fraction against iterations.
 * Everything comes from the snapshot files (src/metrics/mixture.ts ScatterSnapshot).
 */
import type { ScatterSnapshot } from "../metrics/mixture.ts";
import type { Result } from "../record/result.ts";
import { COLORS, lineChart } from "./charts.ts";
import { escapeHtml, formatNumber } from "./html.ts";
import type { ChartSet } from "./page.ts";

/** Snapshots shown as scatters: about this many, evenly spaced, the last included. */
export const SCATTER_PANELS = 6;
const SIZE = 220;

export function isScatterSnapshot(value: unknown): value is ScatterSnapshot {
  return typeof value === "object" && value !== null &&
    (value as { kind?: unknown }).kind === "scatter";
}

/** One scatter as inline SVG: square axes around every centre, y pointing up. */
export function scatterSvg(s: ScatterSnapshot, sigmas: number): string {
  const xs = s.centres.map((c) => c[0]), ys = s.centres.map((c) => c[1]);
  const span = Math.max(Math.max(...xs) - Math.min(...xs), Math.max(...ys) - Math.min(...ys));
  const half = span / 2 + Math.max(span * 0.25, 6 * s.std);
  const cx = (Math.max(...xs) + Math.min(...xs)) / 2, cy = (Math.max(...ys) + Math.min(...ys)) / 2;
  const px = (x: number) => ((x - (cx - half)) / (2 * half)) * SIZE;
  const py = (y: number) => SIZE - ((y - (cy - half)) / (2 * half)) * SIZE;
  const r = Math.max((sigmas * s.std / (2 * half)) * SIZE, 1.5);
  const discs = s.centres.map(([x, y]) =>
    `<circle cx="${px(x).toFixed(1)}" cy="${py(y).toFixed(1)}" r="${
      r.toFixed(1)
    }" fill="none" stroke="${COLORS.d}" stroke-width="1"/>`
  ).join("");
  const dots: string[] = [];
  let outside = 0;
  for (let i = 0; i + 1 < s.points.length; i += 2) {
    const x = px(s.points[i]), y = py(s.points[i + 1]);
    if (!(x >= 0 && x <= SIZE && y >= 0 && y <= SIZE)) {
      outside++;
      continue;
    }
    dots.push(`<circle cx="${x.toFixed(1)}" cy="${y.toFixed(1)}" r="1.2"/>`);
  }
  const caption =
    `after ${s.iteration} iterations: ${s.scores.modesCaptured} of ${s.scores.modes} modes, ${
      formatNumber(100 * s.scores.highQualityFraction)
    } % high quality${outside ? `, ${outside} point${outside === 1 ? "" : "s"} off the plot` : ""}`;
  return `<figure class="scatter" data-iteration="${s.iteration}"><svg xmlns="http://www.w3.org/2000/svg" width="${SIZE}" height="${SIZE}" viewBox="0 0 ${SIZE} ${SIZE}" role="img" aria-label="${
    escapeHtml(caption)
  }"><rect width="${SIZE}" height="${SIZE}" fill="#fff" stroke="#ccc"/>${discs}<g fill="${COLORS.g}" fill-opacity="0.35">${
    dots.join("")
  }</g></svg><figcaption>${escapeHtml(caption)}</figcaption></figure>`;
}

/** The evenly spaced picks of `n` snapshots (first and last included). */
export function panelPicks(n: number, panels = SCATTER_PANELS): number[] {
  if (n <= panels) return Array.from({ length: n }, (_, i) => i);
  return [
    ...new Set(Array.from({ length: panels }, (_, k) => Math.round((k * (n - 1)) / (panels - 1)))),
  ];
}

/** The section for a mixture run (empty for any other run). */
export function mixtureSection(
  r: Result,
  snapshotValues: unknown[],
  charts: ChartSet,
): string {
  const m = r.config.metrics;
  if (m.kind !== "mixture-2d") return "";
  const snaps = snapshotValues.filter(isScatterSnapshot).sort((a, b) => a.iteration - b.iteration);
  if (!snaps.length) return "";
  const panels = panelPicks(snaps.length).map((i) => scatterSvg(snaps[i], m.sigmas));
  const curve = charts.figure(
    lineChart("Modes captured through training", "iteration", "modes / %", [
      {
        label: "modes captured",
        color: COLORS.d,
        data: snaps.map((s) => ({ x: s.iteration, y: s.scores.modesCaptured })),
      },
      {
        label: "high-quality samples (% / 100 × modes)",
        color: COLORS.generated,
        dash: "6 3",
        data: snaps.map((s) => ({
          x: s.iteration,
          y: s.scores.highQualityFraction * s.scores.modes,
        })),
      },
    ], { yMin: 0, yMax: snaps[0].scores.modes }),
    `Scored on ${
      m.samples.toLocaleString("en")
    } samples of the fixed latent batch at each snapshot (the final metrics above use fresh samples): a mode counts with at least ${m.modeThreshold} high-quality sample${
      m.modeThreshold === 1 ? "" : "s"
    } (within ${m.sigmas}σ of its centre). The dashed line is the high-quality fraction scaled to the modes axis.`,
  );
  return `<h2>Samples over the mode centres</h2>
<p>As the mode-collapse papers' figures: ${
    Math.min(snaps[0].points.length / 2, 1000)
  } samples of the fixed latent batch (red) over the ${
    snaps[0].scores.modes
  } centres, each drawn with its ${m.sigmas}σ disc (blue), at ${panels.length} snapshots.</p>
<div class="panels">${panels.join("\n")}</div>
${curve}`;
}
