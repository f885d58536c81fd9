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
import { parseArgs } from "node:util";
import { loadConfig } from "../src/config/load.ts";
import { runExperiment } from "../src/train/run.ts";
import type { BackendChoice } from "../src/backend/info.ts";

const { positionals, values } = parseArgs({
  args: Deno.args,
  allowPositionals: true,
  options: { seed: { type: "string", default: "1" }, to: { type: "string" } },
});
if (positionals.length !== 4) {
  console.error("usage: iteration_cost.ts EXPERIMENT PROFILE BACKEND ITERATIONS [--seed N]");
  Deno.exit(2);
}
const [experiment, profile, backend, iterations] = positionals;
const resolved = loadConfig(experiment, {
  profile,
  overrides: [`training.budget={"iterations":${Number(iterations)}}`],
});
const cpuSeconds = () => {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1e6;
};
const loadAverage = () => Deno.readTextFileSync("/proc/loadavg").split(" ").slice(0, 3).join(" ");
type Mark = { iteration: number; wall: number; cpu: number };
let first: Mark | null = null, last: Mark | null = null;
const started = new Date().toISOString();
const loadBefore = loadAverage();
const result = await runExperiment(resolved, {
  seed: Number(values.seed),
  backend: backend as BackendChoice,
  blasThreads: 1,
  onFigure: () => Promise.resolve(),
  onCheckpoint: () => Promise.resolve(),
  onProgress: (p) => {
    const mark = { iteration: p.iteration, wall: performance.now() / 1000, cpu: cpuSeconds() };
    if (!first) first = mark;
    else last = mark;
  },
});
if (!first || !last) throw new Error("fewer than 2 iterations: nothing to time");
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
  Deno.writeTextFileSync(values.to, JSON.stringify(file, null, 2) + "\n");
}
