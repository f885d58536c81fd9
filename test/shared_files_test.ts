/**
 * The files every bench on one --out writes in common (suite.json, index.html): two
 * processes writing them at once lose none of each other's entries, and leave no lock or
 * temp file behind (src/record/shared-files.ts).
 */
import * as assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { mergeSummaries, SUITE_FORMAT, type SuiteSummary } from "../src/cli/summary.ts";
import { runDeno } from "./helpers.ts";

const RUNS_EACH = 40;

Deno.test("two processes writing one --out's index and suite.json at once lose no entry", async () => {
  const out = Deno.makeTempDirSync(), sync = Deno.makeTempDirSync();
  const child = (tag: string) =>
    runDeno([
      "run",
      `--allow-read`,
      `--allow-write=${out},${sync}`,
      "test/shared_files_child.ts",
      out,
      tag,
      String(RUNS_EACH),
      sync,
    ]);
  const running = Promise.all([child("a"), child("b")]);
  // both started (Deno's start-up takes longer than their work): let them go at once
  while (!["a", "b"].every((t) => existsSync(join(sync, `ready-${t}`)))) {
    await new Promise((r) => setTimeout(r, 5));
  }
  Deno.writeTextFileSync(join(sync, "go"), "");
  const done = await running;
  for (const r of done) assert.equal(r.code, 0, r.stderr);
  const keys = ["a", "b"].flatMap((tag) =>
    Array.from({ length: RUNS_EACH }, (_, i) => `exp-${tag}/seed-${i + 1}`)
  );
  const suite: SuiteSummary = JSON.parse(Deno.readTextFileSync(join(out, "suite.json")));
  assert.deepEqual(suite.runs.map((o) => o.key).sort(), [...keys].sort());
  // each process's runs in the order it wrote them
  for (const tag of ["a", "b"]) {
    assert.deepEqual(
      suite.runs.map((o) => o.key).filter((k) => k.startsWith(`exp-${tag}/`)),
      keys.filter((k) => k.startsWith(`exp-${tag}/`)),
    );
  }
  const index = Deno.readTextFileSync(join(out, "index.html"));
  const missing = keys.filter((k) => !index.includes(`r-${k}`));
  assert.deepEqual(missing, [], "every run is in the index");
  assert.deepEqual(
    [...Deno.readDirSync(out)].map((e) => e.name).sort(),
    ["exp-a", "exp-b", "index.html", "suite.json"],
    "no lock or temp file left",
  );
  Deno.removeSync(out, { recursive: true });
  Deno.removeSync(sync, { recursive: true });
});

Deno.test("suite.json: a bench's runs replace the same runs' entries and keep the others", () => {
  const outcome = (key: string, status: "completed" | "failed") => ({
    key,
    experiment: key.split("/")[0],
    seed: Number(key.split("seed-")[1]),
    profile: "smoke",
    dir: key,
    status,
  });
  const summary = (runs: ReturnType<typeof outcome>[], startedAt: string): SuiteSummary => ({
    format: SUITE_FORMAT,
    profile: "smoke",
    seeds: [1],
    jobs: 1,
    check: false,
    startedAt,
    wallSeconds: 1,
    runs,
    missed: [],
  });
  const earlier = summary([outcome("a/seed-1", "failed"), outcome("b/seed-1", "completed")], "t0");
  const latest = summary(
    [outcome("c/seed-1", "completed"), outcome("a/seed-1", "completed")],
    "t1",
  );
  const merged = mergeSummaries(earlier, latest);
  assert.deepEqual(merged.runs.map((o) => [o.key, o.status]), [
    ["a/seed-1", "completed"],
    ["b/seed-1", "completed"],
    ["c/seed-1", "completed"],
  ]);
  assert.equal(merged.startedAt, "t1");
  assert.equal(mergeSummaries(null, latest), latest);
});
