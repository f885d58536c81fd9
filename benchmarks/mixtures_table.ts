/**
 * `deno run --allow-read --allow-write benchmarks/mixtures_table.ts OUT_DIR [--to FILE] [--merge FILE]`:
 * the mode-collapse table of docs/mixtures.md from the runs under OUT_DIR
 * (OUT_DIR/<experiment>/seed-N/result.json, as `deno task bench … --out OUT_DIR` writes them):
 * per experiment and profile, the mean and sample std over seeds of modes captured, the
 * high-quality fraction and the reverse KL, with every seed's numbers, its last fingerprint and
 * what the runs cost. `--merge` adds the seeds of a table written earlier (its run folders may be
 * gone with another machine) that OUT_DIR lacks, for rows of the same experiment, profile,
 * backend, iterations and batch size.
 */
import { join } from "node:path";
import { parseCommand, runMain, UsageError } from "../src/cli/args.ts";
import { writeFileAtomic } from "../src/util/atomic.ts";

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
  perSeed: SeedEntry[];
}

interface SeedEntry {
  seed: number;
  status: string;
  metrics: Record<string, number>;
  wallSeconds: number;
  /** The run's last fingerprint (absent in tables written before it was kept). */
  fingerprint?: { step: number; hash: string };
}

type RowBase = Omit<Row, "seeds" | "modesCaptured" | "highQualityFraction" | "reverseKl">;

/** A row's statistics over its seeds, from the per-seed numbers (sorted by seed). */
export function withStats(base: RowBase): Row {
  const perSeed = [...base.perSeed].sort((a, b) => a.seed - b.seed);
  const metric = (k: string) =>
    perSeed.map((r) => r.metrics?.[k]).filter((v): v is number => typeof v === "number");
  const kl = metric("reverseKl");
  return {
    ...base,
    seeds: perSeed.map((r) => r.seed),
    modesCaptured: stat(metric("modesCaptured")),
    highQualityFraction: stat(metric("highQualityFraction")),
    reverseKl: { ...stat(kl), seeds: kl.length },
    perSeed,
  };
}

const sameSetting = (a: RowBase, b: RowBase) =>
  a.experiment === b.experiment && a.profile === b.profile && a.backend === b.backend &&
  a.iterations === b.iterations && a.batchSize === b.batchSize;

/**
 * `table`'s rows with the seeds of `earlier` that they lack added (same setting only); rows
 * of `earlier` with no counterpart are kept as they were.
 */
export function mergeTables(table: Row[], earlier: Row[]): Row[] {
  const merged = table.map((row) => {
    const old = earlier.find((e) => sameSetting(e, row));
    if (!old) return row;
    const have = new Set(row.perSeed.map((p) => p.seed));
    return withStats({
      ...row,
      perSeed: [...row.perSeed, ...old.perSeed.filter((p) => !have.has(p.seed))],
    });
  });
  return [...merged, ...earlier.filter((e) => !table.some((r) => sameSetting(e, r)))];
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
    found.push(withStats({
      experiment: exp,
      profile: r0.profile,
      objective: r0.config.training.objective,
      data: r0.config.data,
      iterations: r0.iterations,
      batchSize: r0.config.training.batchSize,
      backend: r0.backend.name,
      modes: r0.metrics?.modes ?? null,
      perSeed: results.map((r) => {
        const last = r.fingerprints?.at(-1);
        return {
          seed: r.seed,
          status: r.status,
          metrics: r.metrics,
          wallSeconds: r.wallSeconds,
          ...(last ? { fingerprint: { step: last.step, hash: last.hash } } : {}),
        };
      }),
    }));
  }
  return found;
}

const SCRIPT = "benchmarks/mixtures_table.ts";
const USAGE = `usage: deno run -A ${SCRIPT} OUT_DIR [--to FILE] [--merge FILE]

The mode-collapse table of docs/mixtures.md from the runs under OUT_DIR
(OUT_DIR/<experiment>/seed-N/result.json): per experiment and profile, the mean and sample std
over seeds of modes captured, the high-quality fraction and the reverse KL.

  --to FILE      where to write the table (default benchmarks/results/mixtures.json)
  --merge FILE   add the seeds of a table written earlier that OUT_DIR lacks

exit codes: 0 written, 2 bad flag or argument, 3 a file that cannot be read or written
`;

async function main(args: string[]): Promise<number> {
  const parsed = parseCommand({
    name: SCRIPT,
    usage: USAGE,
    options: {
      to: { type: "string", default: "benchmarks/results/mixtures.json" },
      merge: { type: "string" },
    },
    positionals: { max: 1, what: "folder of runs" },
  }, args);
  if (parsed === null) return 0;
  const { positionals, values } = parsed;
  if (positionals.length !== 1) throw new UsageError("give the folder of runs (OUT_DIR)");
  const earlier = values.merge
    ? (JSON.parse(Deno.readTextFileSync(values.merge)) as { source: string; rows: Row[] })
    : null;
  const found = rows(positionals[0]);
  // an empty table would overwrite a committed one with nothing
  if (found.length === 0) {
    throw new UsageError(
      `found no run under ${positionals[0]} (expected <experiment>/seed-N/result.json)`,
    );
  }
  const table = earlier ? mergeTables(found, earlier.rows) : found;
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
  await writeFileAtomic(
    values.to,
    JSON.stringify(
      {
        // the commands that made the table, oldest first
        source: (earlier ? `${earlier.source}; then ` : "") +
          `${SCRIPT} ${positionals[0]}` +
          (earlier ? ` --merge ${values.merge}` : ""),
        rows: table,
      },
      null,
      2,
    ) +
      "\n",
  );
  console.log(`→ ${values.to}`);
  return 0;
}

if (import.meta.main) await runMain(SCRIPT, () => main(Deno.args));
