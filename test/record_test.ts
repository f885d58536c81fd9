/** The run record: result.json's reader, run folder paths, the fingerprint's scalar order. */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { capturedHashes, fingerprint, FINGERPRINT_SCALARS } from "../src/record/fingerprint.ts";
import { readResult, RESULT_FORMAT, ResultError } from "../src/record/result.ts";
import { resultPath, runFolder, runKey, seedOfFolder } from "../src/record/run-folder.ts";

Deno.test("run folders: <out>/<experiment>/seed-<N>, and back", () => {
  assert.equal(runKey("mnist-mlp", 3), "mnist-mlp/seed-3");
  assert.equal(runFolder("reports", "mnist-mlp", 3), join("reports", "mnist-mlp", "seed-3"));
  assert.equal(resultPath("r/x/seed-1"), join("r/x/seed-1", "result.json"));
  assert.equal(seedOfFolder("seed-12"), 12);
  assert.equal(seedOfFolder("seed-"), null);
  assert.equal(seedOfFolder("seed-1.json"), null);
  assert.equal(seedOfFolder("evaluations"), null);
});

Deno.test("readResult checks the format and names the file in one line", () => {
  const dir = Deno.makeTempDirSync();
  try {
    const path = join(dir, "result.json");
    Deno.writeTextFileSync(path, JSON.stringify({ format: RESULT_FORMAT, experiment: "x" }));
    assert.equal(readResult(path).experiment, "x");
    Deno.writeTextFileSync(path, JSON.stringify({ format: 7 }));
    assert.throws(() => readResult(path), (e: Error) => {
      assert.ok(e instanceof ResultError);
      assert.equal(e.message, `${path}: not a usable result (format 7; this version reads 1)`);
      return true;
    });
    Deno.writeTextFileSync(path, JSON.stringify({ experiment: "x" }));
    assert.throws(
      () => readResult(path),
      { message: `${path}: not a usable result (format missing; this version reads 1)` },
    );
    Deno.writeTextFileSync(path, "{");
    assert.throws(() => readResult(path), /result\.json: cannot read the run's result \(/);
    assert.throws(() => readResult(join(dir, "none.json")), ResultError);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("fingerprints hash the recorded scalars in FINGERPRINT_SCALARS order", () => {
  const sha = (s: string) => createHash("sha256").update(s).digest("hex");
  const values = new Float32Array([1, 2, 3]);
  const captured = { tensors: [{ name: "G/w", shape: [3], offset: 0, length: 3 }], values };
  // insertion order of the argument must not matter; the constant decides
  const scalars = { gLoss: 6, dLoss: 5, fakeStd: 4, fakeMean: 3, dFake: 2, dReal: 1 };
  const hashes = capturedHashes(captured);
  const fp = fingerprint(4, hashes, scalars, FINGERPRINT_SCALARS.simultaneous, [1, 2]);
  const lossHash = sha('{"dReal":1,"dFake":2,"fakeMean":3,"fakeStd":4,"dLoss":5,"gLoss":6}')
    .slice(0, 16);
  const tensors = {
    "G/w": createHash("sha256").update(new Uint8Array(values.buffer)).digest("hex").slice(0, 16),
  };
  assert.equal(fp.losses, lossHash);
  assert.deepEqual(fp.tensors, tensors);
  assert.equal(fp.hash, sha(JSON.stringify({ step: 4, tensors, lossHash, counters: [1, 2] })));
  const alt = fingerprint(4, hashes, scalars, FINGERPRINT_SCALARS.alternating, [1, 2]);
  assert.equal(
    alt.losses,
    sha('{"dReal":1,"dFake":2,"dLoss":5,"fakeMean":3,"fakeStd":4,"gLoss":6}').slice(0, 16),
  );
});
