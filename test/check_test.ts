/** Stability bands: the values they read, their schema, and the repeated-draw counter. */
import assert from "node:assert/strict";
import {
  type CheckedRun,
  checkRun,
  describeMiss,
  formatBand,
  metricValue,
} from "../src/record/bands.ts";
import { ConfigError } from "../src/config/errors.ts";
import { loadConfig, resolveConfig } from "../src/config/load.ts";
import { DrawMonitor } from "../src/train/draw-monitor.ts";

/** A run whose history has 8 entries: the last quarter is the last 2. */
function run(overrides: Partial<CheckedRun> = {}): CheckedRun {
  return {
    status: "completed",
    metrics: { fakeMean: 4.05, fakeStd: 1.3 },
    history: {
      dLoss: [9, 9, 9, 9, 9, 9, 1.5, 0.5],
      gLoss: [0, 0, 0, 0, 0, 0, 2, 4],
      dReal: [0, 0, 0, 0, 0, 0, 0.75, 0.5],
      dFake: [0, 0, 0, 0, 0, 0, 0.25, 0.5],
      fakeMean: [0, 0, 0, 0, 0, 0, 3, 5],
      fakeStd: [0, 0, 0, 0, 0, 0, 1, 2],
    },
    draws: {
      noise: { draws: 10, repeats: 0 },
      dropout: { draws: 30, repeats: 2 },
      real: { draws: 10, repeats: 0 },
    },
    ...overrides,
  };
}

Deno.test("derived values: last-quarter means, the D gap, divergence, repeated draws", () => {
  const r = run();
  assert.equal(metricValue(r, "lastQuarter.dLoss"), 1);
  assert.equal(metricValue(r, "lastQuarter.gLoss"), 3);
  assert.equal(metricValue(r, "lastQuarter.dGap"), 0.25); // (0.5 + 0) / 2
  assert.equal(metricValue(r, "lastQuarter.fakeMean"), 4);
  assert.equal(metricValue(r, "lastQuarter.fakeStd"), 1.5);
  assert.equal(metricValue(r, "diverged"), 0);
  assert.equal(metricValue(run({ status: "diverged" }), "diverged"), 1);
  assert.equal(metricValue(r, "repeatedDropoutMasks"), 2);
  assert.equal(metricValue(r, "repeatedNoiseDraws"), 0);
  assert.equal(metricValue(run({ draws: undefined }), "repeatedNoiseDraws"), null);
  // 5 entries: the last quarter rounds up to 2
  const five = run();
  for (const k of Object.keys(five.history) as (keyof CheckedRun["history"])[]) {
    five.history[k] = five.history[k]!.slice(3);
  }
  assert.equal(metricValue(five, "lastQuarter.fakeMean"), 4);
  // a non-finite value in the window, or no history, gives no value
  const nan = run();
  nan.history.fakeMean[7] = NaN;
  assert.equal(metricValue(nan, "lastQuarter.fakeMean"), null);
  const empty = run();
  empty.history.fakeMean = [];
  assert.equal(metricValue(empty, "lastQuarter.fakeMean"), null);
});

Deno.test("checkRun: inclusive bounds, open sides, a missing value fails", () => {
  const checks = checkRun([
    { metric: "fakeMean", low: 3.85, high: 4.15, basis: "x" },
    { metric: "fakeStd", low: 1.4, basis: "x" },
    { metric: "repeatedDropoutMasks", high: 0, basis: "x" },
    { metric: "lastQuarter.dGap", low: 0.25, high: 0.25, basis: "x" },
    { metric: "parzenMean", low: 0, basis: "x" },
  ], run());
  assert.deepEqual(checks, [
    { metric: "fakeMean", low: 3.85, high: 4.15, value: 4.05, pass: true },
    { metric: "fakeStd", low: 1.4, high: null, value: 1.3, pass: false },
    { metric: "repeatedDropoutMasks", low: null, high: 0, value: 2, pass: false },
    { metric: "lastQuarter.dGap", low: 0.25, high: 0.25, value: 0.25, pass: true },
    { metric: "parzenMean", low: 0, high: null, value: null, pass: false },
  ]);
  assert.equal(formatBand(checks[0]), "[3.85, 4.15]");
  assert.equal(formatBand(checks[1]), "≥ 1.4");
  assert.equal(formatBand(checks[2]), "≤ 0");
  assert.equal(formatBand(checks[3]), "= 0.25");
  assert.equal(
    describeMiss("gaussian-moments seed 2", checks[1]),
    "gaussian-moments seed 2: fakeStd = 1.3, outside ≥ 1.4",
  );
  assert.equal(describeMiss("r", checks[4]), "r: parzenMean = no value, outside ≥ 0");
});

Deno.test("expect: bands per profile, kept out of the config hash", () => {
  const smoke = loadConfig("gaussian-moments", { profile: "smoke" });
  const paper = loadConfig("gaussian-moments");
  assert.deepEqual(
    paper.expect.filter((b) => b.metric.startsWith("fake")).map((b) => [b.low, b.high]),
    [[3.85, 4.15], [1.10, 1.40]],
  );
  assert.ok(smoke.expect.some((b) => b.metric === "repeatedNoiseDraws" && b.high === 0));
  const noBands = loadConfig("gaussian-moments", { profile: "smoke", overrides: ["expect={}"] });
  assert.deepEqual(noBands.expect, []);
  assert.equal(noBands.configHash, smoke.configHash);
  assert.ok(!("expect" in smoke.config) && !("cost" in smoke.config) && !("suite" in smoke.config));
  assert.equal(loadConfig("gaussian-moments-blog").inSuite, false);
  assert.equal(paper.inSuite, true);
  assert.deepEqual(paper.suites, []);
  // a named suite instead of the default one
  const ring = loadConfig("ring-gan");
  assert.equal(ring.inSuite, false);
  assert.deepEqual(ring.suites, ["stability"]);
});

Deno.test("suite: a named suite must be a declared profile, not the default suite's", () => {
  const raw = JSON.parse(Deno.readTextFileSync("configs/gaussian-moments.json"));
  const message = (suite: unknown) => {
    try {
      resolveConfig("x.json", { ...raw, suite });
    } catch (e) {
      assert.ok(e instanceof ConfigError);
      return e.message;
    }
    assert.fail("accepted");
  };
  assert.match(
    message(["stabilty"]),
    /at \$\.suite\[0\]: .*no profile "stabilty" to run the suite at; declared profiles: paper, smoke/,
  );
  assert.match(
    message(["smoke"]),
    /at \$\.suite\[0\]: .*"smoke" is the default suite's profile: set "suite": true/,
  );
});

Deno.test("expect: errors name the JSON path, what was found and what is allowed", () => {
  const raw = JSON.parse(Deno.readTextFileSync("configs/gaussian-moments.json"));
  const bad = (edit: (c: Record<string, unknown>) => void) => {
    const c = structuredClone(raw);
    edit(c);
    try {
      resolveConfig("x.json", c);
    } catch (e) {
      assert.ok(e instanceof ConfigError);
      return e.message;
    }
    assert.fail("accepted");
  };
  const band = { metric: "fakeMean", low: 1, high: 2, basis: "b" };
  assert.match(
    bad((c) => (c.expect = { smok: [band] })),
    /at \$\.expect\.smok: found .*; no profile "smok"; declared profiles: paper, smoke/,
  );
  assert.match(
    bad((c) => (c.expect = { smoke: [band, { ...band, metric: "fakeMaen" }] })),
    /at \$\.expect\.smoke\[1\]\.metric: found "fakeMaen" \(string\); expected a metric of gaussian-1d runs: fakeMean, fakeStd, .*lastQuarter\.dGap/,
  );
  assert.match(
    bad((c) => (c.expect = { paper: [{ ...band, low: 3 }] })),
    /at \$\.expect\.paper\[0\]\.high: found 2 \(number\); "low" must not exceed "high"/,
  );
  assert.match(
    bad((c) => (c.expect = { paper: [{ metric: "fakeMean", basis: "b" }] })),
    /at \$\.expect\.paper\[0\]: .*give "low", "high" or both/,
  );
  assert.match(
    bad((c) => (c.expect = { paper: [{ metric: "fakeMean", low: 1 }] })),
    /at \$\.expect\.paper\[0\]\.basis: found nothing \(the field is missing\); expected a string/,
  );
  assert.match(
    bad((c) => ((c.cost as { memoryGB: object }).memoryGB = { tiny: 1 })),
    /at \$\.cost\.memoryGB\.tiny: found 1 \(number\); no profile "tiny"/,
  );
});

Deno.test("DrawMonitor counts draws equal to the same stream's previous draw", () => {
  const m = new DrawMonitor();
  const a = Float32Array.from({ length: 100 }, (_, i) => i / 7);
  const b = Float32Array.from(a, (x) => x + 1);
  m.see("noise", "z", a);
  m.see("noise", "z", b);
  m.see("noise", "z", Float32Array.from(b)); // same numbers again
  m.see("noise", "other", Float32Array.from(b)); // another stream's first draw
  m.see("dropout", "z", Float32Array.from(b)); // another kind
  // MNIST batches share their first pixels (all 0): only the last value differs here
  const c = Float32Array.from(b);
  c[99] = 0;
  m.see("noise", "z", c);
  assert.deepEqual(m.counts.noise, { draws: 5, repeats: 1 });
  assert.deepEqual(m.counts.dropout, { draws: 1, repeats: 0 });
  assert.deepEqual(m.counts.real, { draws: 0, repeats: 0 });
});
