/**
 * Reads an experiment config (a name under configs/ or a path), applies a profile and
 * `--set` overrides, validates the result and returns it with its hash. Every failure is a
 * ConfigError naming the file, the JSON path, what was found and what is allowed.
 */
import { createHash } from "node:crypto";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { z } from "zod";
import { nearest } from "../util/nearest.ts";
import { ConfigError, type ConfigIssue, describeValue, jsonPath } from "./errors.ts";
import { type Layered, readLayered } from "./extends.ts";
import { type BandConfig, type CostConfig, ExperimentConfig } from "./schema.ts";
import { jsonProblem } from "./json-guard.ts";

export const CONFIG_DIR = resolve(dirname(fileURLToPath(import.meta.url)), "../../configs");

export interface ResolvedConfig {
  /** The experiment's name: the config file's stem. */
  experiment: string;
  file: string;
  profile: string;
  /**
   * Fully resolved: defaults filled in, profile and overrides applied; what is about the
   * run rather than the training (`profiles`, `expect`, `suite`, `cost`) removed, so the
   * hash and a resume do not depend on it.
   */
  config: Omit<ExperimentConfig, RunMetadata>;
  /** SHA-256 of the canonical JSON of `config`. */
  configHash: string;
  /** The stability bands declared for this profile. */
  expect: BandConfig[];
  /** Part of the default suite (paper and smoke). */
  inSuite: boolean;
  /** The named suites it belongs to (config `suite` as a list), each one of its profiles. */
  suites: string[];
  cost?: CostConfig;
  /** The configs this one extends, nearest first (empty: it extends none). */
  parents: string[];
  /** Stability bands of those parents not inherited (not marked "variants": true). */
  bandsNotInherited: number;
  /** --set changed more than the budget: not the config as written. */
  variant: boolean;
  /**
   * The run folder's name below --out: the experiment, or for a variant
   * `<experiment>+<first 8 hex of the budget-free config hash>`.
   */
  folder: string;
}

type RunMetadata = "profiles" | "expect" | "suite" | "cost";

export interface LoadOptions {
  /** `path=value` strings, applied in order after the profile. */
  overrides?: string[];
  /** A profile declared in the config's `profiles`; "paper" means the config as written. */
  profile?: string;
}

export function listConfigs(dir = CONFIG_DIR): string[] {
  const names: string[] = [];
  for (const e of Deno.readDirSync(dir)) {
    // schema.json is the editors' JSON Schema of the others (src/config/json-schema.ts)
    if (e.isFile && e.name.endsWith(".json") && e.name !== "schema.json") {
      names.push(e.name.slice(0, -5));
    }
  }
  return names.sort();
}

export function configPath(nameOrPath: string, dir = CONFIG_DIR): string {
  if (nameOrPath.endsWith(".json") || nameOrPath.includes("/")) return nameOrPath;
  return join(dir, `${nameOrPath}.json`);
}

export function loadConfig(nameOrPath: string, options: LoadOptions = {}): ResolvedConfig {
  const file = configPath(nameOrPath);
  const layered = readLayered(file, {
    readJson: (f) => parseJson(f, readConfigText(f, f === file ? nameOrPath : undefined)),
    namedConfig: (name) => configPath(name),
    knownNames: () => listConfigs(),
  });
  const resolved = resolveConfig(file, layered.data, options, layered);
  if (options.overrides?.length) {
    // a variant: --set changed more than the budget (which only extends the same run)
    const written = resolveConfig(file, layered.data, { profile: options.profile }, layered);
    const hash = budgetFreeHash(resolved.config);
    resolved.variant = budgetFreeHash(written.config) !== hash;
    // its own run folder, so the config as written keeps its runs; a budget change alone
    // keeps the folder (it extends the same run)
    if (resolved.variant) resolved.folder = `${resolved.experiment}+${hash.slice(0, 8)}`;
  }
  return resolved;
}

/** The file's text; `name` (the experiment asked for) turns "not found" into "unknown experiment". */
function readConfigText(file: string, name?: string): string {
  try {
    return Deno.readTextFileSync(file);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound && name !== undefined && !name.endsWith(".json")) {
      throw new ConfigError(file, [{
        path: "",
        found: `no experiment named "${name}"${didYouMean(name, listConfigs())}`,
        allowed: `available: ${listConfigs().join(", ")}`,
      }], "unknown experiment");
    }
    throw new ConfigError(file, [{
      path: "",
      found: `an unreadable file (${(e as Error).message})`,
      allowed: "expected a readable JSON file",
    }], "cannot read config");
  }
}

/** Validates an already-parsed config object (the file name is used only in messages). */
export function resolveConfig(
  file: string,
  raw: unknown,
  { overrides = [], profile = "paper" }: LoadOptions = {},
  /** Where each value came from, when the config extends others. */
  layers?: Pick<Layered, "originOf" | "parents" | "bandsNotInherited">,
): ResolvedConfig {
  let data = structuredClone(raw);
  if (isObject(data)) delete data.$schema;
  const declared = isObject(data) && isObject(data.profiles) ? data.profiles : {};
  if (profile !== "paper") {
    const sets = declared[profile];
    if (!isObject(sets)) {
      throw new ConfigError(file, [{
        path: "$.profiles",
        found: `no profile "${profile}"`,
        allowed: `declared profiles: ${["paper", ...Object.keys(declared)].join(", ")}`,
      }], "unknown profile");
    }
    for (const [path, value] of Object.entries(sets)) {
      data = setAtPath(data, path, value, `${file} (profile "${profile}")`);
    }
  }
  for (const assignment of overrides) {
    const eq = assignment.indexOf("=");
    if (eq <= 0) {
      throw new ConfigError(file, [{
        path: "",
        found: `--set ${JSON.stringify(assignment)}`,
        allowed: "expected --set path=value, e.g. --set training.budget.iterations=100",
      }], "bad override");
    }
    const value = parseOverrideValue(assignment.slice(eq + 1));
    data = setAtPath(data, assignment.slice(0, eq), value, `${file} (with --set ${assignment})`);
  }

  const parsed = ExperimentConfig.safeParse(data);
  if (!parsed.success) {
    const where = overrides.length ? `${file} (with --set ${overrides.join(" ")})` : file;
    throw new ConfigError(
      where,
      parsed.error.issues.map((i) => {
        const issue = toIssue(i, data);
        const origin = layers?.originOf(i.path);
        return origin && origin !== file
          ? { ...issue, path: `${issue.path} (inherited from ${origin})` }
          : issue;
      }),
    );
  }
  const { profiles: _profiles, expect, suite, cost, ...config } = parsed.data;
  return {
    experiment: basename(file).replace(/\.json$/, ""),
    file,
    profile,
    config,
    configHash: hashJson(withoutProse(config)),
    expect: expect[profile] ?? [],
    inSuite: suite === true,
    suites: Array.isArray(suite) ? suite : [],
    cost,
    parents: layers?.parents ?? [],
    bandsNotInherited: layers?.bandsNotInherited ?? 0,
    variant: false,
    folder: basename(file).replace(/\.json$/, ""),
  };
}

/** Canonical JSON: object keys sorted at every level, so the hash ignores key order. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(
    value,
    (_k, v) => isObject(v) ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, v[k]])) : v,
  );
}

export function hashJson(value: unknown): string {
  return createHash("sha256").update(canonicalJson(value)).digest("hex");
}

/**
 * The hash of a resolved config without its budget: a run may be resumed with another budget
 * (an extension) but with nothing else changed, since no schedule depends on the budget.
 */
export function budgetFreeHash(config: unknown): string {
  const copy = withoutProse(structuredClone(config)) as { training?: { budget?: unknown } };
  if (copy?.training) delete copy.training.budget;
  return hashJson(copy);
}

/**
 * The config without its prose (`description`, `source`): what the hashes cover, so that
 * rewording a description or a citation neither orphans a run nor makes it a variant.
 */
function withoutProse(config: unknown): unknown {
  if (!isObject(config)) return config;
  const { description: _description, source: _source, ...rest } = config;
  return rest;
}

/** ` (did you mean "x"?)` for a near miss, else "". */
export function didYouMean(word: string, candidates: readonly string[]): string {
  const near = nearest(word, candidates);
  return near ? ` (did you mean "${near}"?)` : "";
}

function parseJson(file: string, text: string): unknown {
  try {
    const value = JSON.parse(text);
    const problem = jsonProblem(text);
    if (problem) throw new ConfigError(file, [{ path: "", ...problem }], "cannot parse config");
    return value;
  } catch (e) {
    if (e instanceof ConfigError) throw e;
    const msg = (e as Error).message;
    const pos = /position (\d+)/.exec(msg);
    let where = "";
    if (pos) {
      const before = text.slice(0, Number(pos[1]));
      const line = before.split("\n").length;
      const col = Number(pos[1]) - before.lastIndexOf("\n");
      where = ` at line ${line}, column ${col}`;
    }
    throw new ConfigError(file, [{
      path: "",
      found: `malformed JSON${where} (${msg.replace(/\s*\(line \d+ column \d+\)/, "")})`,
      allowed: "expected one JSON object (no comments or trailing commas)",
    }], "cannot parse config");
  }
}

/** `--set k=v`: v is JSON when it parses as JSON, otherwise a plain string. */
function parseOverrideValue(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

const SPAN_UNITS: Record<string, string> = { iterations: "epochs", epochs: "iterations" };

/** Path syntax: `a.b[0].c` or `a.b.0.c`. Returns a new object; never mutates `root`. */
function setAtPath(root: unknown, path: string, value: unknown, where: string): unknown {
  const keys = path.replace(/\[(\d+)\]/g, ".$1").split(".");
  if (keys.some((k) => k.length === 0)) {
    throw new ConfigError(where, [{
      path: "",
      found: `an empty field name in "${path}"`,
      allowed: "expected a field path such as training.budget.iterations",
    }], "bad override");
  }
  const out = structuredClone(root) as Record<string, unknown>;
  let node: unknown = out;
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i];
    const last = i === keys.length - 1;
    const here = jsonPath(keys.slice(0, i).map((k) => /^\d+$/.test(k) ? Number(k) : k));
    if (Array.isArray(node)) {
      const index = Number(key);
      if (!/^\d+$/.test(key) || index >= node.length) {
        throw new ConfigError(where, [{
          path: here,
          found: `index "${key}" into an array of ${node.length}`,
          allowed: `expected an index 0..${node.length - 1}`,
        }], "bad override");
      }
      if (last) node[index] = value;
      else node = node[index];
    } else if (isObject(node)) {
      if (last) {
        node[key] = value;
        // a span's two units are alternatives: --set training.budget.iterations=100 on a
        // config that counts epochs replaces its epochs rather than failing validation
        const other = SPAN_UNITS[key];
        if (other) delete node[other];
      } else {
        if (node[key] === undefined) node[key] = {};
        node = node[key];
      }
    } else {
      throw new ConfigError(where, [{
        path: here,
        found: describeValue(node),
        allowed: `cannot set "${key}" inside it; expected an object or array there`,
      }], "bad override");
    }
  }
  return out;
}

type ZodIssue = z.core.$ZodIssue;

function toIssue(issue: ZodIssue, data: unknown): ConfigIssue {
  const value = valueAt(data, issue.path);
  const path = jsonPath(issue.path);
  const found = describeValue(value);
  switch (issue.code) {
    case "invalid_type":
      return { path, found, allowed: `expected ${article(issue.expected)}` };
    case "too_small": {
      const op = issue.inclusive ? "≥" : ">";
      if (issue.origin === "array") {
        return { path, found, allowed: `expected at least ${issue.minimum} item(s)` };
      }
      if (issue.origin === "string") return { path, found, allowed: "expected a non-empty string" };
      return { path, found, allowed: `expected a number ${op} ${issue.minimum}` };
    }
    case "too_big": {
      const op = issue.inclusive ? "≤" : "<";
      if (issue.origin === "array") {
        return { path, found, allowed: `expected at most ${issue.maximum} item(s)` };
      }
      return { path, found, allowed: `expected a number ${op} ${issue.maximum}` };
    }
    case "invalid_value":
      return {
        path,
        found,
        allowed: `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}`,
      };
    case "invalid_union": {
      const options = (issue as unknown as { options?: unknown[] }).options;
      if (options) {
        return {
          path,
          found,
          allowed: `expected one of ${options.map((v) => JSON.stringify(v)).join(", ")}`,
        };
      }
      return { path, found, allowed: issue.message };
    }
    case "unrecognized_keys": {
      const allowedKeys = objectKeysAt(ExperimentConfig, issue.path, data);
      const hints = issue.keys.map((k) => {
        const near = nearest(k, allowedKeys);
        return near ? `"${k}" (did you mean "${near}"?)` : `"${k}"`;
      });
      return {
        path,
        found: `unknown key${issue.keys.length > 1 ? "s" : ""} ${hints.join(", ")}`,
        allowed: `remove it; known keys here: ${allowedKeys.join(", ") || "(none)"}`,
      };
    }
    default:
      return { path, found, allowed: issue.message };
  }
}

// Zod's schema internals are untyped at this level of generality.
// deno-lint-ignore no-explicit-any
type SchemaDef = any;
type AnySchema = { _zod: { def: SchemaDef } };

/** Follows `path` through the schema (picking discriminated-union options by the data). */
function objectKeysAt(schema: AnySchema, path: readonly PropertyKey[], data: unknown): string[] {
  let node = data;
  let s: AnySchema | undefined = unwrap(schema, node);
  for (const key of path) {
    const def: SchemaDef = s?._zod.def;
    node = (node as Record<PropertyKey, unknown>)?.[key];
    if (def?.type === "object") s = def.shape[key as string];
    else if (def?.type === "array") s = def.element;
    else if (def?.type === "record") s = def.valueType;
    else return [];
    s = s && unwrap(s, node);
  }
  const def = s?._zod.def;
  return def?.type === "object" ? Object.keys(def.shape) : [];
}

function unwrap(schema: AnySchema, node: unknown): AnySchema {
  let s = schema;
  for (;;) {
    const def: SchemaDef = s._zod.def;
    if (["optional", "default", "nullable", "prefault"].includes(def.type)) s = def.innerType;
    else if (def.type === "pipe") s = def.in;
    else if (def.type === "union" && def.discriminator && isObject(node)) {
      const tag = node[def.discriminator];
      const option = def.options.find((o: AnySchema) =>
        o._zod.def.shape?.[def.discriminator]?._zod.def.values?.includes(tag)
      );
      if (!option) return s;
      s = option;
    } else return s;
  }
}

function article(type: string): string {
  const names: Record<string, string> = {
    int: "an integer",
    object: "an object",
    array: "an array",
  };
  return names[type] ?? `a ${type}`;
}

function valueAt(data: unknown, path: readonly PropertyKey[]): unknown {
  let node = data;
  for (const key of path) {
    if (node === null || typeof node !== "object") return undefined;
    node = (node as Record<PropertyKey, unknown>)[key];
  }
  return node;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}
