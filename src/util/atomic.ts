/** Writes that never leave a half-written file: temp file in the same folder, fsync, rename. */
import { dirname } from "node:path";

/** `data` written to `path` atomically; parts (a list) are written one after another. */
export function writeFileAtomic(
  path: string,
  data: string | Uint8Array | Uint8Array[],
): Promise<void> {
  const parts = typeof data === "string"
    ? [new TextEncoder().encode(data)]
    : Array.isArray(data)
    ? data
    : [data];
  return throughTemp(path, async (file) => {
    for (const bytes of parts) {
      let written = 0;
      while (written < bytes.length) written += await file.write(bytes.subarray(written));
    }
  });
}

/**
 * What `fill` hands its `write` written to `path` atomically: when `fill` throws, nothing
 * replaces `path`. Each write completes before `write` returns (synchronously), so `fill` may
 * pass views that are valid only for the call.
 */
export function writeFileAtomicStream(
  path: string,
  fill: (write: (bytes: Uint8Array) => void) => Promise<void>,
): Promise<void> {
  return throughTemp(path, (file) =>
    fill((bytes) => {
      let written = 0;
      while (written < bytes.length) written += file.writeSync(bytes.subarray(written));
    }));
}

/** `fill` writes a temp file beside `path`, which then replaces `path`; removed on failure. */
async function throughTemp(
  path: string,
  fill: (file: Deno.FsFile) => Promise<void>,
): Promise<void> {
  await Deno.mkdir(dirname(path), { recursive: true });
  const temp = `${path}.${Deno.pid}.${crypto.randomUUID().slice(0, 8)}.tmp`;
  try {
    const file = await Deno.open(temp, { write: true, create: true, truncate: true });
    try {
      await fill(file);
      await file.sync();
    } finally {
      file.close();
    }
    await Deno.rename(temp, path);
  } catch (e) {
    await Deno.remove(temp).catch(() => {});
    throw e;
  }
}
