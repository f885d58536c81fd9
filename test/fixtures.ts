/**
 * Writers for small fixture files in each real format the loaders read, so the tests
 * exercise the same parsing paths as the real data (and can corrupt them on purpose).
 */
import { deflateSync, gzipSync } from "node:zlib";
import { join } from "node:path";
import { createTar } from "nanotar";
import { encodeIdx, IDX_IMAGES_MAGIC, IDX_LABELS_MAGIC } from "../src/data/formats/idx.ts";
import { encodeCifarBinary, encodeCifarSprite, type RawImages } from "../src/data/formats/cifar.ts";
import { IDX_FILES } from "../src/data/mnist.ts";
import { Rng } from "../src/rng/streams.ts";

export function randomBytes(n: number, seed: number, stream = "fixture"): Uint8Array {
  const d = new Rng(seed).stream(stream).at(0);
  return Uint8Array.from({ length: n }, () => d.nextBelow(256));
}

export function randomLabels(n: number, seed: number, classes = 10): Uint8Array {
  const d = new Rng(seed).stream("labels").at(0);
  return Uint8Array.from({ length: n }, () => d.nextBelow(classes));
}

export interface IdxFixture {
  trainImages: Uint8Array;
  trainLabels: Uint8Array;
  testImages: Uint8Array;
  testLabels: Uint8Array;
}

/** Four MNIST-style IDX files (gzipped when asked) with `train` and `test` images. */
export function writeIdxFixture(
  dir: string,
  train: number,
  test: number,
  gzip = false,
): IdxFixture {
  const fx: IdxFixture = {
    trainImages: randomBytes(train * 784, 1),
    trainLabels: randomLabels(train, 2),
    testImages: randomBytes(test * 784, 3),
    testLabels: randomLabels(test, 4),
  };
  const write = (name: string, bytes: Uint8Array) =>
    Deno.writeFileSync(join(dir, gzip ? `${name}.gz` : name), gzip ? gzipSync(bytes) : bytes);
  write(IDX_FILES.trainImages, encodeIdx(IDX_IMAGES_MAGIC, [train, 28, 28], fx.trainImages));
  write(IDX_FILES.trainLabels, encodeIdx(IDX_LABELS_MAGIC, [train], fx.trainLabels));
  write(IDX_FILES.testImages, encodeIdx(IDX_IMAGES_MAGIC, [test, 28, 28], fx.testImages));
  write(IDX_FILES.testLabels, encodeIdx(IDX_LABELS_MAGIC, [test], fx.testLabels));
  return fx;
}

export function randomCifar(count: number, seed: number): RawImages {
  return {
    pixels: randomBytes(count * 3072, seed),
    labels: randomLabels(count, seed + 100),
    count,
  };
}

/** The same images as binary batches, PNG sprites and a .tar.gz archive. */
export function writeCifarFixture(dir: string, perBatch: number, test: number) {
  const batches = [1, 2, 3, 4, 5].map((i) => randomCifar(perBatch, 10 + i));
  const testBatch = randomCifar(test, 20);
  const bin = join(dir, "cifar-10-batches-bin"), png = join(dir, "png");
  Deno.mkdirSync(bin, { recursive: true });
  Deno.mkdirSync(png, { recursive: true });
  const members: { name: string; data: Uint8Array }[] = [];
  batches.forEach((b, i) => {
    const bytes = encodeCifarBinary(b);
    Deno.writeFileSync(join(bin, `data_batch_${i + 1}.bin`), bytes);
    members.push({ name: `cifar-10-batches-bin/data_batch_${i + 1}.bin`, data: bytes });
    Deno.writeFileSync(join(png, `data_batch_${i + 1}.png`), encodeCifarSprite(b));
  });
  const testBytes = encodeCifarBinary(testBatch);
  Deno.writeFileSync(join(bin, "test_batch.bin"), testBytes);
  members.push({ name: "cifar-10-batches-bin/test_batch.bin", data: testBytes });
  Deno.writeFileSync(join(png, "test_batch.png"), encodeCifarSprite(testBatch));
  const trainLabels = batches.flatMap((b) => [...b.labels]);
  Deno.writeTextFileSync(join(png, "train_lables.json"), JSON.stringify(trainLabels));
  Deno.writeTextFileSync(join(png, "test_lables.json"), JSON.stringify([...testBatch.labels]));
  const archive = join(dir, "cifar-10-binary.tar.gz");
  Deno.writeFileSync(archive, gzipSync(createTar(members)));
  return { bin, png, archive, batches, testBatch };
}

// ---- MAT v5 ----

export interface MatVar {
  name: string;
  /** MATLAB class code: 6 double, 9 uint8, 2 struct (for error tests), ... */
  classCode: number;
  dims: number[];
  /** Column-major values. */
  values: ArrayLike<number>;
  /** Storage type: 2 miUINT8, 9 miDOUBLE. */
  miType: 2 | 9;
}

const pad8 = (n: number) => Math.ceil(n / 8) * 8;

function element(type: number, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(8 + pad8(payload.length));
  const v = new DataView(out.buffer);
  v.setUint32(0, type, true);
  v.setUint32(4, payload.length, true);
  out.set(payload, 8);
  return out;
}

function concatBytes(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function matrixElement(v: MatVar): Uint8Array {
  const flags = new Uint8Array(8);
  new DataView(flags.buffer).setUint32(0, v.classCode, true);
  const dims = new Uint8Array(4 * v.dims.length);
  v.dims.forEach((d, i) => new DataView(dims.buffer).setInt32(4 * i, d, true));
  const data = v.miType === 2
    ? Uint8Array.from(v.values)
    : new Uint8Array(Float64Array.from(v.values).buffer);
  return element(
    14,
    concatBytes([
      element(6, flags),
      element(5, dims),
      element(1, new TextEncoder().encode(v.name)),
      element(v.miType, data),
    ]),
  );
}

/** A little-endian Level 5 MAT-file; with `compress`, each variable is an miCOMPRESSED element. */
export function encodeMat5(vars: MatVar[], compress: boolean): Uint8Array {
  const header = new Uint8Array(128).fill(0x20);
  header.set(new TextEncoder().encode("MATLAB 5.0 MAT-file, written by ganbench tests"));
  header.fill(0, 116, 124);
  header[124] = 0x00;
  header[125] = 0x01;
  header[126] = "I".charCodeAt(0);
  header[127] = "M".charCodeAt(0);
  const body = vars.map((v) => {
    const m = matrixElement(v);
    if (!compress) return m;
    const z = new Uint8Array(deflateSync(m));
    const out = new Uint8Array(8 + z.length);
    new DataView(out.buffer).setUint32(0, 15, true);
    new DataView(out.buffer).setUint32(4, z.length, true);
    out.set(z, 8);
    return out;
  });
  return concatBytes([header, ...body]);
}

/** A TFD-shaped file: n images of s×s, pixel (k, i, j) = (7k + 3i + 5j) mod 256. */
export function tfdFixture(n: number, s: number, foldCodes: number[][]): Uint8Array {
  const images = new Uint8Array(n * s * s);
  for (let k = 0; k < n; k++) {
    for (let i = 0; i < s; i++) {
      for (let j = 0; j < s; j++) images[k + n * (i + s * j)] = (7 * k + 3 * i + 5 * j) % 256;
    }
  }
  const folds = new Float64Array(n * 5);
  for (let k = 0; k < n; k++) for (let f = 0; f < 5; f++) folds[k + n * f] = foldCodes[k][f];
  const labsEx = Float64Array.from(
    { length: n },
    (_, k) => (foldCodes[k][0] === 0 ? -1 : 1 + (k % 7)),
  );
  const labsId = Float64Array.from({ length: n }, (_, k) => k);
  return encodeMat5([
    { name: "images", classCode: 9, dims: [n, s, s], values: images, miType: 2 },
    { name: "folds", classCode: 6, dims: [n, 5], values: folds, miType: 9 },
    { name: "labs_ex", classCode: 6, dims: [n, 1], values: labsEx, miType: 9 },
    { name: "labs_id", classCode: 6, dims: [n, 1], values: labsId, miType: 9 },
  ], true);
}
