/**
 * `deno run -A benchmarks/iteration_cost.ts EXPERIMENT PROFILE BACKEND ITERATIONS [--seed N]
 * [--to FILE]`: what one training iteration of a config costs, as docs/mixtures.md §"What an
 * iteration costs" reports it. One run of ITERATIONS iterations (`training.budget` overridden,
 * one BLAS thread); the training loop's CPU time and wall time are read between its first and
 * last progress callbacks, so start-up, the final evaluation and what precedes the first
 * iteration stay outside. CPU time is the process's (every thread): what the run takes alone on a
 * free core; wall time is what it got on the machine as loaded. Prints one JSON line; `--to`
 * appends it to the `rows` of FILE (benchmarks/results/iteration-cost.json).
 */
import process from "node:process";
import {
  nonNegativeInteger,
  oneOf,
  parseCommand,
  positiveInteger,
  runMain,
  UsageError,
} from "../src/cli/args.ts";
import { loadConfig } from "../src/config/load.ts";
import { runExperiment } from "../src/train/run.ts";
import { BACKEND_CHOICES } from "../src/backend/info.ts";
import { writeFileAtomic } from "../src/util/atomic.ts";

const SCRIPT = "benchmarks/iteration_cost.ts";
const USAGE =
  `usage: deno run -A ${SCRIPT} EXPERIMENT PROFILE BACKEND ITERATIONS [--seed N] [--to FILE]

What one training iteration of a config costs (docs/mixtures.md §What an iteration costs): one
run of ITERATIONS iterations on one BLAS thread, the training loop's CPU and wall seconds per
iteration between its first and last progress reports. Prints one JSON line.

  --seed N    the run's seed (default 1)
  --to FILE   also append the line to the rows of FILE (benchmarks/results/iteration-cost.json)

exit codes: 0 measured, 1 the run failed, 2 bad flag, argument or config, 3 data or files
`;

const cpuSeconds = () => {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1e6;
};
const loadAverage = () => Deno.readTextFileSync("/proc/loadavg").split(" ").slice(0, 3).join(" ");
type Mark = { iteration: number; wall: number; cpu: number };

async function main(args: string[]): Promise<number> {
  const parsed = parseCommand({
    name: SCRIPT,
    usage: USAGE,
    options: { seed: { type: "string", default: "1" }, to: { type: "string" } },
    positionals: { max: 4, what: "arguments (EXPERIMENT PROFILE BACKEND ITERATIONS)" },
  }, args);
  if (parsed === null) return 0;
  const { positionals, values } = parsed;
  if (positionals.length !== 4) {
    throw new UsageError(
      `give EXPERIMENT PROFILE BACKEND ITERATIONS, found ${positionals.length} argument(s)`,
    );
  }
  const [experiment, profile, backendText, iterationsText] = positionals;
  const backend = oneOf("BACKEND", backendText, BACKEND_CHOICES);
  const iterations = positiveInteger("ITERATIONS", iterationsText);
  if (iterations < 2) {
    throw new UsageError(`ITERATIONS: found "${iterations}"; expected at least 2 to time`);
  }
  const seed = nonNegativeInteger("--seed", values.seed);
  const resolved = loadConfig(experiment, {
    profile,
    overrides: [`training.budget={"iterations":${iterations}}`],
  });
  let first: Mark | null = null, last: Mark | null = null;
  const started = new Date().toISOString();
  const loadBefore = loadAverage();
  const result = await runExperiment(resolved, {
    seed,
    backend,
    blasThreads: 1,
    onFigure: () => Promise.resolve(),
    onCheckpoint: () => Promise.resolve(),
    onProgress: (p) => {
      const mark = { iteration: p.iteration, wall: performance.now() / 1000, cpu: cpuSeconds() };
      if (!first) first = mark;
      else last = mark;
    },
  });
  if (!first || !last) throw new Error("fewer than 2 progress reports: nothing to time");
  const f: Mark = first, l: Mark = last;
  const n = l.iteration - f.iteration;
  const line = {
    experiment,
    profile,
    backend,
    batchSize: resolved.config.training.batchSize,
    trainStep: result.trainStep,
    timedIterations: n,
    cpuSecondsPerIteration: Number(((l.cpu - f.cpu) / n).toPrecision(3)),
    wallSecondsPerIteration: Number(((l.wall - f.wall) / n).toPrecision(3)),
    loadAverage: { before: loadBefore, after: loadAverage() },
    startedAt: started,
    status: result.status,
  };
  console.log(JSON.stringify(line));
  if (values.to) {
    let file: { rows: unknown[] } = { rows: [] };
    try {
      file = JSON.parse(Deno.readTextFileSync(values.to));
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
    file.rows.push(line);
    await writeFileAtomic(values.to, JSON.stringify(file, null, 2) + "\n");
  }
  return 0;
}

if (import.meta.main) await runMain(SCRIPT, () => main(Deno.args));
