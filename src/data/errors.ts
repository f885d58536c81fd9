/** A data problem: which file, what was expected, what was found, and how to fix it. */
export class DataError extends Error {
  constructor(
    readonly file: string,
    readonly expected: string,
    readonly found: string,
    readonly hint?: string,
  ) {
    super(`${file}: expected ${expected}; found ${found}${hint ? `\n  ${hint}` : ""}`);
    this.name = "DataError";
  }
}

/** The data are not there at all (as opposed to there but wrong). */
export class MissingDataError extends DataError {
  override name = "MissingDataError";
}

/** What a reader reads at most when the format sets no smaller bound. */
export const MAX_DATA_FILE_BYTES = 1024 ** 3;

/**
 * Reads a whole regular file of at most `maxBytes` (checked before reading, so a device, a
 * FIFO or a symlink to a huge sparse file is refused, not read), turning "not found" into
 * a MissingDataError with a hint. With `into` large enough, the bytes are read into it and
 * a view of them returned (valid until `into` is reused), so that files read one after
 * another leave no copy each behind.
 */
export function readFileOrFail(
  path: string,
  hint?: string,
  maxBytes = MAX_DATA_FILE_BYTES,
  into?: Uint8Array,
): Uint8Array {
  try {
    const info = Deno.statSync(path);
    if (!info.isFile) {
      const kind = info.isDirectory ? "a folder" : "a device, FIFO or socket";
      throw new DataError(path, "a regular file", kind);
    }
    if (info.size > maxBytes) {
      throw new DataError(
        path,
        `at most ${maxBytes} bytes (the largest this data set's file can be)`,
        `${info.size} bytes`,
      );
    }
    if (!into || into.length < info.size) return Deno.readFileSync(path);
    using file = Deno.openSync(path);
    let n = 0;
    while (n < info.size) {
      const got = file.readSync(into.subarray(n, info.size));
      if (got === null) break; // it shrank: what it still held
      n += got;
    }
    return into.subarray(0, n);
  } catch (e) {
    if (e instanceof DataError) throw e;
    if (e instanceof Deno.errors.NotFound) {
      throw new MissingDataError(path, "a file", "nothing there", hint);
    }
    throw new DataError(path, "a readable file", (e as Error).message, hint);
  }
}
