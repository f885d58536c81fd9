/**
 * Parzen cost beside the backend's plain matrix-product throughput, in one run
 * (`deno task perf`): one σ on 10,000 test points × 10,000 centres × 784 dimensions (the
 * paper's MNIST evaluation), and a 1024³ matMul. Prints GFLOP/s of each and their ratio.
 */
import { selectBackend } from "../src/backend/select.ts";
import { tf } from "../src/backend/tf.ts";
import { parzenLogLikelihoods } from "../src/metrics/parzen.ts";
import { Rng } from "../src/rng/streams.ts";

await selectBackend("wasm");
const dim = 784, n = 10_000;
const centres = new Rng(1).stream("bench").at(0).uniform(n * dim);
const points = new Rng(2).stream("bench").at(0).uniform(n * dim);
const a = tf.randomUniform([1024, 1024]), b = tf.randomUniform([1024, 1024]);

const seconds: Record<string, number[]> = { parzen: [], matmul: [] };

Deno.bench({
  name: "Parzen, one σ: 10,000 × 10,000 × 784",
  group: "parzen",
  baseline: true,
  n: 2,
  warmup: 0,
  async fn() {
    const t = performance.now();
    await parzenLogLikelihoods(centres, points, dim, [0.2]);
    seconds.parzen.push((performance.now() - t) / 1000);
  },
});

Deno.bench({
  name: "matMul 1024 × 1024 × 1024 (same backend)",
  group: "parzen",
  n: 10,
  warmup: 2,
  async fn() {
    const t = performance.now();
    const c = tf.matMul(a, b);
    await c.data();
    c.dispose();
    seconds.matmul.push((performance.now() - t) / 1000);
  },
});

globalThis.addEventListener("unload", () => {
  const best = (xs: number[]) => Math.min(...xs);
  if (!seconds.parzen.length || !seconds.matmul.length) return;
  const parzenFlops = 2 * n * n * dim; // the cross-term product dominates
  const matmulFlops = 2 * 1024 ** 3;
  const p = parzenFlops / best(seconds.parzen) / 1e9, m = matmulFlops / best(seconds.matmul) / 1e9;
  console.log(
    `Parzen ${p.toFixed(1)} GFLOP/s (${best(seconds.parzen).toFixed(2)} s); ` +
      `matMul ${m.toFixed(1)} GFLOP/s; ratio ${(p / m).toFixed(2)} of the backend's matMul`,
  );
});
