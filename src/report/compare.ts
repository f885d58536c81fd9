/**
 * Two or more runs side by side, from their result.json files alone: each shared metric's
 * values, the difference to the first run and, where both runs record a standard error, the
 * difference in combined standard errors; and the runs' training curves drawn over each
 * other as SVG (`deno task diff --svg DIR`).
 */
import type { Result } from "../record/result.ts";
import { type ChartSpec, lineChart, points, renderSvg, RUN_COLORS } from "./charts.ts";
import { formatNumber } from "./html.ts";
import { labelWithUnit, metricLabel } from "./metric-labels.ts";

export interface NamedRun {
  /** A short name for the run in the output: A, B, C, … */
  name: string;
  /** Where it was read from. */
  path: string;
  result: Result;
}

/** "A", "B", …, "Z", "AA", … */
export function runName(i: number): string {
  return i < 26 ? String.fromCharCode(65 + i) : runName(Math.floor(i / 26) - 1) + runName(i % 26);
}

/** "+0.25", "-1.5", "0". */
export function signed(x: number): string {
  return x > 0 ? `+${formatNumber(x)}` : formatNumber(x);
}

function seOf(r: Result, key: string): number | null {
  const se = metricLabel(key).se;
  const v = se ? r.metrics[se] : undefined;
  return typeof v === "number" && Number.isFinite(v) ? v : null;
}

/** The legend: each run's name, where it came from, and what it is. */
export function runLegend(runs: NamedRun[]): string[] {
  return runs.map(({ name, path, result: r }) =>
    `${name} = ${path} (${r.experiment}, seed ${r.seed}, ${r.profile} profile, ${r.status})`
  );
}

/**
 * Per metric every run has, in the first run's order: its name and label, then the values
 * (± SE where recorded), then each later run's difference to the first, in units and, where both have a
 * standard error, in combined standard errors (√(SE₁² + SE₂²)). Metrics only some runs
 * have are named after.
 */
export function compareMetrics(runs: NamedRun[]): string[] {
  const [first, ...rest] = runs;
  const keys = Object.keys(first.result.metrics);
  const shared = keys.filter((k) => runs.every((r) => typeof r.result.metrics[k] === "number"));
  const lines = [
    `metrics (${
      rest.map((r) => `${r.name} − ${first.name}`).join(", ")
    }; SE: in combined standard errors):`,
  ];
  if (!shared.length) lines.push("  no metric is shared by every run");
  for (const key of shared) {
    const values = runs.map((r) => {
      const v = r.result.metrics[key], se = seOf(r.result, key);
      return `${r.name} ${formatNumber(v)}${se === null ? "" : ` ± ${formatNumber(se)}`}`;
    });
    const diffs = rest.map((r) => {
      const a = first.result.metrics[key], b = r.result.metrics[key];
      const sa = seOf(first.result, key), sb = seOf(r.result, key);
      const combined = sa !== null && sb !== null ? Math.hypot(sa, sb) : null;
      return `${r.name} − ${first.name} ${signed(b - a)}${
        combined ? ` = ${signed((b - a) / combined)} SE` : ""
      }`;
    });
    lines.push(`  ${key}: ${labelWithUnit(key)}`, `    ${[...values, ...diffs].join("  ")}`);
  }
  const all = new Set(runs.flatMap((r) => Object.keys(r.result.metrics)));
  for (const r of runs) {
    const only = [...all].filter((k) =>
      !shared.includes(k) && typeof r.result.metrics[k] === "number"
    );
    if (only.length && only.length < all.size) {
      lines.push(`  not in every run, ${r.name} has: ${only.join(", ")}`);
    }
  }
  return lines;
}

/**
 * The runs' curves over each other, by file name: losses, discriminator outputs, and the
 * tracked scores where every run tracked them.
 */
export function overlayCharts(runs: NamedRun[]): Map<string, ChartSpec> {
  const color = (i: number) => RUN_COLORS[i % RUN_COLORS.length];
  const charts = new Map<string, ChartSpec>();
  const history = (title: string, yTitle: string, a: "dLoss" | "dReal", b: "gLoss" | "dFake") =>
    lineChart(
      title,
      "iteration",
      yTitle,
      runs.flatMap(({ name, result: r }, i) => [
        {
          label: `${name} ${a === "dLoss" ? "D loss" : "D(x)"}`,
          color: color(i),
          data: points(r.history.step, r.history[a]),
        },
        {
          label: `${name} ${b === "gLoss" ? "G loss" : "D(G(z))"}`,
          color: color(i),
          dash: "6 3",
          data: points(r.history.step, r.history[b]),
        },
      ]),
    );
  charts.set("losses.svg", history("Losses", "loss", "dLoss", "gLoss"));
  charts.set(
    "discriminator-outputs.svg",
    history("Discriminator outputs", "mean D", "dReal", "dFake"),
  );
  const tracked = (pick: (p: NonNullable<Result["tracked"]>[number]) => number | null) =>
    runs.every((r) => r.result.tracked?.some((p) => pick(p) !== null));
  if (tracked((p) => p.parzen?.mean ?? null)) {
    charts.set(
      "tracked-parzen.svg",
      lineChart(
        "Parzen log-likelihood through training",
        "epoch",
        "nats",
        runs.map(({ name, result: r }, i) => ({
          label: name,
          color: color(i),
          data: points(
            r.tracked!.map((p) => p.epoch),
            r.tracked!.map((p) => p.parzen?.mean ?? null),
          ),
        })),
      ),
    );
  }
  if (tracked((p) => p.classifierScore)) {
    charts.set(
      "tracked-classifier-score.svg",
      lineChart(
        "Classifier score through training",
        "epoch",
        "score",
        runs.map(({ name, result: r }, i) => ({
          label: name,
          color: color(i),
          data: points(r.tracked!.map((p) => p.epoch), r.tracked!.map((p) => p.classifierScore)),
        })),
      ),
    );
  }
  return charts;
}

/** The overlay charts as standalone SVG documents, by file name. */
export function overlaySvgs(runs: NamedRun[]): Map<string, string> {
  return new Map(
    [...overlayCharts(runs)].map((
      [file, spec],
    ) => [file, renderSvg(spec, file.replace(".svg", ""))]),
  );
}
