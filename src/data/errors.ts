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

/** Reads a whole file, turning "not found" into a DataError with a hint. */
export function readFileOrFail(path: string, hint?: string): Uint8Array {
  try {
    return Deno.readFileSync(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new MissingDataError(path, "a file", "nothing there", hint);
    }
    throw new DataError(path, "a readable file", (e as Error).message, hint);
  }
}
