/**
 * What keeps a run folder whole while a run starts in it:
 *  - an exclusive OS lock (`.lock` in the folder): a second bench on the same folder is
 *    refused at once, with the holder named;
 *  - a fresh run moves the earlier run's files aside (`seed-<N>.previous`, a sibling) only
 *    when it first writes, i.e. after its data were read and its models built; if it fails
 *    before its first checkpoint they are moved back; after it, an earlier *completed* run
 *    is kept as `seed-<N>.superseded-<UTC time>`, anything else is deleted;
 *  - temp files of writes a crash interrupted are removed when a run claims the folder.
 * A process killed between these steps is recovered by the next claim of the folder.
 */
import { join, relative, resolve, sep } from "node:path";
import { acquireLock, releaseLock } from "../util/lock-file.ts";

export const LOCK_FILE = ".lock";

/** Another process holds the run folder. */
export class RunFolderBusyError extends Error {
  override name = "RunFolderBusyError";
}

/** An experiment name that is no folder name, or would put a run folder outside --out. */
export class RunNameError extends Error {
  override name = "RunNameError";
}

const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** `<out>/<experiment>/seed-<seed>`, refused unless it stays inside `out`. */
export function runFolderInside(out: string, experiment: string, seed: number): string {
  if (!SAFE_NAME.test(experiment) || experiment.includes("..")) {
    throw new RunNameError(
      `experiment name ${JSON.stringify(experiment)} is not a plain folder name ` +
        "(allowed: letters, digits, '.', '_', '-', starting with a letter or digit; no '..')",
    );
  }
  const dir = join(out, experiment, `seed-${seed}`);
  const inside = relative(resolve(out), resolve(dir));
  if (inside.startsWith("..") || inside.startsWith(sep)) {
    throw new RunNameError(`${dir} is outside --out ${out}`);
  }
  return dir;
}

/** Refuses an --out that exists and is not a folder (before any run tries to write in it). */
export function assertOutFolder(out: string): void {
  const info = statOrNull(out);
  if (info && !info.isDirectory) {
    throw new Deno.errors.NotADirectory(`--out ${out} is a file, not a folder`);
  }
}

/** Temp files of writeFileAtomic (src/util/atomic.ts): `<name>.<pid>.<8 hex>.tmp`. */
const TEMP_FILE = /\.\d+\.[0-9a-f]{8}\.tmp$/;

/** The earlier run's files while a fresh run starts. */
export const previousPath = (dir: string) => `${dir}.previous`;

/** Where a completed run that a later one replaced is kept. */
export function supersededPath(dir: string, at: Date): string {
  return `${dir}.superseded-${at.toISOString().replace(/[-:]|\.\d+/g, "")}`;
}

interface Holder {
  pid: number;
  hostname: string;
  since: string;
}

/**
 * Refuses at once when another process holds `dir` (the same check claim makes; for a
 * parent that hands the runs to workers).
 */
export async function assertFree(dir: string): Promise<void> {
  if (!exists(dir)) return;
  const guard = await RunGuard.claim(dir, { probe: true });
  await guard.release();
}

export class RunGuard {
  #previousCompleted = false;
  #setAside = false;
  #started = false;

  private constructor(
    readonly dir: string,
    private lock: Deno.FsFile,
    private fresh: boolean,
  ) {}

  /**
   * Locks `dir` (created if absent), recovers what a killed earlier start left, and removes
   * stale temp files. Throws RunFolderBusyError when another process holds it.
   */
  static async claim(
    dir: string,
    options: { fresh?: boolean; probe?: boolean } = {},
  ): Promise<RunGuard> {
    await Deno.mkdir(dir, { recursive: true });
    const attempt = await acquireLock(join(dir, LOCK_FILE), false);
    if (!attempt.held) {
      const holder = readHolder(attempt.file);
      attempt.file.close();
      throw new RunFolderBusyError(
        `${dir} is in use by another run (${
          holder
            ? `pid ${holder.pid} on ${holder.hostname}, since ${holder.since}`
            : "its holder did not say who it is"
        }); wait for it to end, or use another --out`,
      );
    }
    if (!options.probe) writeHolder(attempt.file);
    const guard = new RunGuard(dir, attempt.file, options.fresh ?? false);
    if (!options.probe) {
      await guard.#recover();
      await removeTempFiles(dir);
    }
    return guard;
  }

  /** A fresh run is about to write its first file: the earlier run's files go aside. */
  async beforeWrite(): Promise<void> {
    if (!this.fresh || this.#setAside) return;
    this.#setAside = true;
    const names = entries(this.dir);
    if (!names.length) return;
    this.#previousCompleted = isCompletedResult(this.dir);
    const aside = previousPath(this.dir);
    await Deno.mkdir(aside);
    for (const name of names) await Deno.rename(join(this.dir, name), join(aside, name));
  }

  /** The run wrote its first checkpoint: it owns the folder now. */
  async started(): Promise<void> {
    if (this.#started) return;
    this.#started = true;
    await this.#settlePrevious(this.#previousCompleted);
  }

  /**
   * The run ended without a checkpoint of its own (it failed or was interrupted first):
   * the earlier run's files come back. Returns whether there were any.
   */
  async failed(): Promise<boolean> {
    if (!this.fresh || this.#started || !this.#setAside) return false;
    return await this.#restore();
  }

  /** Whether the folder holds a checkpoint or a result (a run worth keeping). */
  holdsRun(): boolean {
    return exists(join(this.dir, "result.json")) ||
      exists(join(this.dir, "checkpoints", "latest.ckpt"));
  }

  async release(): Promise<void> {
    await releaseLock(join(this.dir, LOCK_FILE), this.lock);
  }

  /** After a kill: a previous run set aside and not settled is restored or settled now. */
  async #recover(): Promise<void> {
    const aside = previousPath(this.dir);
    if (!exists(aside)) return;
    if (exists(join(this.dir, "checkpoints", "latest.ckpt"))) {
      await this.#settlePrevious(isCompletedResult(aside));
    } else {
      await this.#restore();
      console.error(
        `note: ${this.dir}: restored the earlier run's files (a start that replaced them ` +
          "stopped before its first checkpoint)",
      );
    }
  }

  async #restore(): Promise<boolean> {
    const aside = previousPath(this.dir);
    if (!exists(aside)) return false;
    for (const name of entries(this.dir)) {
      await Deno.remove(join(this.dir, name), { recursive: true });
    }
    for (const name of entries(aside)) await Deno.rename(join(aside, name), join(this.dir, name));
    await Deno.remove(aside);
    return true;
  }

  async #settlePrevious(completed: boolean): Promise<void> {
    const aside = previousPath(this.dir);
    if (!exists(aside)) return;
    if (completed) {
      const kept = supersededPath(this.dir, new Date());
      await Deno.rename(aside, kept);
      console.error(`note: the earlier completed run of ${this.dir} is kept in ${kept}`);
    } else {
      await Deno.remove(aside, { recursive: true });
    }
  }
}

/** The folder's entries but the lock. */
function entries(dir: string): string[] {
  return [...Deno.readDirSync(dir)].map((e) => e.name).filter((n) => n !== LOCK_FILE);
}

function isCompletedResult(dir: string): boolean {
  try {
    return JSON.parse(Deno.readTextFileSync(join(dir, "result.json"))).status === "completed";
  } catch {
    return false;
  }
}

async function removeTempFiles(dir: string): Promise<void> {
  for (const entry of Deno.readDirSync(dir)) {
    const path = join(dir, entry.name);
    if (entry.isDirectory) await removeTempFiles(path);
    else if (entry.isFile && TEMP_FILE.test(entry.name)) await Deno.remove(path);
  }
}

function writeHolder(file: Deno.FsFile): void {
  const holder: Holder = {
    pid: Deno.pid,
    hostname: hostname(),
    since: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
  };
  const bytes = new TextEncoder().encode(JSON.stringify(holder) + "\n");
  file.truncateSync(0);
  file.seekSync(0, Deno.SeekMode.Start);
  file.writeSync(bytes);
}

function readHolder(file: Deno.FsFile): Holder | null {
  try {
    const buffer = new Uint8Array(1024);
    const n = file.readSync(buffer) ?? 0;
    const holder = JSON.parse(new TextDecoder().decode(buffer.subarray(0, n)));
    return Number.isInteger(holder.pid) ? holder : null;
  } catch {
    return null;
  }
}

function hostname(): string {
  try {
    return Deno.hostname();
  } catch {
    return "this machine";
  }
}

function exists(path: string): boolean {
  return statOrNull(path) !== null;
}

function statOrNull(path: string): Deno.FileInfo | null {
  try {
    return Deno.statSync(path);
  } catch {
    return null;
  }
}
