/**
 * The training state hashed and written one tensor at a time: each tensor hashed from its
 * wasm-heap view gives the fingerprint the flat read-back gives, in a run as for variables;
 * a checkpoint written in parts, or streamed from the tensors, is the bytes of the encoded
 * one, resumes as it does and is refused, as it is, when a weight is not finite; a streamed
 * write that fails leaves the earlier file as it was.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { selectBackend } from "../src/backend/select.ts";
import { tf } from "../src/backend/tf.ts";
import { loadConfig } from "../src/config/load.ts";
import {
  allFinite,
  captureTensors,
  tensorLayout,
  visitTensors,
  writeTensorBytes,
} from "../src/models/tensor-state.ts";
import {
  type Checkpoint,
  type CheckpointHeader,
  checkpointParts,
  decodeCheckpoint,
  encodeCheckpoint,
  streamCheckpoint,
  type StreamedCheckpoint,
} from "../src/record/checkpoint.ts";
import { capturedHashes, tensorHash } from "../src/record/fingerprint.ts";
import {
  checkpointPath,
  readCheckpoint,
  writeCheckpoint,
  writeStreamedCheckpoint,
} from "../src/record/run-folder.ts";
import type { RunOptions } from "../src/train/options.ts";
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

/** The concatenation of byte chunks. */
function joined(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) out.set(c, at), at += c.length;
  return out;
}

Deno.test("tensors streamed one at a time make the bytes of the file encoded from the flat read-back", async () => {
  const named: [string, tf.Variable][] = [[3, 5], [7], [2, 2, 2]].map((shape, i) => [
    `t${i}`,
    tf.variable(tf.randomNormal(shape, 0, 1, "float32", 21 + i)),
  ]);
  const captured = await captureTensors(named);
  assert.deepEqual(tensorLayout(named), captured.tensors);
  const header = { format: 2, tensors: captured.tensors } as CheckpointHeader;
  const chunks: Uint8Array[] = [];
  // copied as they come: the views are valid only during the call
  await streamCheckpoint(
    { header, writeValues: (write) => writeTensorBytes(named, write) },
    (bytes) => chunks.push(bytes.slice()),
  );
  assert.equal(chunks.length, 2 + named.length, "the header, each tensor, the digest");
  const file = joined(chunks);
  assert.deepEqual(file, encodeCheckpoint({ header, values: captured.values }));
  // an independent digest: SHA-256 of everything before the last 32 bytes
  const body = file.subarray(0, file.length - 32);
  assert.deepEqual(
    file.subarray(file.length - 32),
    new Uint8Array(createHash("sha256").update(body).digest()),
  );
  // the values, from each variable's own read-back, follow the header
  const headerEnd = 4 + new DataView(file.buffer).getUint32(0, true);
  const expected = new Float32Array(named.flatMap(([, v]) => [...v.dataSync()]));
  assert.deepEqual(new Uint8Array(expected.buffer), file.subarray(headerEnd, file.length - 32));
  tf.dispose(named.map(([, v]) => v));
});

/** mnist-mlp for `iterations`, a checkpoint every 2 and a fingerprint at every one. */
function shortMnist(iterations: number) {
  return loadConfig("mnist-mlp", {
    overrides: [
      `training.budget={"iterations":${iterations}}`,
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
}

/** What a streamed checkpoint writes into `dir`, read back after each write. */
function streamInto(dir: string, files: Uint8Array[]): RunOptions["onCheckpointStream"] {
  return async (cp) => {
    await writeStreamedCheckpoint(dir, cp);
    files.push(Deno.readFileSync(checkpointPath(dir)));
  };
}

/** A header without what the clock sets (each segment's start and seconds). */
function untimed(h: CheckpointHeader) {
  return JSON.stringify({
    ...h,
    segments: h.segments?.map((seg) => ({ ...seg, startedAt: null, wallSeconds: null })),
  });
}

Deno.test("a run's streamed checkpoints are the files of its in-memory ones and resume to the same fingerprints", async () => {
  const config = shortMnist(4);
  const inMemory: Checkpoint[] = [];
  const whole = await runExperiment(config, {
    seed: 5,
    backend: "wasm",
    onCheckpoint: (cp) => (inMemory.push(cp), Promise.resolve()),
  });
  const dir = Deno.makeTempDirSync({ prefix: "ganbench-stream-" });
  try {
    const files: Uint8Array[] = [];
    const streamed = await runExperiment(config, {
      seed: 5,
      backend: "wasm",
      onCheckpointStream: streamInto(dir, files),
    });
    assert.equal(JSON.stringify(streamed.fingerprints), JSON.stringify(whole.fingerprints));
    assert.equal(files.length, 2);
    for (const [i, file] of files.entries()) {
      const read = decodeCheckpoint(file, "streamed");
      const cp = inMemory[i];
      assert.equal(read.header.iteration, [2, 4][i]);
      assert.equal(untimed(read.header), untimed(cp.header), "the same header but the clock's");
      assert.deepEqual(new Uint8Array(read.values.buffer), new Uint8Array(cp.values.buffer));
      // the in-memory path's encoder, its values and the streamed header: the streamed bytes
      assert.deepEqual(file, encodeCheckpoint({ header: read.header, values: cp.values }));
    }

    // resumed from the streamed file at iteration 2, streaming on: the uninterrupted run
    const resumedFiles: Uint8Array[] = [];
    const resumed = await runExperiment(config, {
      seed: 5,
      backend: "wasm",
      resume: decodeCheckpoint(files[0], "streamed"),
      onCheckpointStream: streamInto(dir, resumedFiles),
    });
    assert.equal(resumed.resumedFrom, 2);
    assert.equal(resumed.fingerprints.length, 4);
    assert.equal(JSON.stringify(resumed.fingerprints), JSON.stringify(whole.fingerprints));
    assert.equal(JSON.stringify(resumed.history), JSON.stringify(whole.history));
    const end = decodeCheckpoint(resumedFiles.at(-1)!, "resumed");
    assert.equal(end.header.iteration, 4);
    assert.deepEqual(
      new Uint8Array(end.values.buffer),
      new Uint8Array(inMemory.at(-1)!.values.buffer),
    );
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("a streamed checkpoint is refused, as an in-memory one is, once a weight is not finite", async () => {
  /** gaussian-moments, a checkpoint every iteration, with G's learning rate `lr`. */
  const overflowing = (lr: string, dSteps: number, gSteps: number) =>
    loadConfig("gaussian-moments", {
      overrides: [
        "training.budget.iterations=12",
        `training.dSteps=${dSteps}`,
        `training.gSteps=${gSteps}`,
        "training.logEvery=1",
        "training.checkpointEvery=1",
        `training.optimizers.generator.lr=${lr}`,
        "metrics.samples=100",
      ],
    });
  const cases = [
    // beyond float32's range: the first update makes G's weights infinite, its losses finite
    { config: overflowing("1e39", 1, 1), divergedAt: 1, handed: [], lossesFinite: true },
    // the weights stay finite at iteration 1; iteration 2's losses are not
    { config: overflowing("1e25", 3, 2), divergedAt: 2, handed: [1], lossesFinite: false },
  ];
  for (const { config, divergedAt, handed, lossesFinite } of cases) {
    const inMemory: number[] = [];
    const a = await runExperiment(config, {
      seed: 1,
      backend: "wasm",
      onCheckpoint: (cp) => (inMemory.push(cp.header.iteration), Promise.resolve()),
    });
    const dir = Deno.makeTempDirSync({ prefix: "ganbench-stream-" });
    try {
      const files: Uint8Array[] = [];
      const b = await runExperiment(config, {
        seed: 1,
        backend: "wasm",
        onCheckpointStream: streamInto(dir, files),
      });
      for (const r of [a, b]) {
        assert.equal(r.status, "diverged");
        assert.equal(r.divergedAt, divergedAt);
        const last = [r.history.dLoss.at(-1)!, r.history.gLoss.at(-1)!];
        assert.equal(last.every(Number.isFinite), lossesFinite, `${last}`);
      }
      assert.deepEqual(inMemory, handed);
      assert.equal(files.length, handed.length);
      const kept = readCheckpoint(dir);
      // the last healthy checkpoint stays; none is written when there was none
      assert.equal(kept?.header.iteration, handed.at(-1));
      if (kept) assert.ok(allFinite(kept.values));
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  }
});

Deno.test("a streamed write that fails mid-way leaves the earlier checkpoint whole and no temp file", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "ganbench-stream-" });
  const folder = join(dir, "checkpoints");
  const tempFiles = () => [...Deno.readDirSync(folder)].filter((e) => e.name !== "latest.ckpt");
  /** `cp` with its values cut short after `tensors` tensors, then `fail` (if any) thrown. */
  const cutShort = (cp: StreamedCheckpoint, tensors: number, fail?: Error) => ({
    header: cp.header,
    async writeValues(write: (bytes: Uint8Array) => void) {
      let n = 0;
      await cp.writeValues((bytes) => {
        if (n++ < tensors) write(bytes);
        else if (fail) throw fail;
      });
    },
  });
  try {
    const seen: string[] = [];
    await runExperiment(shortMnist(6), {
      seed: 5,
      backend: "wasm",
      onCheckpointStream: async (cp) => {
        const it = cp.header.iteration;
        if (it === 2) {
          await writeStreamedCheckpoint(dir, cp);
          seen.push("written");
          return;
        }
        const before = Deno.readFileSync(checkpointPath(dir));
        if (it === 4) {
          // the disk fails after the first tensor
          await assert.rejects(
            writeStreamedCheckpoint(dir, cutShort(cp, 1, new Error("injected write failure"))),
            new Error("injected write failure"),
          );
        } else {
          // a tensor left out: refused before the digest is written
          const all = cp.header.tensors.reduce((n, t) => n + t.length, 0) * 4;
          const last = cp.header.tensors.at(-1)!.length * 4;
          await assert.rejects(
            writeStreamedCheckpoint(dir, cutShort(cp, cp.header.tensors.length - 1)),
            new Error(
              `tensor file: ${all - last} bytes of values streamed, the header lays out ${all}`,
            ),
          );
        }
        assert.deepEqual(Deno.readFileSync(checkpointPath(dir)), before, `iteration ${it}`);
        assert.deepEqual(tempFiles(), [], `iteration ${it}: no temp file`);
        seen.push("refused");
      },
    });
    assert.deepEqual(seen, ["written", "refused", "refused"]);
    assert.equal(readCheckpoint(dir)!.header.iteration, 2);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("a run takes onCheckpoint or onCheckpointStream, not both", async () => {
  await assert.rejects(
    runExperiment(shortMnist(2), {
      seed: 5,
      backend: "wasm",
      onCheckpoint: () => Promise.resolve(),
      onCheckpointStream: () => Promise.resolve(),
    }),
    new Error("onCheckpoint and onCheckpointStream: give one of them, not both"),
  );
});
