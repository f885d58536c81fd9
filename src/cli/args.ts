/**
 * The command-line conventions every ganbench command shares, over node:util's parseArgs:
 * `-h`/`--help` prints the command's usage (exit 0), `--version` the version in deno.json
 * (exit 0), and a bad flag or argument is one line naming it, with the nearest valid flag,
 * and a pointer to --help (exit 2) — never parseArgs's own text or the whole usage.
 */
import { parseArgs, type ParseArgsOptionsConfig } from "node:util";
import denoJson from "../../deno.json" with { type: "json" };
import { nearest } from "../util/nearest.ts";
import { EXIT, isExpected, reportError, setDebug } from "./exit.ts";

export const VERSION: string = denoJson.version;

/** Exit codes every command shares; each command's --help lists its own as well. */
export const EXIT_USAGE = EXIT.usage;

/** A bad flag, value or argument: its message is one line, printed after "error: ". */
export class UsageError extends Error {}

interface StringOption {
  type: "string";
  short?: string;
  multiple?: boolean;
  default?: string | readonly string[];
}
interface BooleanOption {
  type: "boolean";
  short?: string;
  default?: boolean;
}
export type OptionSpec = StringOption | BooleanOption;

type Value<O extends OptionSpec> = O extends { type: "boolean" } ? boolean
  : O extends { multiple: true } ? string[]
  : string;
/** Options with a default are always present; the others may be undefined. */
export type Values<O extends Record<string, OptionSpec>> =
  & { [K in keyof O as O[K] extends { default: unknown } ? K : never]: Value<O[K]> }
  & { [K in keyof O as O[K] extends { default: unknown } ? never : K]?: Value<O[K]> };

export interface CommandSpec<O extends Record<string, OptionSpec>> {
  /** The task's name, e.g. "bench", or a script's path (see invocation). */
  name: string;
  /** The full --help text. */
  usage: string;
  options: O;
  /** How many positional arguments it takes, and what they are called in messages. */
  positionals?: { max: number; what: string };
}

export interface Parsed<O extends Record<string, OptionSpec>> {
  values: Values<O>;
  positionals: string[];
  /** parseArgs's tokens: where each flag stood in the arguments (e.g. to drop some of them). */
  tokens: Token[];
}

/** One parsed argument: an option (with its index in args) or a positional. */
export interface Token {
  kind: string;
  index: number;
  name?: string;
  value?: string;
  inlineValue?: boolean;
}

const SHARED = {
  help: { type: "boolean", short: "h" },
  version: { type: "boolean" },
  debug: { type: "boolean" },
} as const satisfies Record<string, OptionSpec>;

/**
 * Parses `args` for `spec`. Returns null when --help or --version was asked for and answered
 * (the command then exits 0); throws UsageError for anything it cannot take.
 */
export function parseCommand<const O extends Record<string, OptionSpec>>(
  spec: CommandSpec<O>,
  args: string[],
): Parsed<O> | null {
  const options: Record<string, OptionSpec> = { ...spec.options, ...SHARED };
  const { values, positionals, tokens } = parseArgs({
    args,
    // parseArgs wants mutable defaults; it never changes them
    options: options as ParseArgsOptionsConfig,
    allowPositionals: true,
    strict: false,
    tokens: true,
  });
  const flags = tokens!.filter((t) => t.kind === "option");
  setDebug(flags.some((t) => t.name === "debug"));
  if (flags.some((t) => t.name === "help")) {
    console.log(spec.usage.trimEnd());
    return null;
  }
  if (flags.some((t) => t.name === "version")) {
    console.log(`ganbench ${VERSION}`);
    return null;
  }
  for (const t of flags) {
    const option = options[t.name];
    if (!option) {
      const long = Object.keys(options).map((n) => `--${n}`);
      const near = nearest(t.rawName, long);
      throw new UsageError(
        `unknown flag ${t.rawName}${near ? ` (did you mean ${near}?)` : ""}`,
      );
    }
    if (option.type === "string" && t.value === undefined) {
      throw new UsageError(`${t.rawName} needs a value`);
    }
    if (option.type === "boolean" && t.value !== undefined) {
      throw new UsageError(`${t.rawName} takes no value (found "${t.value}")`);
    }
  }
  const max = spec.positionals?.max ?? 0;
  if (positionals.length > max) {
    const extra = positionals[max];
    throw new UsageError(
      max === 0
        ? `unexpected argument "${extra}" (this command takes flags only)`
        : `unexpected argument "${extra}": at most ${max} ${spec.positionals!.what}`,
    );
  }
  return { values: { ...values } as Values<O>, positionals, tokens: tokens as Token[] };
}

/**
 * `take()` at a script's top level, as runMain runs a command's main: a UsageError exits 2 with
 * the shared two lines, another expected error (a bad config, missing data) with its one line
 * and exit code; a defect still throws.
 */
export function orExit<T>(name: string, take: () => T): T {
  try {
    return take();
  } catch (e) {
    if (e instanceof UsageError) Deno.exit(usageFailure(name, e));
    if (isExpected(e)) Deno.exit(reportError(e));
    throw e;
  }
}

/** parseCommand at a script's top level: exits 0 once --help or --version is answered. */
export function parseOrExit<const O extends Record<string, OptionSpec>>(
  spec: CommandSpec<O>,
  args: string[],
): Parsed<O> {
  return orExit(spec.name, () => parseCommand(spec, args) ?? Deno.exit(0));
}

/** `text` when it is one of `choices`, else a UsageError naming what was found and them. */
export function oneOf<const C extends readonly string[]>(
  what: string,
  text: string | undefined,
  choices: C,
): C[number] {
  if (text !== undefined && choices.includes(text)) return text;
  const found = text === undefined ? "nothing" : `"${text}"`;
  throw new UsageError(`${what}: found ${found}; expected one of ${choices.join(", ")}`);
}

/** A flag's or argument's value as a whole number ≥ 1 (`what` names it in the message). */
export function positiveInteger(what: string, text: string): number {
  if (!/^\d+$/.test(text) || Number(text) < 1 || !Number.isSafeInteger(Number(text))) {
    throw new UsageError(`${what}: found "${text}"; expected an integer ≥ 1`);
  }
  return Number(text);
}

/** A flag's or argument's value as a whole number ≥ 0 (a seed, for one). */
export function nonNegativeInteger(what: string, text: string): number {
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(Number(text))) {
    throw new UsageError(`${what}: found "${text}"; expected a non-negative integer`);
  }
  return Number(text);
}

/**
 * How a user runs a command, for messages: a task's name ("bench") is run as `deno task bench`;
 * a script without a task of its own is named by its path ("benchmarks/mixtures_table.ts").
 */
export function invocation(name: string): string {
  return name.endsWith(".ts") ? `deno run -A ${name}` : `deno task ${name}`;
}

/** Prints a usage error as the shared two lines and returns its exit code (2). */
export function usageFailure(name: string, e: UsageError): number {
  console.error(`error: ${e.message}`);
  console.error(`run "${invocation(name)} --help" for usage`);
  return EXIT_USAGE;
}

/**
 * Runs a command's main, turning a UsageError thrown anywhere in it into the usage exit and
 * any other error into its one line and documented exit code (cli/exit.ts; the stack trace
 * with --debug).
 */
export async function runCommand(
  name: string,
  main: () => number | null | Promise<number | null>,
): Promise<number | null> {
  try {
    return await main();
  } catch (e) {
    if (e instanceof UsageError) return usageFailure(name, e);
    return reportError(e);
  }
}

/** A command's `if (import.meta.main)`: runs it and exits with its code (null: keep running). */
export async function runMain(
  name: string,
  main: () => number | null | Promise<number | null>,
): Promise<void> {
  const code = await runCommand(name, main);
  if (code !== null) Deno.exit(code);
}
