/**
 * One run's page, from its result.json and the figures in its folder. It leads with what a
 * reader looks for: a headline (status, the main metric beside the paper's number, the
 * stability bands), then samples and training curves, then the paper's figures, every
 * metric labelled in words, and the details (provenance, the resolved config) at the end.
 */
import { CONDITIONAL_PAPER, CONDITIONAL_TABLE1, PAPER } from "../metrics/table1.ts";
import { formatBand, historySeries } from "../record/bands.ts";
import { HISTORY_SERIES } from "../record/history.ts";
import {
  D_WON_ACCURACY,
  D_WON_GRADIENT_RATIO,
  dWonFraction,
  lastQuarter,
  oscillation,
} from "../record/stability.ts";
import type { DensitySnapshot } from "../record/figures.ts";
import type { Result } from "../record/result.ts";
import { barChart, COLORS, lineChart, points, toCsv } from "./charts.ts";
import { mainMetric, notComparable } from "./headline.ts";
import { escapeHtml, formatNumber } from "./html.ts";
import { labelWithUnit, metricLabel } from "./metric-labels.ts";
import { ChartSet, dataUri, renderPage, scrollTable } from "./page.ts";
import type { RunData } from "./run-data.ts";
import { mixtureSection } from "./scatter.ts";

/** Pixels per image pixel when sample grids are shown (they are stored at native size). */
const ZOOM = 2;

function keyValueTable(rows: [string, string][]): string {
  return scrollTable(
    `<table class="kv">${
      rows.map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`).join("")
    }</table>`,
  );
}

/** A metric cell: the rounded number shown, the exact value in data-value (tests read it). */
export function numberCell(x: number | null | undefined, key = ""): string {
  const exact = typeof x === "number" ? String(x) : "";
  return `<td class="num"${key ? ` data-metric="${escapeHtml(key)}"` : ""} data-value="${
    escapeHtml(exact)
  }">${formatNumber(x)}</td>`;
}

/** "−59.2 ± 3.1" or "0.31". */
export function valueWithSe(value: number, se: number | null): string {
  return se === null ? formatNumber(value) : `${formatNumber(value)} ± ${formatNumber(se)}`;
}

/** "6/6 met", or the missed bands by label; null when the profile declares none. */
export function bandsVerdict(r: Pick<Result, "checks">): { ok: boolean; text: string } | null {
  if (!r.checks?.length) return null;
  const missed = r.checks.filter((c) => !c.pass);
  return missed.length
    ? { ok: false, text: `missed: ${missed.map((c) => metricLabel(c.metric).label).join(", ")}` }
    : { ok: true, text: `${r.checks.length}/${r.checks.length} met` };
}

function trainedIterations(r: Result): number {
  return r.evaluatedAtIteration ?? r.history.step.at(-1) ?? 0;
}

/** The top of the page: status, main metric beside the paper's, the bands. */
function headline(r: Result): string {
  const caveat = notComparable(r);
  const cells: string[] = [];
  const cell = (what: string, value: string, extra = "", cls = "") =>
    `<div><div class="what">${escapeHtml(what)}</div><div class="big${
      cls ? ` ${cls}` : ""
    }"${extra}>${value}</div></div>`;
  const ok = r.status === "completed";
  cells.push(cell(
    "status",
    escapeHtml(r.status + (r.divergedAt ? ` at ${r.divergedAt}` : "")),
    "",
    ok ? "ok" : "bad",
  ));
  const main = mainMetric(r);
  if (main) {
    const label = metricLabel(main.key);
    let paper = "";
    if (main.paper) {
      const p = r.parzen!.paper!;
      const diff = `${formatNumber(p.delta)} ${escapeHtml(label.unit)} = ${
        formatNumber(p.standardErrors)
      } standard errors of the difference`;
      paper = `<div class="what">paper, Table 1: ${formatNumber(main.paper.mean)} ± ${
        formatNumber(main.paper.se)
      }</div><div class="what" data-paper-difference>${
        caveat ? `not compared (${escapeHtml(r.profile)} profile)` : `difference: <b>${diff}</b>`
      }</div>`;
    }
    cells.push(
      `<div><div class="what">${
        escapeHtml(labelWithUnit(main.key))
      }</div><div class="big" data-headline="${escapeHtml(main.key)}" data-value="${main.value}">${
        valueWithSe(main.value, main.se)
      }</div>${paper}</div>`,
    );
  }
  const bands = bandsVerdict(r);
  cells.push(
    bands
      ? cell(
        `stability bands (${r.profile} profile)`,
        escapeHtml(bands.text),
        "",
        bands.ok ? "ok" : "bad",
      )
      : cell("stability bands", "none declared", "", "muted"),
  );
  cells.push(
    `<div><div class="what">trained</div><div>${
      trainedIterations(r)
    } of ${r.iterations} iterations · ${r.wallSeconds.toFixed(1)} s · ${
      escapeHtml(r.backend.name)
    }</div></div>`,
  );
  return `${
    caveat ? `<p class="banner" role="note">${escapeHtml(caveat)}</p>\n` : ""
  }<section class="headline" aria-label="result">${cells.join("")}</section>`;
}

export function provenanceRows(r: Result): [string, string][] {
  const adapter = r.backend.adapter
    ? ` (${r.backend.adapter.description}${
      r.backend.adapter.isFallbackAdapter ? ", software fallback" : ""
    })`
    : "";
  const blas = r.backend.blas
    ? `; ${
      r.backend.blas.config.split(" ").slice(0, 2).join(" ")
    }, ${r.backend.blas.core} kernels, ${r.backend.blas.threads} thread${
      r.backend.blas.threads === 1 ? "" : "s"
    }`
    : "";
  const trained = r.evaluatedAtIteration ?? r.history.step.at(-1) ?? 0;
  return [
    ["status", r.status + (r.divergedAt ? ` at iteration ${r.divergedAt}` : "")],
    ["reproduces", r.config.conditional ? CONDITIONAL_PAPER : PAPER],
    ["seed", String(r.seed)],
    ["profile", r.profile],
    [
      "iterations",
      `${trained} of ${r.iterations}` + (r.resumedFrom ? ` (resumed at ${r.resumedFrom})` : ""),
    ],
    ["backend", `${r.backend.name}${adapter} (requested: ${r.backend.requested}${blas})`],
    [
      "train step",
      r.trainStep === "fused"
        ? "fused (hand-written MLP update on OpenBLAS, src/train/steps/fused-mlp.ts)"
        : "autodiff (TF.js gradients)",
    ],
    [
      "versions",
      `deno ${r.versions.deno}, V8 ${r.versions.v8}, TF.js ${r.versions.tfjs}, ganbench ${
        r.versions.ganbench ?? "unknown"
      }`,
    ],
    [
      "data",
      r.data
        ? `${r.data.name} (${r.data.trainSplit}, ${r.data.trainCount} examples, ${r.data.scale})`
        : "sampled",
    ],
    [
      "parameters",
      `G ${r.parameters.generator.toLocaleString("en")}, D ${
        r.parameters.discriminator.toLocaleString("en")
      }`,
    ],
    ...(r.pretrainedFrom
      ? [
        [
          "pretrained from",
          `${r.pretrainedFrom.experiment} at iteration ${r.pretrainedFrom.iteration} (config ${
            r.pretrainedFrom.configHash.slice(0, 12)
          })`,
        ] as [string, string],
      ]
      : []),
    ["config hash", r.configHash],
    ["started", r.startedAt],
    ["wall time", `${r.wallSeconds.toFixed(1)} s`],
  ];
}

function parzenSection(r: Result, charts: ChartSet): string {
  const p = r.parzen;
  if (!p) return "";
  const caveat = notComparable(r);
  const rows = [
    `<tr><th>this run</th>${numberCell(p.mean, "parzen.mean")}${numberCell(p.se, "parzen.se")}${
      numberCell(p.sigma, "parzen.sigma")
    }</tr>`,
  ];
  let difference = "";
  if (p.paper) {
    rows.push(
      `<tr><th>paper, Table 1 (${
        // a conditional run is compared with the conditional paper's row (src/train/evaluate.ts)
        r.config.conditional
          ? `${CONDITIONAL_TABLE1.model}, Mirza &amp; Osindero`
          : "Adversarial nets"})</th>${numberCell(p.paper.mean)}${
        numberCell(p.paper.se)
      }<td class="num">—</td></tr>`,
    );
    const diff = `This run − Table 1: ${formatNumber(p.paper.delta)} nats = ${
      formatNumber(p.paper.standardErrors)
    } standard errors of the difference.`;
    difference = caveat
      ? `<p class="muted" data-paper-difference>${diff} (${escapeHtml(caveat)}.)</p>`
      : `<p data-paper-difference><b>${diff}</b></p>`;
  }
  if (p.trainingSetReference) {
    const t = p.trainingSetReference;
    rows.push(
      `<tr><th>training images as centres (a perfect memoriser)</th>${numberCell(t.mean)}${
        numberCell(t.se)
      }${numberCell(t.sigma)}</tr>`,
    );
  }
  const alarms = p.alarms.length
    ? `<ul class="alarms">${p.alarms.map((a) => `<li>${escapeHtml(a)}</li>`).join("")}</ul>`
    : "";
  const chart = charts.figure(
    lineChart(
      "Parzen: validation log-likelihood over σ",
      "σ (log scale)",
      "mean log-likelihood (nats)",
      [{
        label: "validation",
        color: COLORS.d,
        data: points(p.sigmaCurve.map((c) => c.sigma), p.sigmaCurve.map((c) => c.validationLL)),
      }],
      { xLog: true },
    ),
    `σ = ${
      formatNumber(p.sigma)
    } has the highest mean log-likelihood on ${p.validationCount} validation images.`,
  );
  return `<h2>Parzen-window log-likelihood</h2>
<p>${p.centreCount.toLocaleString("en")} generator samples as kernel centres, σ chosen on ${
    p.validationCount.toLocaleString("en")
  } validation images, mean over ${
    p.testCount.toLocaleString("en")
  } test images (nats; ± is the standard error over test images).</p>
${
    scrollTable(
      `<table class="parzen"><thead><tr><th></th><th class="num">mean</th><th class="num">SE</th><th class="num">σ</th></tr></thead><tbody>${
        rows.join("")
      }</tbody></table>`,
    )
  }
${difference}${alarms}${chart}`;
}

/** Per-unit-x density of counts over [low, high) (the two overflow bins count in the total). */
function densityPoints(low: number, high: number, counts: number[]): { x: number; y: number }[] {
  const bins = counts.length - 2, width = (high - low) / bins;
  const total = counts.reduce((a, b) => a + b, 0) || 1;
  return counts.slice(1, -1).map((c, i) => ({
    x: low + (i + 0.5) * width,
    y: c / (total * width),
  }));
}

const normalPdf = (x: number, mean: number, std: number) =>
  Math.exp(-0.5 * ((x - mean) / std) ** 2) / (std * Math.sqrt(2 * Math.PI));

/** Figure 1: real density, generated density and D over x at four points of training. */
function figure1(r: Result, snaps: DensitySnapshot[], charts: ChartSet): string {
  if (!snaps.length || r.config.data.kind !== "gaussian") return "";
  const { mean, std } = r.config.data;
  const picks = [...new Set([0, 1, 2, 3].map((k) => Math.round((k * (snaps.length - 1)) / 3)))];
  const probe = snaps[0].probe === "pointwise" ? "D(x)" : `D of a batch from N(x, ${std}²)`;
  const panels = picks.map((k, n) => {
    const s = snaps[k];
    return charts.figure(lineChart(
      `(${"abcd"[n]}) after ${s.iteration} iterations`,
      "x",
      "density / D",
      [
        {
          label: "real density",
          color: COLORS.real,
          dash: "2 3",
          data: s.x.map((x) => ({ x, y: normalPdf(x, mean, std) })),
        },
        {
          label: "generated density",
          color: COLORS.generated,
          stepped: true,
          data: densityPoints(s.low, s.high, s.generated),
        },
        { label: probe, color: COLORS.disc, dash: "6 3", data: points(s.x, s.d) },
      ],
      // a collapsed generator's spike would flatten the rest; D stays in [0, 1]
      { yMin: 0, yMax: 1.5 },
    ));
  });
  const explain = snaps[0].probe === "pointwise"
    ? "D(x) is the discriminator's output at x."
    : `This discriminator sees a whole batch (${
      escapeHtml(r.config.discriminator.input.kind)
    }), not single points, so the paper's D(x) does not exist for it; the blue curve is D of one fixed batch of ${r.config.training.batchSize} draws from N(0, 1), scaled by ${std} and moved to mean x.`;
  return `<h2>Figure 1: densities and the discriminator over training</h2>
<p>As the paper's Figure 1: the data density (black, dotted; N(${mean}, ${std}²)), the generated density (green; ${
    snaps[0].generated.reduce((a, b) => a + b, 0).toLocaleString("en")
  } samples of a fixed latent batch) and the discriminator (blue, dashed). ${explain} The axis stops at 1.5.</p>
<div class="panels">${panels.join("\n")}</div>`;
}

function framesHtml(frames: { iteration: number; png: Uint8Array }[], alt: string, width: number) {
  const last = frames.length - 1;
  return `<div class="frames">${
    frames.map((f, i) =>
      `<img class="frame pixels" data-iteration="${f.iteration}" alt="${
        escapeHtml(alt)
      } at iteration ${f.iteration}" width="${width}" src="${dataUri("image/png", f.png)}"${
        i === last ? "" : " hidden"
      }>`
    ).join("")
  }<div class="controls" hidden><button type="button" class="play">play</button><input type="range" min="0" max="${last}" value="${last}" aria-label="snapshot"><span class="frame-label">iteration ${
    frames[last].iteration
  }</span></div></div>`;
}

/** PNG width from its IHDR (bytes 16–19). */
function pngWidth(png: Uint8Array): number {
  return new DataView(png.buffer, png.byteOffset).getUint32(16);
}

/** The fixed latent batch through training (image runs). */
function samplesSection(data: RunData): string {
  const f = data.result.figures;
  if (!f?.display) return "";
  const frames = data.snapshots.filter((s) => s.png).map((s) => ({
    iteration: s.iteration,
    png: s.png!,
  }));
  if (!frames.length) return "";
  return `<h2>Samples through training</h2>
${framesHtml(frames, "samples", pngWidth(frames[0].png) * ZOOM)}
<p class="muted">The same ${f.latent.count} latent vectors (stream <code>${
    escapeHtml(f.latent.stream)
  }</code>, stored in <code>${
    escapeHtml(f.latent.file)
  }</code>) through the generator at each of ${frames.length} snapshots, the last shown first; the slider and play button step through them.${
    f.display.kind === "per-image"
      ? " Each image is rescaled to its own minimum and maximum for display (GCN data have no pixel range)."
      : ""
  }</p>`;
}

/** What Figure 2's numbers show: the distances, beside those of test images where measured. */
function figure2Caption(r: Result): string {
  const nn = r.figures!.nearest!;
  const m = r.metrics;
  const sentences = [
    `As the paper's Figure 2: ${nn.rows} rows of ${nn.cols} samples of the final generator; the rightmost column (outlined) is the training image nearest to the row's last sample, by squared L2 distance in ${
      escapeHtml(nn.space)
    } (table).`,
  ];
  if (
    typeof m.nearestTrainingMedian === "number" && typeof m.testNearestTrainingMedian === "number"
  ) {
    sentences.push(
      `Median squared distance to the nearest training image: ${
        formatNumber(m.nearestTrainingMedian)
      } for generated samples, ${
        formatNumber(m.testNearestTrainingMedian)
      } for test images; generated samples much closer than test images would point to copied training images.`,
    );
  }
  if (typeof m.nearestTrainingMin === "number") {
    sentences.push(`The closest sample is at ${formatNumber(m.nearestTrainingMin)}.`);
  }
  return sentences.join(" ");
}

/** The paper's Figures 2 and 3 (image runs). */
function paperImageFigures(data: RunData): string {
  const f = data.result.figures;
  if (!f?.display) return "";
  const parts: string[] = [];
  const nn = f.nearest;
  const samples = nn && data.images.get(nn.file),
    neighbours = nn && data.images.get(nn.neighboursFile);
  if (nn && samples && neighbours) {
    const dist = nn.distance2.map((d, i) =>
      `<tr><td class="num">${i + 1}</td><td class="num">${nn.trainIndex[i]}</td>${
        numberCell(d)
      }</tr>`
    ).join("");
    parts.push(`<h2>Figure 2: samples and their nearest training images</h2>
<p>${figure2Caption(data.result)}</p>
<div class="fig2"><img class="pixels" alt="Figure 2 samples" width="${
      pngWidth(samples) * ZOOM
    }" src="${
      dataUri("image/png", samples)
    }"><img class="pixels nn" alt="nearest training images" width="${
      pngWidth(neighbours) * ZOOM
    }" src="${
      dataUri("image/png", neighbours)
    }"><table><thead><tr><th class="num">row</th><th class="num">training index</th><th class="num">distance²</th></tr></thead><tbody>${dist}</tbody></table></div>`);
  }
  const interp = f.interpolation && data.images.get(f.interpolation.file);
  if (f.interpolation && interp) {
    parts.push(`<h2>Figure 3: linear interpolation in z</h2>
<p>As the paper's Figure 3: each row is G along the straight line between two latent vectors of the fixed batch, in ${f.interpolation.steps} equal steps.</p>
<img class="pixels" alt="Figure 3 interpolations" width="${pngWidth(interp) * ZOOM}" src="${
      dataUri("image/png", interp)
    }">`);
  }
  return parts.join("\n");
}

/** Scores of the generator through training (config metrics.track), against epochs. */
function trackedCharts(r: Result, charts: ChartSet): string[] {
  const t = r.tracked ?? [];
  const out: string[] = [];
  const epochs = t.map((p) => p.epoch);
  if (t.some((p) => p.parzen)) {
    const mean = t.map((p) => p.parzen?.mean ?? null);
    const se = t.map((p) => p.parzen?.se ?? null);
    const series = [
      { label: "Parzen log-likelihood", color: COLORS.d, data: points(epochs, mean) },
      {
        label: "+ SE",
        color: COLORS.grey,
        dash: "3 3",
        data: points(epochs, mean.map((m, i) => m === null || se[i] === null ? null : m + se[i]!)),
      },
      {
        label: "− SE",
        color: COLORS.grey,
        dash: "3 3",
        data: points(epochs, mean.map((m, i) => m === null || se[i] === null ? null : m - se[i]!)),
      },
    ];
    if (t.some((p) => p.parzenWithGDropout)) {
      series.push({
        label: metricLabel("parzenMeanWithGDropout").label,
        color: COLORS.generated,
        dash: "6 2",
        data: points(epochs, t.map((p) => p.parzenWithGDropout?.mean ?? null)),
      });
    }
    const paper = r.parzen?.paper;
    // beside a run that cannot be compared, the paper's line would only flatten the curve
    if (paper && !notComparable(r)) {
      series.push({
        label: `paper, Table 1 (${paper.mean})`,
        color: COLORS.g,
        dash: "8 4",
        data: [{ x: epochs[0], y: paper.mean }, { x: epochs.at(-1)!, y: paper.mean }],
      });
    }
    out.push(charts.figure(
      lineChart("Parzen log-likelihood through training", "epoch", "nats", series),
      `Scored every ${
        t.length > 1 ? formatNumber(t[1].epoch - t[0].epoch) : "—"
      } epochs with the run's Parzen settings (the final score uses the same estimator).`,
    ));
  }
  if (t.some((p) => p.classifierScore !== null)) {
    out.push(charts.figure(
      lineChart("Classifier score through training", "epoch", "score", [
        {
          label: "classifier score",
          color: COLORS.d,
          data: points(epochs, t.map((p) => p.classifierScore)),
        },
        {
          label: "classes covered",
          color: COLORS.generated,
          dash: "5 3",
          data: points(epochs, t.map((p) => p.classesCovered)),
        },
      ]),
    ));
  }
  if (t.some((p) => p.coverage)) {
    out.push(charts.figure(
      lineChart("Class coverage through training", "epoch", "share", [
        {
          label: metricLabel("coverageMean").label,
          color: COLORS.d,
          data: points(epochs, t.map((p) => p.coverage?.mean ?? null)),
        },
        {
          label: metricLabel("coverageMin").label,
          color: COLORS.generated,
          dash: "5 3",
          data: points(epochs, t.map((p) => p.coverage?.min ?? null)),
        },
      ]),
      "G(z, y) for each label y, scored by the evaluation classifier (docs/conditional.md §3).",
    ));
  }
  return out;
}

/** Every recorded iteration of the training history, exact values, as CSV. */
export function historyCsv(h: Result["history"]): string {
  const columns = HISTORY_SERIES;
  return toCsv([
    ["iteration", ...columns],
    ...h.step.map((step, i) => [step, ...columns.map((c) => h[c]?.[i] ?? null)]),
  ]);
}

/** Every tracked point (config metrics.track), exact values, as CSV. */
export function trackedCsv(t: NonNullable<Result["tracked"]>): string {
  return toCsv([
    [
      "iteration",
      "epoch",
      "generatorLearningRate",
      "discriminatorLearningRate",
      "wallSeconds",
      "parzenMean",
      "parzenSe",
      "parzenSigma",
      "parzenMeanWithGDropout",
      "parzenSeWithGDropout",
      "classifierScore",
      "classesCovered",
      "coverageMean",
      "coverageMin",
      "coverageClassesCovered",
      "fakePixelStd",
      "scoreSeconds",
    ],
    ...t.map((p) => [
      p.iteration,
      p.epoch,
      p.learningRate.generator,
      p.learningRate.discriminator,
      p.wallSeconds,
      p.parzen?.mean ?? null,
      p.parzen?.se ?? null,
      p.parzen?.sigma ?? null,
      p.parzenWithGDropout?.mean ?? null,
      p.parzenWithGDropout?.se ?? null,
      p.classifierScore,
      p.classesCovered,
      p.coverage?.mean ?? null,
      p.coverage?.min ?? null,
      p.coverage?.covered ?? null,
      p.fakePixelStd,
      p.scoreSeconds,
    ]),
  ]);
}

function csvLink(file: string, csv: string): string {
  return `<a download="${file}" href="${
    dataUri("text/csv", new TextEncoder().encode(csv))
  }">${file}</a>`;
}

/**
 * The stability signals: both gradient norms, and D's advantage (its accuracy, the gap
 * D(x) − D(G(z)), the iterations at which D had won), with the losses' oscillation and the
 * share of D-won iterations in the caption. None for a record from before they existed.
 */
function stabilityCharts(h: Result["history"], charts: ChartSet): string[] {
  if (!h.dGradNorm?.some(Number.isFinite)) return [];
  const gap = historySeries(h, "dGap")!;
  const share = (x: number | null, digits = 2) => x === null ? "—" : x.toFixed(digits);
  const swings =
    `oscillation (the sign-change rate of the first differences over the last quarter; ` +
    `0 monotone, 1 alternating, ~2/3 noise): D loss ${
      share(oscillation(lastQuarter(h.dLoss)))
    }, G loss ${share(oscillation(lastQuarter(h.gLoss)))}.`;
  return [
    charts.figure(
      lineChart("Gradient norms", "iteration", "global L2 norm", [
        { label: "D's gradient", color: COLORS.d, data: points(h.step, h.dGradNorm) },
        { label: "G's gradient", color: COLORS.g, data: points(h.step, h.gGradNorm) },
      ]),
      "The norm of each player's whole gradient at the recorded step. G's falling towards 0 " +
        "while D is accurate is the vanishing gradient of a D that has won.",
    ),
    charts.figure(
      lineChart("Discriminator's advantage", "iteration", "", [
        { label: "D accuracy", color: COLORS.d, data: points(h.step, h.dAccuracy) },
        { label: "D(x) − D(G(z))", color: COLORS.generated, data: points(h.step, gap) },
        { label: "D won (1) or not (0)", color: COLORS.g, data: points(h.step, h.dWon) },
      ], { yMin: -1, yMax: 1 }),
      `D won: accuracy ≥ ${D_WON_ACCURACY} with G's gradient norm ≤ ${D_WON_GRADIENT_RATIO} × ` +
        `its largest so far; at ${share(dWonFraction(h.dWon ?? []), 3)} of the recorded ` +
        `iterations. The losses' ${swings}`,
    ),
  ];
}

/** Losses, D outputs, tracked scores and the final distributions. */
function curvesSection(r: Result, charts: ChartSet): string {
  const h = r.history;
  const training = [
    charts.figure(lineChart("Losses", "iteration", "loss", [
      { label: "D loss", color: COLORS.d, data: points(h.step, h.dLoss) },
      { label: "G loss", color: COLORS.g, data: points(h.step, h.gLoss) },
    ])),
    charts.figure(
      lineChart("Discriminator outputs", "iteration", "mean D", [
        { label: "D(x), real batch", color: COLORS.generated, data: points(h.step, h.dReal) },
        { label: "D(G(z)), generated batch", color: COLORS.g, data: points(h.step, h.dFake) },
      ], { yMin: 0, yMax: 1 }),
      "At the game's equilibrium both are 1/2. D(x) → 1 with D(G(z)) → 0 means D wins.",
    ),
    ...stabilityCharts(h, charts),
    ...trackedCharts(r, charts),
  ];
  if (r.histogram) {
    training.push(
      charts.figure(lineChart("Final model: real vs. generated", "x", "density", [
        {
          label: "real",
          color: COLORS.real,
          stepped: true,
          data: densityPoints(r.histogram.low, r.histogram.high, r.histogram.real),
        },
        {
          label: "generated",
          color: COLORS.generated,
          stepped: true,
          data: densityPoints(r.histogram.low, r.histogram.high, r.histogram.fake),
        },
      ])),
    );
  }
  if (r.classHistogram) {
    training.push(
      charts.figure(barChart(
        "Classes of generated samples (harness classifier)",
        "class",
        "share of samples",
        r.classHistogram.map((_, i) => String(i)),
        { label: "generated", color: COLORS.g, data: r.classHistogram },
        {
          label: "uniform",
          color: COLORS.grey,
          data: r.classHistogram.map(() => 1 / r.classHistogram!.length),
        },
      )),
    );
  }
  const whole = [csvLink("history.csv", historyCsv(h))];
  if (r.tracked?.length) whole.push(csvLink("tracked.csv", trackedCsv(r.tracked)));
  return `<h2>Training curves</h2>
<p class="downloads">The whole record as CSV (exact values): ${whole.join(" · ")}</p>
${training.join("\n")}`;
}

/**
 * The profile's stability bands (`--check`): each with its value and verdict, and for a band
 * on a training curve's last quarter, that curve with the band drawn over the quarter.
 */
function bandsSection(r: Result, charts: ChartSet): string {
  if (!r.checks?.length) return "";
  const rows = r.checks.map((c) =>
    `<tr class="${c.pass ? "pass" : "miss"}"><th>${escapeHtml(c.metric)}<div class="meaning">${
      escapeHtml(metricLabel(c.metric).meaning)
    }</div></th><td>${escapeHtml(formatBand(c))}</td>${numberCell(c.value, c.metric)}<td>${
      c.pass ? "✓ met" : "✗ missed"
    }</td></tr>`
  );
  const h = r.history;
  const curves: string[] = [];
  for (const c of r.checks) {
    const late = /^lastQuarter\.(\w+)$/.exec(c.metric);
    if (!late || h.step.length === 0) continue;
    const values = historySeries(h, late[1]);
    if (!values) continue;
    const from = h.step[h.step.length - Math.ceil(h.step.length / 4)], to = h.step.at(-1)!;
    const edge = (y: number | null, label: string) =>
      y === null ? [] : [{
        label,
        color: c.pass ? COLORS.grey : COLORS.g,
        dash: "6 4",
        data: [{ x: from, y }, { x: to, y }],
      }];
    curves.push(
      charts.figure(
        lineChart(`${c.metric}: curve and band`, "iteration", late[1], [
          { label: late[1], color: COLORS.d, data: points(h.step, values) },
          ...edge(c.low, "band low"),
          ...edge(c.high, "band high"),
        ]),
        `The band applies to the mean over the last quarter of the recorded iterations (${
          c.pass ? "met" : "missed"
        }).`,
      ),
    );
  }
  return `<h2>Stability bands (${escapeHtml(r.profile)} profile)</h2>
${
    scrollTable(
      `<table class="bands"><tr><th>metric</th><th>band</th><th class="num">value</th><th></th></tr>${
        rows.join("")
      }</table>`,
    )
  }
${curves.join("\n")}`;
}

/** Every metric of result.metrics: its label, meaning and name, its value and unit. */
function metricsTable(r: Result): string {
  const rows = Object.entries(r.metrics).map(([k, v]) => {
    const l = metricLabel(k);
    return `<tr><th>${escapeHtml(l.label)}<div class="meaning">${escapeHtml(l.meaning)} <code>${
      escapeHtml(k)
    }</code></div></th>${numberCell(v, k)}<td class="unit">${escapeHtml(l.unit)}</td></tr>`;
  });
  return `<h2>Metrics</h2>
${
    scrollTable(
      `<table class="metrics"><thead><tr><th>metric</th><th class="num">value</th><th>unit</th></tr></thead><tbody>${
        rows.join("") || `<tr><td colspan="3">none (the run did not complete)</td></tr>`
      }</tbody></table>`,
    )
  }`;
}

export function renderRunPage(data: RunData): string {
  const r = data.result;
  const charts = new ChartSet();
  const densities = data.snapshots.filter((s) => s.density).map((s) => s.density!);
  const missing = data.missing.length
    ? `<p class="alarms">Missing from the run folder: ${
      data.missing.map((m) => `<code>${escapeHtml(m)}</code>`).join(", ")
    }</p>`
    : "";
  const samples = samplesSection(data);
  const body = `<nav><a href="../../index.html">← all runs</a></nav>
<h1>${escapeHtml(r.experiment)} <small>seed ${r.seed} · ${
    escapeHtml(r.profile)
  } profile</small></h1>
<p>${escapeHtml(r.config.description)}</p>
${headline(r)}
${missing}
${samples}
${figure1(r, densities, charts)}
${mixtureSection(r, densities, charts)}
${curvesSection(r, charts)}
${paperImageFigures(data)}
${metricsTable(r)}
${parzenSection(r, charts)}
${bandsSection(r, charts)}
<h2>Details</h2>
${keyValueTable(provenanceRows(r))}
<h2>Source</h2>
<p>${escapeHtml(r.config.source)}</p>
<details><summary>Resolved config (hash ${escapeHtml(r.configHash.slice(0, 12))}…)</summary><pre>${
    escapeHtml(JSON.stringify(r.config, null, 2))
  }</pre></details>`;
  return renderPage({
    title: `${r.experiment} · seed ${r.seed} · ganbench`,
    body,
    script: samples !== "",
  });
}
