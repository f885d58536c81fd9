/**
 * The files that every bench on one --out writes in common (suite.json, index.html): two
 * processes there at once (different experiments, or shards merged while others run) must
 * not lose each other's entries. Each read-modify-write of them holds an exclusive OS lock
 * on `<out>/.shared.lock`, waiting while another process holds it (briefly: one scan and
 * one write), and writes atomically (src/util/atomic.ts).
 */
import { join } from "node:path";
import { withLock } from "../util/lock-file.ts";

export const SHARED_LOCK_FILE = ".shared.lock";

/** `fn` (a read-modify-write of `out`'s shared files) while no other process does one. */
export async function withSharedFiles<T>(out: string, fn: () => Promise<T>): Promise<T> {
  await Deno.mkdir(out, { recursive: true });
  return await withLock(join(out, SHARED_LOCK_FILE), fn);
}
