/**
 * Parzen cost beside the same backend's plain matrix-product throughput, in one run
 * (`deno task perf`): one σ on 10,000 test points × 10,000 centres × 784 dimensions (the
 * paper's MNIST evaluation), and a 1024³ matMul, on plain wasm and (when OpenBLAS loads)
 * on wasm+openblas. Prints GFLOP/s of each and their ratio per backend.
 */
import { openBlas } from "../src/backend/openblas.ts";
import { selectBackend } from "../src/backend/select.ts";
import { tf } from "../src/backend/tf.ts";
import { parzenLogLikelihoods } from "../src/metrics/parzen.ts";
import { Rng } from "../src/rng/streams.ts";

const dim = 784, n = 10_000;
const centres = new Rng(1).stream("bench").at(0).uniform(n * dim);
const points = new Rng(2).stream("bench").at(0).uniform(n * dim);
const backends = openBlas() ? ["wasm", "wasm+openblas"] as const : ["wasm"] as const;
const seconds: Record<string, number[]> = {};

for (const backend of backends) {
  seconds[`parzen ${backend}`] = [];
  seconds[`matmul ${backend}`] = [];
  Deno.bench({
    name: `Parzen, one σ: 10,000 × 10,000 × 784 (${backend})`,
    group: backend,
    baseline: true,
    n: 2,
    warmup: 0,
    async fn() {
      await selectBackend(backend);
      const t = performance.now();
      await parzenLogLikelihoods(centres, points, dim, [0.2]);
      seconds[`parzen ${backend}`].push((performance.now() - t) / 1000);
    },
  });
  Deno.bench({
    name: `matMul 1024 × 1024 × 1024 (${backend})`,
    group: backend,
    n: 10,
    warmup: 2,
    async fn() {
      await selectBackend(backend);
      const a = tf.randomUniform([1024, 1024]), b = tf.randomUniform([1024, 1024]);
      const t = performance.now();
      const c = tf.matMul(a, b);
      await c.data();
      seconds[`matmul ${backend}`].push((performance.now() - t) / 1000);
      tf.dispose([a, b, c]);
    },
  });
}

globalThis.addEventListener("unload", () => {
  const best = (xs: number[]) => Math.min(...xs);
  for (const backend of backends) {
    const ps = seconds[`parzen ${backend}`], ms = seconds[`matmul ${backend}`];
    if (!ps.length || !ms.length) continue;
    const p = (2 * n * n * dim) / best(ps) / 1e9, m = (2 * 1024 ** 3) / best(ms) / 1e9;
    console.log(
      `${backend}: Parzen ${p.toFixed(1)} GFLOP/s (${best(ps).toFixed(2)} s); ` +
        `matMul ${m.toFixed(1)} GFLOP/s; ratio ${(p / m).toFixed(2)} of the backend's matMul`,
    );
  }
});
