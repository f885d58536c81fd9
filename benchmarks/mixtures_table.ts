/**
 * `deno run --allow-read --allow-write benchmarks/mixtures_table.ts OUT_DIR [--to FILE]`:
 * the mode-collapse table of docs/mixtures.md from the runs under OUT_DIR
 * (OUT_DIR/<experiment>/seed-N/result.json, as `deno task bench … --out OUT_DIR` writes them):
 * per experiment and profile, the mean and sample std over seeds of modes captured, the
 * high-quality fraction and the reverse KL, with every seed's numbers and what the runs cost.
 */
import { parseArgs } from "node:util";
import { join } from "node:path";

interface Row {
  experiment: string;
  profile: string;
  objective: string;
  data: unknown;
  iterations: number;
  batchSize: number;
  backend: string;
  seeds: number[];
  modes: number;
  modesCaptured: Stat;
  highQualityFraction: Stat;
  /** Over the seeds that have one (a seed with no high-quality sample has none). */
  reverseKl: Stat & { seeds: number };
  perSeed: { seed: number; status: string; metrics: Record<string, number>; wallSeconds: number }[];
}

interface Stat {
  mean: number | null;
  std: number | null;
}

export function stat(xs: number[]): Stat {
  if (!xs.length) return { mean: null, std: null };
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const std = xs.length > 1
    ? Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1))
    : null;
  return { mean, std };
}

function rows(out: string): Row[] {
  const found: Row[] = [];
  for (
    const exp of [...Deno.readDirSync(out)].filter((e) => e.isDirectory).map((e) => e.name).sort()
  ) {
    const results = [...Deno.readDirSync(join(out, exp))]
      .filter((e) => e.isDirectory && /^seed-\d+$/.test(e.name))
      .map((e) => join(out, exp, e.name, "result.json"))
      .filter((f) => {
        try {
          return Deno.statSync(f).isFile;
        } catch {
          return false;
        }
      })
      .map((f) => JSON.parse(Deno.readTextFileSync(f)))
      .filter((r) => r.config?.metrics?.kind === "mixture-2d")
      .sort((a, b) => a.seed - b.seed);
    if (!results.length) continue;
    const r0 = results[0];
    const metric = (k: string) =>
      results.map((r) => r.metrics?.[k]).filter((v): v is number => typeof v === "number");
    const kl = metric("reverseKl");
    found.push({
      experiment: exp,
      profile: r0.profile,
      objective: r0.config.training.objective,
      data: r0.config.data,
      iterations: r0.iterations,
      batchSize: r0.config.training.batchSize,
      backend: r0.backend.name,
      seeds: results.map((r) => r.seed),
      modes: r0.metrics?.modes ?? null,
      modesCaptured: stat(metric("modesCaptured")),
      highQualityFraction: stat(metric("highQualityFraction")),
      reverseKl: { ...stat(kl), seeds: kl.length },
      perSeed: results.map((r) => ({
        seed: r.seed,
        status: r.status,
        metrics: r.metrics,
        wallSeconds: r.wallSeconds,
      })),
    });
  }
  return found;
}

if (import.meta.main) {
  const { positionals, values } = parseArgs({
    args: Deno.args,
    allowPositionals: true,
    options: { to: { type: "string", default: "benchmarks/results/mixtures.json" } },
  });
  if (positionals.length !== 1) {
    console.error("usage: benchmarks/mixtures_table.ts OUT_DIR [--to FILE]");
    Deno.exit(2);
  }
  const table = rows(positionals[0]);
  const fmt = (s: Stat, scale = 1) =>
    s.mean === null
      ? "—"
      : `${(s.mean * scale).toFixed(2)}${s.std === null ? "" : ` ± ${(s.std * scale).toFixed(2)}`}`;
  for (const r of table) {
    console.log(
      `${r.experiment.padEnd(16)} ${r.profile.padEnd(6)} ${r.seeds.length} seeds  modes ${
        fmt(r.modesCaptured)
      } / ${r.modes}  HQ ${fmt(r.highQualityFraction, 100)} %  reverse KL ${
        fmt(r.reverseKl)
      } (${r.reverseKl.seeds} seeds)`,
    );
  }
  Deno.writeTextFileSync(
    values.to!,
    JSON.stringify(
      { source: `benchmarks/mixtures_table.ts ${positionals[0]}`, rows: table },
      null,
      2,
    ) +
      "\n",
  );
  console.log(`→ ${values.to}`);
}
