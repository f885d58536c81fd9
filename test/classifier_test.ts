/** The harness's own classifier: trains, reaches high accuracy on separable data, and is cached by hash. */
import assert from "node:assert/strict";
import { selectBackend } from "../src/backend/select.ts";
import type { Dataset } from "../src/data/dataset.ts";
import {
  accuracy,
  type ClassifierSpec,
  classify,
  disposeClassifier,
  trainedClassifier,
} from "../src/metrics/classifier.ts";
import { Rng } from "../src/rng/streams.ts";

await selectBackend("wasm");

/** Three classes of 8×8 images: a bright top, middle or bottom band, plus noise. */
function bands(count: number, seed: number) {
  const d = new Rng(seed).stream("bands").at(0);
  const images = new Float32Array(count * 64), labels = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    labels[i] = d.nextBelow(3);
    for (let p = 0; p < 64; p++) {
      const row = Math.floor(p / 8);
      images[i * 64 + p] = (Math.floor(row / 3) === labels[i] ? 0.8 : 0.1) + 0.2 * d.nextFloat24();
    }
  }
  return { images, labels, count };
}

const dataset: Dataset = {
  name: "bands",
  shape: [1, 8, 8],
  dim: 64,
  scale: "[0,1]",
  splits: { train: bands(300, 1), valid: bands(30, 2), test: bands(100, 3) },
  source: "generated",
  files: [{ path: "generated", bytes: 0, sha256: "0".repeat(64) }],
};

const spec: ClassifierSpec = {
  layers: [
    { type: "reshape", shape: [1, 8, 8] },
    { type: "conv-maxout", channels: 4, pieces: 2, kernel: 3, pad: 1, pool: 2, poolStride: 2 },
    { type: "maxout", units: 8, pieces: 2 },
    { type: "dense", units: 3, activation: "linear" },
  ],
  featureLayers: 3,
  epochs: 3,
  batchSize: 20,
  optimizer: { kind: "adam", lr: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 },
  seed: 7,
};

Deno.test("classifier: learns separable data, reports features, and is reused from its cache", async () => {
  const cacheDir = Deno.makeTempDirSync();
  const first = await trainedClassifier(dataset, spec, { cacheDir });
  assert.equal(first.cached, false);
  assert.ok(first.testAccuracy >= 0.95, `accuracy ${first.testAccuracy}`);
  const { probs, features, featureDim } = await classify(first, dataset.splits.test.images, 64);
  assert.equal(featureDim, 8);
  assert.equal(features.length, 100 * 8);
  for (let i = 0; i < 100; i++) {
    const row = probs.subarray(i * 3, i * 3 + 3);
    assert.ok(Math.abs(row[0] + row[1] + row[2] - 1) < 1e-5);
  }
  const second = await trainedClassifier(dataset, spec, { cacheDir });
  assert.equal(second.cached, true);
  assert.equal(second.key, first.key);
  assert.equal(second.testAccuracy, first.testAccuracy);
  assert.equal(
    await accuracy(second, dataset.splits.test.images, dataset.splits.test.labels!, 64),
    first.testAccuracy,
  );
  // another setting is another cache entry
  const other = await trainedClassifier(dataset, { ...spec, epochs: 1 }, { cacheDir });
  assert.equal(other.cached, false);
  assert.notEqual(other.key, first.key);
  for (const c of [first, second, other]) disposeClassifier(c);
  Deno.removeSync(cacheDir, { recursive: true });
});
