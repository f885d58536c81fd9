/**
 * An exclusive OS lock (flock) on a lock file. The holder removes the file before it lets
 * go, so that a folder is left as it was; whoever opened the file just before it vanished
 * finds that the path names another file now (or none) and tries again, so two processes
 * never both believe they hold the lock.
 */

export type LockAttempt =
  | { held: true; file: Deno.FsFile }
  /** Another process holds it; `file` is open on its lock file (to read who), to be closed. */
  | { held: false; file: Deno.FsFile };

/** Locks `path` (created if absent); `wait` false: returns at once when another holds it. */
export async function acquireLock(path: string, wait: boolean): Promise<LockAttempt> {
  for (;;) {
    const file = await Deno.open(path, { read: true, write: true, create: true });
    if (wait) await file.lock(true);
    else if (!(await file.tryLock(true))) return { held: false, file };
    const [held, there] = [await file.stat(), statOrNull(path)];
    if (there && held.ino === there.ino && held.dev === there.dev) return { held: true, file };
    file.close();
  }
}

/** Removes the lock file, still locked, then lets go of it. */
export async function releaseLock(path: string, file: Deno.FsFile): Promise<void> {
  await Deno.remove(path).catch(() => {});
  file.close();
}

/** `fn` while holding the lock on `path`, waiting for it as long as another holds it. */
export async function withLock<T>(path: string, fn: () => Promise<T>): Promise<T> {
  const { file } = await acquireLock(path, true);
  try {
    return await fn();
  } finally {
    await releaseLock(path, file);
  }
}

function statOrNull(path: string): Deno.FileInfo | null {
  try {
    return Deno.statSync(path);
  } catch {
    return null;
  }
}
