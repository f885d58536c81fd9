/**
 * Throughput of the 1-D experiment's training loop per backend, side by side in one run
 * (`deno task perf`): 20 iterations of 20 D + 20 G steps each, plus the RNG on its own.
 */
import { tf } from "../src/backend/tf.ts";
import { loadConfig } from "../src/config/load.ts";
import { Rng } from "../src/rng/streams.ts";
import { runExperiment } from "../src/train/run.ts";

const config = loadConfig("gaussian-moments", {
  overrides: ["training.budget.iterations=20", "training.logEvery=20", "metrics.samples=1000"],
});

for (const backend of ["wasm", "cpu"] as const) {
  Deno.bench({
    name: `gaussian-moments: 20 iterations (800 steps) on ${backend}`,
    group: "train",
    baseline: backend === "wasm",
    async fn() {
      await runExperiment(config, { seed: 1, backend });
    },
  });
}

Deno.bench({
  name: "philox: 1e5 normals (Box–Muller)",
  group: "rng",
  baseline: true,
  fn() {
    new Rng(1).stream("bench").at(0).normal(100_000);
  },
});

Deno.bench({
  name: "philox: 1e5 uniforms",
  group: "rng",
  fn() {
    new Rng(1).stream("bench").at(0).uniform(100_000);
  },
});

// keep the engine quiet between groups
globalThis.addEventListener("unload", () => tf.disposeVariables());
