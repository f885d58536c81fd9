/** Classifier-based scores and the Fréchet distance against closed forms. */
import assert from "node:assert/strict";
import { Matrix } from "ml-matrix";
import { selectBackend } from "../src/backend/select.ts";
import { nearestRows } from "../src/metrics/distances.ts";
import { classScores, frechetDistance, meanAndCovariance } from "../src/metrics/sample-scores.ts";
import { Rng } from "../src/rng/streams.ts";

await selectBackend("wasm");
const close = (a: number, b: number, tol: number, what: string) =>
  assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} vs ${b}`);

Deno.test("class scores: confident and balanced → score K; collapsed → 1; uncertain → 1", () => {
  const k = 4;
  const oneHot = (cls: number[]) =>
    Float64Array.from(cls.flatMap((c) => Array.from({ length: k }, (_, j) => (j === c ? 1 : 0))));
  const balanced = classScores(oneHot([0, 1, 2, 3, 0, 1, 2, 3]), k);
  close(balanced.score, 4, 1e-12, "score");
  close(balanced.entropy, Math.log(4), 1e-12, "entropy");
  close(balanced.klToUniform, 0, 1e-12, "KL");
  assert.equal(balanced.classesCovered, 4);
  const collapsed = classScores(oneHot([2, 2, 2, 2]), k);
  close(collapsed.score, 1, 1e-12, "collapsed score");
  assert.deepEqual(collapsed.histogram, [0, 0, 1, 0]);
  close(collapsed.klToUniform, Math.log(4), 1e-12, "collapsed KL");
  assert.equal(collapsed.classesCovered, 1);
  const unsure = classScores(new Float64Array(8 * k).fill(1 / k), k);
  close(unsure.score, 1, 1e-12, "uncertain score");
  // half the samples split 50/50 between classes 0 and 1, half certain of class 2
  const mixed = classScores(Float64Array.from([0.5, 0.5, 0, 0, 0, 0, 1, 0]), k);
  // p(y) = (0.25, 0.25, 0.5, 0); E KL = ½·log 2 + ½·log 2 = log 2
  close(mixed.score, 2, 1e-12, "mixed score");
});

Deno.test("Fréchet distance: 0 for one set; closed form for diagonal Gaussians", () => {
  const d = 3, n = 4000;
  const draw = new Rng(1).stream("fid").at(0);
  const a = draw.normal(n * d);
  const statsA = meanAndCovariance(a, d);
  close(frechetDistance(statsA, statsA), 0, 1e-8, "same set");
  // diagonal covariances: Σ (μ₁−μ₂)² + Σ (σ₁ − σ₂)²
  const s1 = { mean: Float64Array.from([0, 1, 2]), cov: Matrix.diag([1, 4, 9]) };
  const s2 = { mean: Float64Array.from([1, 1, 0]), cov: Matrix.diag([4, 4, 1]) };
  close(frechetDistance(s1, s2), 1 + 0 + 4 + (1 - 2) ** 2 + 0 + (3 - 1) ** 2, 1e-9, "closed form");
  // ddof 1 covariance, as numpy.cov
  const { cov } = meanAndCovariance(Float64Array.from([1, 2, 3, 6]), 2);
  assert.deepEqual(cov.to2DArray(), [[2, 4], [4, 8]]);
});

Deno.test("nearest rows: index and squared distance of the closest reference", async () => {
  const refs = Float32Array.from([0, 0, 1, 1, 5, 5]);
  const points = Float32Array.from([0.9, 1.2, 4, 4, -1, 0]);
  const { index, distance2 } = await nearestRows(points, refs, 2);
  assert.deepEqual([...index], [1, 2, 0]);
  close(distance2[0], 0.01 + 0.04, 1e-6, "first");
  close(distance2[1], 2, 1e-6, "second");
  close(distance2[2], 1, 1e-6, "third");
});
