/**
 * One Parzen measurement in its own process: `deno run -A benchmarks/parzen_step.ts
 * <backend> <blasThreads>` times one σ on 10,000 test points × 10,000 centres × 784
 * dimensions (the paper's MNIST evaluation; the best of two) and prints one JSON line.
 * Run by benchmarks/perf.ts.
 */
import { BACKEND_CHOICES } from "../src/backend/info.ts";
import { selectBackend } from "../src/backend/select.ts";
import { oneOf, orExit, parseOrExit, positiveInteger } from "../src/cli/args.ts";
import { parzenLogLikelihoods } from "../src/metrics/parzen.ts";
import { Rng } from "../src/rng/streams.ts";
import { peakRssMiB } from "./train_step.ts";

const DIM = 784, N = 10_000;

export interface ParzenStepResult {
  backend: string;
  blasThreads: number | null;
  seconds: number;
  /** FLOPs of the cross-term product, which dominates: 2·N·N·dim. */
  gflopsPerSecond: number;
  peakRssMiB: number;
}

const SCRIPT = "benchmarks/parzen_step.ts";
const USAGE = `usage: deno run -A ${SCRIPT} BACKEND [BLAS_THREADS]

One Parzen measurement in its own process: times one σ on 10,000 test points × 10,000 centres ×
784 dimensions (the paper's MNIST evaluation; the best of two) on BACKEND with BLAS_THREADS
threads (default 1) and prints one JSON line. Run by deno task perf:report.

exit codes: 0 measured, 2 bad flag or argument
`;

if (import.meta.main) {
  const { backend, blasThreads } = orExit(SCRIPT, () => {
    const { positionals } = parseOrExit({
      name: SCRIPT,
      usage: USAGE,
      options: {},
      positionals: { max: 2, what: "arguments (BACKEND BLAS_THREADS)" },
    }, Deno.args);
    const [backend, threads] = positionals;
    return {
      backend: oneOf("BACKEND", backend, BACKEND_CHOICES),
      blasThreads: threads === undefined ? 1 : positiveInteger("BLAS_THREADS", threads),
    };
  });
  const info = await selectBackend(backend, { blasThreads });
  const centres = new Rng(1).stream("bench").at(0).uniform(N * DIM);
  const points = new Rng(2).stream("bench").at(0).uniform(N * DIM);
  let best = Infinity;
  for (let r = 0; r < 2; r++) {
    const t = performance.now();
    await parzenLogLikelihoods(centres, points, DIM, [0.2]);
    best = Math.min(best, (performance.now() - t) / 1000);
  }
  const out: ParzenStepResult = {
    backend: info.name,
    blasThreads: info.blas?.threads ?? null,
    seconds: best,
    gflopsPerSecond: (2 * N * N * DIM) / best / 1e9,
    peakRssMiB: peakRssMiB(),
  };
  console.log(JSON.stringify(out));
}
