/** The Parzen estimator against an independent float64 reference and closed forms. */
import assert from "node:assert/strict";
import { selectBackend } from "../src/backend/select.ts";
import {
  deltaToPaper,
  logspace,
  meanAndSe,
  PAPER_SIGMAS,
  parzenEstimate,
  parzenLogLikelihoods,
} from "../src/metrics/parzen.ts";
import { Rng } from "../src/rng/streams.ts";

await selectBackend("wasm");

/** The estimator written plainly in float64, one point at a time (the tests' reference). */
function referenceLogLikelihood(
  centres: Float32Array,
  x: Float32Array,
  dim: number,
  sigma: number,
): number {
  const n = centres.length / dim;
  const a = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let d2 = 0;
    for (let k = 0; k < dim; k++) d2 += (x[k] - centres[i * dim + k]) ** 2;
    a[i] = -d2 / (2 * sigma * sigma);
  }
  const max = Math.max(...a);
  let s = 0;
  for (const v of a) s += Math.exp(v - max);
  return max + Math.log(s / n) - dim * Math.log(sigma * Math.sqrt(2 * Math.PI));
}

const uniform = (n: number, seed: number) => new Rng(seed).stream("parzen").at(0).uniform(n);

Deno.test("σ grid is numpy.logspace(−1, 0, 10)", () => {
  assert.deepEqual(
    PAPER_SIGMAS.map((s) => Number(s.toFixed(4))),
    [0.1, 0.1292, 0.1668, 0.2154, 0.2783, 0.3594, 0.4642, 0.5995, 0.7743, 1],
  );
  assert.deepEqual(logspace(0, 2, 3), [1, 10, 100]);
});

Deno.test("agrees with a float64 reference to 1e-4 relative, for every σ", async () => {
  const dim = 20, n = 300, m = 40;
  const centres = uniform(n * dim, 1), points = uniform(m * dim, 2);
  const ll = await parzenLogLikelihoods(centres, points, dim, PAPER_SIGMAS);
  PAPER_SIGMAS.forEach((sigma, s) => {
    for (let j = 0; j < m; j++) {
      const ref = referenceLogLikelihood(
        centres,
        points.subarray(j * dim, (j + 1) * dim),
        dim,
        sigma,
      );
      assert.ok(
        Math.abs(ll[s][j] - ref) <= 1e-4 * Math.abs(ref),
        `σ ${sigma}, point ${j}: ${ll[s][j]} vs ${ref}`,
      );
    }
  });
});

Deno.test("closed forms: one centre; a point on a centre far from the others", async () => {
  const dim = 3, sigma = 0.5;
  const mu = new Float32Array([0.25, 0.5, 0.75]), x = new Float32Array([0.5, 0.5, 0.25]);
  const [[one]] = await parzenLogLikelihoods(mu, x, dim, [sigma]);
  const d2 = 0.25 ** 2 + 0 + 0.5 ** 2;
  const expected = -d2 / (2 * sigma * sigma) - dim * Math.log(sigma * Math.sqrt(2 * Math.PI));
  assert.ok(Math.abs(one - expected) < 1e-6, `${one} vs ${expected}`);
  // 4 centres, the point on the first, the others ≥ 1 away at σ = 0.1: log(1/4) − d·log(σ√2π)
  const centres = new Float32Array([0, 0, 0, 1, 1, 1, 1, 0, 1, 0, 1, 1]);
  const [[onCentre]] = await parzenLogLikelihoods(centres, new Float32Array([0, 0, 0]), dim, [0.1]);
  const expectedOn = Math.log(1 / 4) - dim * Math.log(0.1 * Math.sqrt(2 * Math.PI));
  assert.ok(Math.abs(onCentre - expectedOn) < 1e-6, `${onCentre} vs ${expectedOn}`);
});

Deno.test("the result does not depend on the batch size", async () => {
  const dim = 16, centres = uniform(500 * dim, 3), points = uniform(37 * dim, 4);
  const results = await Promise.all(
    [1, 7, 37, 500].map((batchSize) =>
      parzenLogLikelihoods(centres, points, dim, [0.2, 0.7], { batchSize })
    ),
  );
  for (const r of results.slice(1)) {
    assert.deepEqual(r, results[0]);
  }
});

Deno.test("σ is chosen on the validation set; SE is std (ddof 0) / √N; alarms", async () => {
  const dim = 8;
  // centres and data from the same distribution: an interior σ wins
  const centres = uniform(400 * dim, 5), valid = uniform(50 * dim, 6), test = uniform(60 * dim, 7);
  const est = await parzenEstimate(centres, valid, test, dim);
  const best = est.sigmaCurve.reduce((a, b) => (b.validationLL > a.validationLL ? b : a));
  assert.equal(est.sigma, best.sigma);
  assert.equal(est.sigmaCurve.length, 10);
  const [ll] = await parzenLogLikelihoods(centres, test, dim, [est.sigma]);
  const { mean, se } = meanAndSe(ll);
  assert.equal(est.mean, mean);
  assert.equal(est.se, se);
  assert.deepEqual(meanAndSe(Float64Array.from([1, 2, 3, 4])), {
    mean: 2.5,
    se: Math.sqrt(1.25) / 2,
  });
  assert.deepEqual(est.alarms, []);
  assert.equal(est.testCount, 60);

  // a memoriser with tiny σ at the edge, data outside [0, 1], an implausible number
  const far = Float32Array.from(uniform(50 * dim, 8), (v) => v * 40 - 20);
  const bad = await parzenEstimate(
    far,
    far.subarray(0, 10 * dim),
    far.subarray(10 * dim, 20 * dim),
    dim,
  );
  assert.ok(bad.alarms.some((a) => a.includes("edge of the grid")), bad.alarms.join("; "));
  assert.ok(
    bad.alarms.some((a) => a.includes("samples fall outside [0, 1]")),
    bad.alarms.join("; "),
  );
  const implausible = await parzenEstimate(
    new Float32Array(dim),
    new Float32Array(dim).fill(1),
    new Float32Array(dim).fill(1),
    dim,
    { sigmas: [0.01] },
  );
  assert.ok(
    implausible.alarms.some((a) => a.includes("implausible")),
    implausible.alarms.join("; "),
  );
});

Deno.test("delta to the paper in standard errors of the difference", () => {
  const d = deltaToPaper({ mean: 231, se: 1.5 }, { mean: 225, se: 2 });
  assert.equal(d.delta, 6);
  assert.equal(d.standardErrors, 6 / 2.5);
});
