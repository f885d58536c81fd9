/**
 * Where a training step's time goes, by TF.js kernel:
 * `deno run -A benchmarks/kernel_profile.ts <config> <backend> <blasThreads> <iterations>`.
 * Trains as benchmarks/train_step.ts does and, from the first iteration after the warm-up,
 * times every kernel call of the active backend (the wasm backend's kernels are synchronous,
 * so a call's wall time is its cost). Prints one line per kernel, the costliest first:
 * calls and seconds per iteration, and the share of the iterations' wall time; the rest is
 * TF.js's engine, the tape and the harness's own JavaScript.
 */
import { tf } from "../src/backend/tf.ts";
import { runMain } from "../src/cli/args.ts";
import { trainWarmup } from "./gpu_check_report.ts";
import { measureTrainStep, parseStepArgs } from "./train_step.ts";

interface KernelTime {
  calls: number;
  ms: number;
}

/** While false, the wrapped kernels run untimed (the iteration that ends the run). */
let timing = true;

/** Wraps every kernel of `backendName` in a timer; returns the totals, by kernel name. */
function timeKernels(backendName: string): Map<string, KernelTime> {
  const totals = new Map<string, KernelTime>();
  for (const kernel of tf.getKernelsForBackend(backendName)) {
    const inner = kernel.kernelFunc;
    const total = { calls: 0, ms: 0 };
    totals.set(kernel.kernelName, total);
    // the registry hands out this object on every call, so replacing its function times all
    (kernel as { kernelFunc: typeof inner }).kernelFunc = (args) => {
      if (!timing) return inner(args);
      const t0 = performance.now();
      const out = inner(args);
      total.ms += performance.now() - t0;
      total.calls++;
      return out;
    };
  }
  return totals;
}

const SCRIPT = "benchmarks/kernel_profile.ts";
const USAGE = `usage: deno run -A ${SCRIPT} CONFIG BACKEND BLAS_THREADS ITERATIONS

Where a training step's time goes, by TF.js kernel: trains as benchmarks/train_step.ts does and,
from the first iteration after the warm-up, times every kernel call of the active backend.
Prints one line per kernel, the costliest first: calls and seconds per iteration and the share
of the iterations' wall time.

exit codes: 0 measured, 1 the run failed, 2 bad flag, argument or config, 3 data or files
`;

async function main(args: string[]): Promise<number> {
  const parsed = parseStepArgs({ name: SCRIPT, usage: USAGE, options: {} }, args);
  if (parsed === null) return 0;
  const { config: name, backend, blasThreads, iterations } = parsed;
  const warmup = trainWarmup(iterations);
  let totals = new Map<string, KernelTime>();
  let start = NaN, end = NaN;
  await measureTrainStep(name, backend, blasThreads, iterations, {
    onIteration: (i, now) => {
      if (i === warmup) {
        totals = timeKernels(tf.getBackend());
        start = now;
      }
      if (i === iterations) {
        end = now;
        timing = false; // measureTrainStep runs one more iteration, untimed, to end the run
      }
    },
  });
  const timed = iterations - warmup, wallMs = end - start;
  const rows = [...totals].filter(([, t]) => t.calls > 0).sort((a, b) => b[1].ms - a[1].ms);
  const inKernels = rows.reduce((s, [, t]) => s + t.ms, 0);
  console.log(
    `${name} on ${backend}, ${blasThreads} BLAS threads: ${timed} iterations timed, ` +
      `${(wallMs / timed / 1000).toFixed(3)} s each, ${(100 * inKernels / wallMs).toFixed(1)}% ` +
      "in kernels",
  );
  console.log("kernel                          calls/it   s/it   share");
  for (const [kernel, t] of rows) {
    console.log(
      kernel.padEnd(30) + (t.calls / timed).toFixed(0).padStart(10) +
        (t.ms / timed / 1000).toFixed(3).padStart(7) +
        `${(100 * t.ms / wallMs).toFixed(1)}%`.padStart(8),
    );
  }
  return 0;
}

if (import.meta.main) await runMain(SCRIPT, () => main(Deno.args));
