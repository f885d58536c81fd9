/**
 * `"extends": "mnist-mlp"`: a config that starts from another and gives only what it changes.
 * The parent is read (and its own parent, and so on; a cycle is refused), then the child is
 * merged over it: objects merge key by key, arrays and every other value replace. The merge
 * happens before validation (an object naming another "kind" or "type" replaces rather than
 * merges), and each value remembers the file it came from, so an error
 * names the file that holds the faulty value. A parent's stability bands are inherited only
 * where marked `"variants": true` (a band measured for one config says nothing about another
 * unless its author says it does).
 */
import { dirname, resolve } from "node:path";
import { nearest } from "../util/nearest.ts";
import { ConfigError, describeValue } from "./errors.ts";

function nearMiss(word: string, names: string[]): string {
  const near = nearest(word, names);
  return near ? ` (did you mean "${near}"?)` : "";
}

export interface Layered {
  /** The merged config, "$schema" and "extends" removed. */
  data: unknown;
  /** The file that gave the value at a JSON path (the deepest file that set it). */
  originOf: (path: readonly PropertyKey[]) => string;
  /** The files extended, nearest first. */
  parents: string[];
  /** Bands of the parents not inherited (not marked "variants": true). */
  bandsNotInherited: number;
}

export interface ReadOptions {
  /** Reads and parses one file (errors name it). */
  readJson: (file: string) => unknown;
  /** A config name (no ".json", no "/") → its file under configs/. */
  namedConfig: (name: string) => string;
  /** The names `namedConfig` knows, for "did you mean". */
  knownNames: () => string[];
}

export function readLayered(file: string, options: ReadOptions, chain: string[] = []): Layered {
  const raw = options.readJson(file);
  if (!isObject(raw)) return { data: raw, originOf: () => file, parents: [], bandsNotInherited: 0 };
  const { $schema: _schema, extends: parentRef, ...own } = raw;
  if (parentRef === undefined) {
    return { data: own, originOf: () => file, parents: [], bandsNotInherited: 0 };
  }
  if (typeof parentRef !== "string" || parentRef.length === 0) {
    throw new ConfigError(file, [{
      path: "$.extends",
      found: describeValue(parentRef),
      allowed: "expected a config name under configs/ or a path to a .json file",
    }]);
  }
  const parentFile = parentRef.endsWith(".json") || parentRef.includes("/")
    ? resolve(dirname(file), parentRef)
    : options.namedConfig(parentRef);
  const here = [...chain, resolve(file)];
  if (here.includes(resolve(parentFile))) {
    throw new ConfigError(file, [{
      path: "$.extends",
      found: `a cycle: ${[...here, resolve(parentFile)].join(" → ")}`,
      allowed: "a config may not extend itself, directly or through others",
    }], "invalid config");
  }
  let parent: Layered;
  try {
    parent = readLayered(parentFile, options, here);
  } catch (e) {
    if (e instanceof ConfigError && e.file === parentFile && e.message.includes("cannot read")) {
      throw new ConfigError(file, [{
        path: "$.extends",
        found: `"${parentRef}", which is not a readable config (${parentFile})${
          nearMiss(parentRef, options.knownNames())
        }`,
        allowed: `expected one of ${options.knownNames().join(", ")}, or a path to a .json file`,
      }], "invalid config");
    }
    throw e;
  }
  const { data: inherited, dropped } = variantBands(parent.data);
  return {
    data: merge(inherited, own),
    originOf: (path) => setsPath(own, path) ? file : parent.originOf(path),
    parents: [parentFile, ...parent.parents],
    bandsNotInherited: parent.bandsNotInherited + dropped,
  };
}

/** The parent with only its bands marked "variants": true, and how many others it had. */
function variantBands(data: unknown): { data: unknown; dropped: number } {
  if (!isObject(data) || !isObject(data.expect)) return { data, dropped: 0 };
  let dropped = 0;
  const expect: Record<string, unknown> = {};
  for (const [profile, bands] of Object.entries(data.expect)) {
    if (!Array.isArray(bands)) {
      expect[profile] = bands; // validation reports it
      continue;
    }
    const kept = bands.filter((b) => isObject(b) && b.variants === true);
    dropped += bands.length - kept.length;
    expect[profile] = kept;
  }
  return { data: { ...data, expect }, dropped };
}

/**
 * Objects merge key by key; anything else in `over` replaces what `under` has. An object that
 * names another "kind" or "type" (another option of a union, e.g. another initialiser)
 * replaces too: the old option's fields would not belong to the new one.
 */
export function merge(under: unknown, over: unknown): unknown {
  if (!isObject(under) || !isObject(over)) return structuredClone(over);
  for (const tag of ["kind", "type"]) {
    if (tag in over && over[tag] !== under[tag]) return structuredClone(over);
  }
  const out: Record<string, unknown> = structuredClone(under);
  for (const [k, v] of Object.entries(over)) {
    out[k] = k in out ? merge(out[k], v) : structuredClone(v);
  }
  return out;
}

/** Whether `own` gives the value at `path` (itself, or a non-object above it that replaced). */
function setsPath(own: unknown, path: readonly PropertyKey[]): boolean {
  let node: unknown = own;
  for (const key of path) {
    if (!isObject(node)) return true; // own replaced everything below here
    if (!(String(key) in node)) return false;
    node = node[String(key)];
  }
  return true;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}
