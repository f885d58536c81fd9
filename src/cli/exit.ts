/**
 * The exit codes of every ganbench command (bench, verify, report, diff, serve, data, merge),
 * and how an error reaches the user: one line `error: …`, with the stack trace only under
 * `--debug` or GANBENCH_DEBUG=1. docs/exit-codes.md lists them for users.
 */

export const EXIT = {
  /** Everything asked for was done (skipped runs included: their data are not public). */
  ok: 0,
  /** A run failed, a stability band was missed (--check), verify found a difference. */
  failed: 1,
  /** A bad flag, config or config name, or a config too big for the memory allowed. */
  usage: 2,
  /** Data or files: data missing or corrupt, a corrupt checkpoint, a path that cannot be
   * read or written (not found, read-only, disk full, not a folder), a run folder in use. */
  io: 3,
  /** Stopped by Ctrl-C or SIGTERM (a checkpoint is saved where a run had started). */
  interrupted: 130,
} as const;

/** Errors the user can fix by changing what they asked for (by class name). */
const USAGE_ERRORS = new Set([
  "ConfigError",
  "UsageError",
  "RunNameError",
  "ModelShapeError",
  "ResourceError",
  "TrainStepChoiceError",
]);
/** Errors of data, checkpoints and the run folder (by class name). */
const IO_ERRORS = new Set([
  "DataError",
  "MissingDataError",
  "CheckpointError",
  "RunFolderBusyError",
]);

/** An error the user is expected to meet (bad input or environment), not a defect. */
export function isExpected(e: unknown): boolean {
  return e instanceof Error && (USAGE_ERRORS.has(e.name) || IO_ERRORS.has(e.name) || isOsError(e));
}

/** The exit code an error ends a command with. */
export function exitCodeOf(e: unknown): number {
  if (!(e instanceof Error)) return EXIT.failed;
  if (USAGE_ERRORS.has(e.name)) return EXIT.usage;
  if (IO_ERRORS.has(e.name) || isOsError(e)) return EXIT.io;
  return EXIT.failed;
}

/** A file system or operating system error (Deno gives them an errno `code`, e.g. ENOSPC). */
function isOsError(e: Error): boolean {
  const code = (e as { code?: unknown }).code;
  if (typeof code === "string" && /^E[A-Z0-9]+$/.test(code)) return true;
  const { errors } = Deno;
  return [
    errors.NotFound,
    errors.PermissionDenied,
    errors.AlreadyExists,
    errors.NotADirectory,
    errors.IsADirectory,
    errors.FilesystemLoop,
    errors.WriteZero,
    errors.UnexpectedEof,
    errors.NotCapable,
  ].some((kind) => e instanceof kind);
}

/**
 * The error as the one line the user sees (without "error: "). A config error with several
 * problems keeps one indented line per problem: each names its JSON path.
 */
export function errorLine(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  const issues = (e as { issues?: unknown[] }).issues;
  if (e.name === "ConfigError" && Array.isArray(issues) && issues.length > 1) return e.message;
  const text = e.message.split("\n").map((l) => l.trim()).filter(Boolean).join("; ");
  const line = isExpected(e) ? text : `internal error: ${text} (--debug shows where)`;
  return line.length > 2000 ? `${line.slice(0, 2000)}…` : line;
}

/** Whether stack traces were asked for: --debug (see cli/args.ts) or GANBENCH_DEBUG=1. */
export function debugRequested(): boolean {
  if (debugFlag) return true;
  // asked first, so a command without --allow-env neither fails nor prompts here
  const env = { name: "env", variable: "GANBENCH_DEBUG" } as const;
  return Deno.permissions.querySync(env).state === "granted" &&
    Deno.env.get("GANBENCH_DEBUG") === "1";
}

let debugFlag = false;

/** Prints `error: …` (and the stack when debugging) and returns the exit code. */
export function reportError(e: unknown, prefix = ""): number {
  console.error(`error: ${prefix}${errorLine(e)}`);
  if (debugRequested() && e instanceof Error && e.stack) console.error(e.stack);
  return exitCodeOf(e);
}

/** Turns stack traces on for this process (the shared `--debug` flag, see cli/args.ts). */
export function setDebug(on: boolean): void {
  debugFlag = on;
}
