/** The progress line: what it shows at each terminal width, and the rate after a resume. */
import assert from "node:assert/strict";
import {
  formatProgress,
  LOG_QUIET_MS,
  ProgressBar,
  type ProgressState,
  rateSince,
} from "../src/cli/progress.ts";

const training: ProgressState = {
  label: "mnist-mlp seed 1",
  iteration: 42,
  iterations: 60,
  rate: 2.7,
  eta: 6.7,
  dLoss: 0.6931,
  gLoss: 0.69312,
  phase: null,
};

Deno.test("the progress line fits 40, 80 and 120 columns, dropping fields by priority", () => {
  const cases: [ProgressState, number, string][] = [
    // the bar shrinks first (17 of 24 cells at 120, 15 of 22 at 80), then goes, then the losses
    [
      training,
      120,
      "mnist-mlp seed 1 [#################.......] 42/60 ETA 7s 2.7 it/s D 0.693 G 0.693",
    ],
    [
      training,
      80,
      "mnist-mlp seed 1 [###############.......] 42/60 ETA 7s 2.7 it/s D 0.693 G 0.693",
    ],
    [training, 40, "mnist-mlp seed 1 42/60 ETA 7s 2.7 it/s"],
    // no rate yet: dashes, not a guess
    [
      { ...training, rate: null, eta: null, dLoss: null, gLoss: null },
      40,
      "mnist-mlp seed 1 42/60 ETA -- -- it/s",
    ],
    // a long label keeps its start and its seed
    [
      {
        ...training,
        label: "tfd-mlp-pretrain+0123abcd seed 12",
        iteration: 125000,
        iterations: 125000,
      },
      40,
      "tfd-mlp-pretrain… seed 12 125000/125000",
    ],
    // after the loop, the phase; cut at its end
    [
      {
        ...training,
        iteration: 60,
        phase: "evaluating: Parzen window (σ search, then the test split)",
      },
      120,
      "mnist-mlp seed 1 60/60 evaluating: Parzen window (σ search, then the test split)",
    ],
    [
      {
        ...training,
        iteration: 60,
        phase: "evaluating: Parzen window (σ search, then the test split)",
      },
      80,
      "mnist-mlp seed 1 60/60 evaluating: Parzen window (σ search, then the test spli…",
    ],
    [
      {
        ...training,
        iteration: 60,
        phase: "evaluating: Parzen window (σ search, then the test split)",
      },
      40,
      "mnist-mlp seed 1 60/60 evaluating: Par…",
    ],
  ];
  for (const [state, columns, expected] of cases) {
    const line = formatProgress(state, columns);
    assert.equal(line, expected, `at ${columns} columns`);
    assert.ok(line.length < columns, `${line.length} characters at ${columns} columns`);
  }
  // and at any width from 10 to 200, never wider than the terminal less one column
  for (let columns = 11; columns <= 200; columns++) {
    for (const state of cases.map((c) => c[0])) {
      assert.ok(formatProgress(state, columns).length <= columns - 1, `${columns}`);
    }
  }
});

Deno.test("the rate counts only this process's iterations: a resume at 5000 is not 5000 fast", () => {
  const first = { at: 10_000, iteration: 5001 };
  assert.deepEqual(rateSince(first, 5001, 6000, 10_000), { rate: null, eta: null });
  assert.deepEqual(rateSince(first, 5010, 6000, 11_999), { rate: null, eta: null }, "warm-up");
  // 30 iterations in 4 s: 7.5 it/s, (6000 − 5031) / 7.5 s left
  assert.deepEqual(rateSince(first, 5031, 6000, 14_000), { rate: 7.5, eta: 969 / 7.5 });
});

Deno.test("a log gets a line every 10%, and one after LOG_QUIET_MS without a line", () => {
  const lines: string[] = [];
  let now = 0;
  const bar = new ProgressBar("run", "log", { write: (t) => lines.push(t), now: () => now });
  const at = (iteration: number) =>
    bar.update({ iteration, iterations: 1000, dLoss: null, gLoss: null });
  at(1); // the first report opens decile 0
  for (let i = 2; i < 100; i++) at(i);
  assert.equal(lines.length, 1);
  at(100); // decile 1
  assert.equal(lines.length, 2);
  now = LOG_QUIET_MS - 1;
  at(150);
  assert.equal(lines.length, 2);
  now = LOG_QUIET_MS;
  at(151); // quiet for LOG_QUIET_MS: a line within the decile
  assert.equal(lines.length, 3);
  assert.match(lines[2], /^run .*151\/1000/);
  at(152);
  assert.equal(lines.length, 3);
  at(200); // the next decile still gets its line
  assert.equal(lines.length, 4);
  assert.ok(lines.every((l) => l.endsWith("\n") && !l.includes("\r")));
});
