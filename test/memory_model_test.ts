/**
 * The memory model (src/cli/memory-model.ts) against measured peak RSS: the smoke runs that
 * `deno task memory-model` measured on this machine (benchmarks/results/memory-model.json),
 * and, for configs whose data are not here (CIFAR-10, TFD), the peaks their configs record
 * (`cost.memoryGB`).
 */
import * as assert from "node:assert/strict";
import { join } from "node:path";
import { estimateMemory } from "../src/cli/memory-model.ts";
import { CONFIG_DIR, listConfigs, loadConfig } from "../src/config/load.ts";
import type { MemoryModelTable } from "../benchmarks/memory_model.ts";

const table: MemoryModelTable = JSON.parse(
  Deno.readTextFileSync(join(CONFIG_DIR, "../benchmarks/results/memory-model.json")),
);
/** The factor docs/performance.md states: estimate / measured, at most. */
const TOLERANCE = 2.5;

Deno.test("memory-model.json covers every shipped config, measured or skipped with the reason", () => {
  const listed = [...table.runs, ...table.skipped].map((r) => r.experiment).sort();
  assert.deepEqual(listed, listConfigs());
  for (const s of table.skipped) assert.match(s.reason, /found nothing there/, s.experiment);
});

Deno.test("the model never underestimates a measured smoke run, and overestimates by less than the stated factor", () => {
  for (const row of table.runs) {
    const estimate = estimateMemory(loadConfig(row.experiment, { profile: row.profile }).config);
    // the table was made with the model as it is (deno task memory-model --estimates-only)
    assert.equal(Number(estimate.totalGB.toPrecision(3)), row.estimatedGB, row.experiment);
    const ratio = row.measuredGB / estimate.totalGB;
    assert.ok(ratio <= 1 && ratio > 1 / TOLERANCE, `${row.experiment}: ratio ${ratio}`);
  }
  const { min, max } = table.ratio;
  assert.deepEqual([min, max], [
    Math.min(...table.runs.map((r) => r.ratio)),
    Math.max(...table.runs.map((r) => r.ratio)),
  ]);
});

Deno.test("configs whose data are not here: within the stated factor of the peak each config records", () => {
  for (const { experiment } of table.skipped) {
    const resolved = loadConfig(experiment, { profile: "smoke" });
    const measured = resolved.cost?.memoryGB.smoke;
    if (measured === undefined) continue;
    const ratio = measured / estimateMemory(resolved.config).totalGB;
    assert.ok(ratio > 1 / TOLERANCE && ratio < TOLERANCE, `${experiment}: ratio ${ratio}`);
  }
});
