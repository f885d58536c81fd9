/**
 * The training state hashed and written one tensor at a time: each tensor hashed from its
 * wasm-heap view gives the fingerprint the flat read-back gives, in a run as for variables;
 * a checkpoint written in parts is the bytes of the encoded one.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { selectBackend } from "../src/backend/select.ts";
import { tf } from "../src/backend/tf.ts";
import { loadConfig } from "../src/config/load.ts";
import { captureTensors, visitTensors } from "../src/models/tensor-state.ts";
import {
  type Checkpoint,
  checkpointParts,
  decodeCheckpoint,
  encodeCheckpoint,
} from "../src/record/checkpoint.ts";
import { capturedHashes, tensorHash } from "../src/record/fingerprint.ts";
import { checkpointPath, readCheckpoint, writeCheckpoint } from "../src/record/run-folder.ts";
import { runExperiment } from "../src/train/run.ts";

await selectBackend("wasm");

Deno.test("tensors hashed from the heap one at a time equal the hashes of the flat read-back", async () => {
  const named: [string, tf.Variable][] = [[3, 5], [7], [2, 2, 2]].map((shape, i) => [
    `t${i}`,
    tf.variable(tf.randomNormal(shape, 0, 1, "float32", 11 + i)),
  ]);
  const heap: Record<string, string> = {};
  await visitTensors(named, (name, v) => heap[name] = tensorHash(v));
  const flat = capturedHashes(await captureTensors(named));
  assert.deepEqual(heap, flat);
  assert.deepEqual(Object.keys(heap), ["t0", "t1", "t2"], "in the state's order");
  // an independent hash: the first 16 hex digits of SHA-256 over each tensor's float32 bytes
  for (const [name, v] of named) {
    const bytes = new Uint8Array(new Float32Array(v.dataSync()).buffer);
    assert.equal(heap[name], createHash("sha256").update(bytes).digest("hex").slice(0, 16));
  }
  tf.dispose(named.map(([, v]) => v));
});

Deno.test("a run's fingerprints hashed from the heap equal those of the read-back a checkpoint shares", async () => {
  const config = loadConfig("mnist-mlp", {
    overrides: [
      'training.budget={"iterations":4}',
      "training.checkpointEvery=2",
      "training.fingerprintEvery=1",
      "training.logEvery=1",
      "metrics.samples=100",
      "metrics.parzen=null",
      "metrics.classifier=null",
      "metrics.nearestTraining=null",
      "metrics.track=null",
    ],
  });
  const checkpoints: Checkpoint[] = [];
  // with checkpoints, iterations 2 and 4 hash the flat read-back; without, every one the heap
  const withCheckpoints = await runExperiment(config, {
    seed: 3,
    backend: "wasm",
    onCheckpoint: (cp) => (checkpoints.push(cp), Promise.resolve()),
  });
  const heapOnly = await runExperiment(config, { seed: 3, backend: "wasm" });
  assert.deepEqual(checkpoints.map((c) => c.header.iteration), [2, 4]);
  assert.equal(heapOnly.fingerprints.length, 4);
  assert.equal(JSON.stringify(heapOnly.fingerprints), JSON.stringify(withCheckpoints.fingerprints));
  // the checkpoint's values hash to its fingerprint's tensors
  const last = checkpoints.at(-1)!;
  assert.deepEqual(
    capturedHashes({ tensors: last.header.tensors, values: last.values }),
    heapOnly.fingerprints.at(-1)!.tensors,
  );

  // written in parts: the same bytes as encoded whole, and read back as written
  const dir = Deno.makeTempDirSync({ prefix: "ganbench-state-" });
  try {
    await writeCheckpoint(dir, last);
    const written = Deno.readFileSync(checkpointPath(dir));
    assert.deepEqual(written, encodeCheckpoint(last));
    const parts = checkpointParts(last);
    assert.equal(parts.length, 3);
    assert.equal(parts[1].buffer, last.values.buffer, "the values are not copied");
    assert.deepEqual(readCheckpoint(dir)!.values, last.values);
    assert.deepEqual(
      decodeCheckpoint(written, "x").header,
      decodeCheckpoint(encodeCheckpoint(last), "x").header,
    );
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
