/**
 * Charts as chart.js configurations (plain JSON), drawn twice from the same configuration:
 * to PNG here with chart.js on @napi-rs/canvas (Skia), and interactively in the page by the
 * chart.js build inlined there. Text uses DejaVu Sans from npm, so a PNG looks the same on
 * every machine.
 */
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import type { ChartConfiguration } from "chart.js";

export type ChartSpec = ChartConfiguration & { options: { plugins: { title: { text: string } } } };
export interface Point {
  x: number;
  y: number | null;
}

export const CHART_SIZE = { width: 600, height: 280 };
/** PNG pixels per CSS pixel: sharp on most screens, half the bytes of 2×. */
export const SCALE = 1.5;
const FONT = "DejaVu Sans";
export const COLORS = {
  d: "#1f77b4",
  g: "#d62728",
  real: "#222222",
  generated: "#2ca02c",
  disc: "#1f77b4",
  grey: "#888888",
};

/** Finite values as points; others as gaps (null), so a diverged run's NaN shows as a break. */
export function points(x: number[], y: (number | null)[]): Point[] {
  return x.map((v, i) => ({
    x: v,
    y: typeof y[i] === "number" && Number.isFinite(y[i]) ? y[i] : null,
  }));
}

export interface SeriesSpec {
  label: string;
  color: string;
  data: Point[];
  dash?: number[];
  stepped?: boolean;
}

/** A line chart over a numeric x axis. */
export function lineSpec(
  title: string,
  xTitle: string,
  yTitle: string,
  series: SeriesSpec[],
  extra: { xLog?: boolean; yMin?: number; yMax?: number } = {},
): ChartSpec {
  return {
    type: "line",
    data: {
      datasets: series.map((s) => ({
        label: s.label,
        data: s.data,
        borderColor: s.color,
        backgroundColor: s.color,
        borderWidth: 1.5,
        borderDash: s.dash ?? [],
        pointRadius: s.stepped || s.data.length > 60 ? 0 : 2,
        stepped: s.stepped ? "middle" : false,
        spanGaps: false,
      })),
    },
    options: {
      animation: false,
      responsive: false,
      parsing: false,
      normalized: true,
      font: { family: FONT },
      plugins: {
        title: { display: true, text: title, font: { family: FONT, size: 14 } },
        legend: { labels: { font: { family: FONT } } },
      },
      scales: {
        x: {
          type: extra.xLog ? "logarithmic" : "linear",
          title: { display: true, text: xTitle, font: { family: FONT } },
          ticks: { font: { family: FONT } },
        },
        y: {
          min: extra.yMin,
          max: extra.yMax,
          title: { display: true, text: yTitle, font: { family: FONT } },
          ticks: { font: { family: FONT } },
        },
      },
    },
  } as ChartSpec;
}

/** A bar chart over category labels, with an optional reference line. */
export function barSpec(
  title: string,
  labels: string[],
  bars: { label: string; color: string; data: number[] },
  reference?: { label: string; color: string; data: number[] },
): ChartSpec {
  const datasets: unknown[] = [{
    type: "bar",
    label: bars.label,
    data: bars.data,
    backgroundColor: bars.color,
  }];
  if (reference) {
    datasets.push({
      type: "line",
      label: reference.label,
      data: reference.data,
      borderColor: reference.color,
      backgroundColor: reference.color,
      borderDash: [4, 3],
      pointRadius: 0,
    });
  }
  return {
    type: "bar",
    data: { labels, datasets },
    options: {
      animation: false,
      responsive: false,
      font: { family: FONT },
      plugins: {
        title: { display: true, text: title, font: { family: FONT, size: 14 } },
        legend: { labels: { font: { family: FONT } } },
      },
      scales: {
        x: { ticks: { font: { family: FONT } } },
        y: { ticks: { font: { family: FONT } } },
      },
    },
  } as unknown as ChartSpec;
}

const require = createRequire(import.meta.url);

/** The minified browser build of chart.js from the installed package, for inlining. */
export function chartJsSource(): string {
  const entry = require.resolve("chart.js"); // …/chart.js/dist/chart.cjs
  return Deno.readTextFileSync(join(dirname(entry), "chart.umd.min.js"));
}

interface Canvas2d {
  save(): void;
  restore(): void;
  fillStyle: string;
  fillRect(x: number, y: number, w: number, h: number): void;
}

let renderer: Promise<(spec: ChartSpec) => Promise<Uint8Array>> | null = null;

/** Loads chart.js and Skia once, registering DejaVu Sans from npm. */
function loadRenderer() {
  renderer ??= (async () => {
    const { createCanvas, GlobalFonts } = await import("@napi-rs/canvas");
    const { Chart, registerables } = await import("chart.js");
    Chart.register(...registerables);
    const fonts = join(dirname(require.resolve("dejavu-fonts-ttf/package.json")), "ttf");
    for (const file of ["DejaVuSans.ttf", "DejaVuSans-Bold.ttf"]) {
      if (!GlobalFonts.registerFromPath(join(fonts, file), FONT)) {
        throw new Error(`could not register the font ${join(fonts, file)}`);
      }
    }
    Chart.defaults.font.family = FONT;
    return async (spec: ChartSpec) => {
      // chart.js sizes the canvas to CSS size × devicePixelRatio itself
      const canvas = createCanvas(CHART_SIZE.width, CHART_SIZE.height);
      const ctx = canvas.getContext("2d");
      const config = structuredClone(spec);
      config.options = { ...config.options, devicePixelRatio: SCALE };
      // white, not transparent: the PNG is also meant to be saved and reused
      config.plugins = [{
        id: "white-background",
        beforeDraw: (c: { ctx: Canvas2d; width: number; height: number }) => {
          c.ctx.save();
          c.ctx.fillStyle = "#ffffff";
          c.ctx.fillRect(0, 0, c.width, c.height);
          c.ctx.restore();
        },
      }] as unknown as typeof config.plugins;
      // chart.js takes a canvas-like object; Skia's context has the methods it calls
      // deno-lint-ignore no-explicit-any
      const chart = new Chart(ctx as any, config);
      try {
        return new Uint8Array(await canvas.encode("png"));
      } finally {
        chart.destroy();
      }
    };
  })();
  return renderer;
}

let unavailable: string | null = null;

/**
 * The chart as PNG bytes (SCALE × its CSS size), or null when Skia cannot load (e.g. Deno
 * without --allow-ffi): the page then has only the live chart, and a warning says why.
 */
export async function renderChartPng(spec: ChartSpec): Promise<Uint8Array | null> {
  if (unavailable !== null) return null;
  let render;
  try {
    render = await loadRenderer();
  } catch (e) {
    unavailable = (e as Error).message.split("\n")[0];
    console.warn(`warning: static chart images skipped (@napi-rs/canvas: ${unavailable})`);
    return null;
  }
  return render(spec);
}
