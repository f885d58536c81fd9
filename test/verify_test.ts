/** Fingerprints, `deno task verify` and `deno task diff`. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { diffRuns } from "../src/cli/diff.ts";
import { firstDifference } from "../src/record/fingerprint.ts";
import type { Result } from "../src/record/result.ts";
import { runBench, runDeno, runDirOf } from "./helpers.ts";

const SHORT = [
  "training.budget.iterations=12",
  "training.dSteps=3",
  "training.gSteps=2",
  "training.logEvery=2",
  "metrics.samples=500",
];

async function run(out: string, seed: number, extra: string[] = []): Promise<string> {
  const r = await runBench([
    "gaussian-moments",
    "--backend",
    "wasm",
    "--seed",
    String(seed),
    "--out",
    out,
    ...[...SHORT, ...extra].flatMap((s) => ["--set", s]),
  ]);
  assert.equal(r.code, 0, r.stderr);
  return runDirOf(out, "gaussian-moments", [...SHORT, ...extra], seed);
}

async function verify(dir: string) {
  const args = ["run", "--allow-read", "--allow-write", "--allow-env", "--allow-run=git"];
  return await runDeno([...args, "src/cli/verify.ts", dir]);
}

const read = (dir: string): Result => JSON.parse(Deno.readTextFileSync(join(dir, "result.json")));

Deno.test("verify re-runs a run and finds it identical; a tampered fingerprint is located", async () => {
  const out = Deno.makeTempDirSync();
  const dir = await run(out, 4);
  const result = read(dir);
  assert.deepEqual(result.fingerprints.map((f) => f.step), [2, 4, 6, 8, 10, 12]);
  assert.ok(Object.keys(result.fingerprints[0].tensors).includes("G/h0/W"));
  assert.ok(Object.keys(result.fingerprints[0].tensors).includes("D/h2/b/velocity"));
  const ok = await verify(dir);
  assert.equal(ok.code, 0);
  assert.match(ok.stdout, /identical: all 6 fingerprints match/);

  const tampered = structuredClone(result);
  tampered.fingerprints[2].tensors["G/h0/W"] = "0".repeat(16);
  tampered.fingerprints[2].hash = "f".repeat(64);
  Deno.writeTextFileSync(join(dir, "result.json"), JSON.stringify(tampered));
  const bad = await verify(dir);
  assert.equal(bad.code, 1);
  assert.match(bad.stdout, /first diverging step: 6; differing: G\/h0\/W$/m);
  Deno.removeSync(out, { recursive: true });
});

Deno.test("diff lists config, seed and environment changes and the first differing fingerprint", async () => {
  const out = Deno.makeTempDirSync();
  const a = read(await run(out, 1));
  const b = read(await run(out, 2));
  const lines = diffRuns(a, b).join("\n");
  assert.match(lines, /config: identical/);
  assert.match(lines, /seed: 1 → 2/);
  assert.match(lines, /environment: identical/);
  assert.match(lines, /fingerprints: first diverging step: 2; differing: G\/h0\/W/);
  const other = structuredClone(a);
  other.config.training.optimizers.generator = { kind: "sgd", lr: 0.002, momentum: 0.9 };
  other.backend = { ...other.backend, name: "cpu" };
  const lines2 = diffRuns(a, other).join("\n");
  assert.match(lines2, /\$\.training\.optimizers\.generator\.lr: 0\.001 → 0\.002/);
  assert.match(lines2, /\$\.backend\.name: "wasm" → "cpu"/);
  assert.match(diffRuns(a, a).join("\n"), /fingerprints: identical/);
  Deno.removeSync(out, { recursive: true });
});

Deno.test("firstDifference: equal, different step grids, different lengths", () => {
  const fp = (step: number, hash: string) => ({
    step,
    hash,
    tensors: { W: hash.slice(0, 4) },
    losses: "x",
  });
  assert.equal(firstDifference([fp(2, "aaaa")], [fp(2, "aaaa")]), null);
  assert.deepEqual(firstDifference([fp(2, "aaaa")], [fp(2, "bbbb")]), {
    step: 2,
    tensors: ["W"],
    losses: false,
  });
  assert.deepEqual(firstDifference([fp(2, "aaaa")], [fp(3, "aaaa")]), {
    step: null,
    reason: "fingerprint 0 is at step 2 vs 3",
  });
  assert.deepEqual(firstDifference([fp(2, "aaaa")], []), {
    step: null,
    reason: "1 vs 0 fingerprints",
  });
});
