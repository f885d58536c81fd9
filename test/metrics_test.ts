import assert from "node:assert/strict";
import { histogram, jensenShannon, summarize } from "../src/metrics/distribution1d.ts";

Deno.test("summarize: mean and population std", () => {
  const s = summarize([1, 2, 3, 4]);
  assert.equal(s.mean, 2.5);
  assert.equal(s.std, Math.sqrt(1.25)); // ddof 0, as numpy.std
});

Deno.test("histogram: bins, edges and both overflow bins", () => {
  const c = histogram([-5, 0, 0.49, 0.5, 1.99, 2, 7, NaN], { bins: 4, low: 0, high: 2 });
  // [<0, [0,.5), [.5,1), [1,1.5), [1.5,2), >=2]
  assert.deepEqual(c, [2, 2, 1, 0, 1, 2]);
});

Deno.test("Jensen–Shannon divergence: closed forms in bits", () => {
  assert.equal(jensenShannon([1, 2, 3], [2, 4, 6]), 0);
  assert.equal(jensenShannon([1, 0], [0, 1]), 1);
  // p = (1, 0), q = (1/2, 1/2): m = (3/4, 1/4)
  const expected = 0.5 * Math.log2(1 / 0.75) +
    0.5 * (0.5 * Math.log2(0.5 / 0.75) + 0.5 * Math.log2(0.5 / 0.25));
  assert.ok(Math.abs(jensenShannon([4, 0], [1, 1]) - expected) < 1e-15);
  assert.throws(() => jensenShannon([1], [1, 2]), /differ in length/);
});
