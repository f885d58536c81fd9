/** Writes that never leave a half-written file: temp file in the same folder, fsync, rename. */
import { dirname } from "node:path";

/** `data` written to `path` atomically; parts (a list) are written one after another. */
export async function writeFileAtomic(
  path: string,
  data: string | Uint8Array | Uint8Array[],
): Promise<void> {
  await Deno.mkdir(dirname(path), { recursive: true });
  const temp = `${path}.${Deno.pid}.${crypto.randomUUID().slice(0, 8)}.tmp`;
  const parts = typeof data === "string"
    ? [new TextEncoder().encode(data)]
    : Array.isArray(data)
    ? data
    : [data];
  try {
    const file = await Deno.open(temp, { write: true, create: true, truncate: true });
    try {
      for (const bytes of parts) {
        let written = 0;
        while (written < bytes.length) written += await file.write(bytes.subarray(written));
      }
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
