/**
 * Opt-in downloads (never silent): fetch a file, verify its SHA-256, then cache it with an
 * atomic write. A file that fails verification is never cached. Needs --allow-net.
 */
import { join } from "node:path";
import { writeFileAtomic } from "../util/atomic.ts";
import { type FileRecord, sha256Hex, verify } from "./checksum.ts";
import { DataError } from "./errors.ts";
import { defaultCacheDir } from "./cache.ts";
import { CIFAR_ARCHIVE_NAME, CIFAR_ARCHIVE_SHA256, CIFAR_ARCHIVE_URL } from "./cifar10.ts";
import { IDX_FILES, MNIST_SHA256 } from "./mnist.ts";

/** The MNIST mirror TensorFlow Datasets uses (the original site often refuses scripts). */
export const MNIST_BASE_URL = "https://storage.googleapis.com/cvdf-datasets/mnist/";

export { defaultCacheDir };

/** Returns the cached file when its hash matches; otherwise downloads, verifies, caches. */
export async function fetchVerified(
  url: string,
  dest: string,
  sha256: string,
): Promise<FileRecord> {
  try {
    const cached = await Deno.readFile(dest);
    if (sha256Hex(cached) === sha256) return { path: dest, bytes: cached.length, sha256 };
  } catch { /* not cached yet */ }
  let response: Response;
  try {
    response = await fetch(url);
  } catch (e) {
    throw new DataError(url, "a reachable URL", `a network error (${(e as Error).message})`);
  }
  if (!response.ok) {
    await response.body?.cancel();
    throw new DataError(url, "HTTP 200", `HTTP ${response.status} ${response.statusText}`);
  }
  const bytes = new Uint8Array(await response.arrayBuffer());
  const record = verify(url, bytes, sha256);
  await writeFileAtomic(dest, bytes);
  return { ...record, path: dest };
}

/** Downloads the four gzipped MNIST files into `<cacheDir>/mnist` and returns that folder. */
export async function fetchMnist(
  cacheDir = defaultCacheDir(),
  baseUrl = MNIST_BASE_URL,
  known: Record<string, string> = MNIST_SHA256,
): Promise<string> {
  const dir = join(cacheDir, "mnist");
  for (const base of Object.values(IDX_FILES)) {
    const name = `${base}.gz`;
    await fetchVerified(new URL(name, baseUrl).href, join(dir, name), known[name]);
  }
  return dir;
}

/** Downloads the official CIFAR-10 archive into `<cacheDir>/cifar10` and returns its path. */
export async function fetchCifar10(
  cacheDir = defaultCacheDir(),
  url = CIFAR_ARCHIVE_URL,
  sha256 = CIFAR_ARCHIVE_SHA256,
): Promise<string> {
  const dest = join(cacheDir, "cifar10", CIFAR_ARCHIVE_NAME);
  await fetchVerified(url, dest, sha256);
  return dest;
}
