/** A config problem, phrased so the user can fix it without reading code. */
export interface ConfigIssue {
  /** JSON path like `$.training.optimizers.generator.lr`, or "" for file-level problems. */
  path: string;
  found: string;
  allowed: string;
}

export class ConfigError extends Error {
  constructor(readonly file: string, readonly issues: ConfigIssue[], headline = "invalid config") {
    super(formatConfigError(file, issues, headline));
    this.name = "ConfigError";
  }
}

function formatConfigError(file: string, issues: ConfigIssue[], headline: string): string {
  const lines = issues.map((i) =>
    `  ${i.path ? `at ${i.path}: ` : ""}found ${i.found}; ${i.allowed}`
  );
  return [`${file}: ${headline}`, ...lines].join("\n");
}

/** `["a", 0, "b"]` → `$.a[0].b` */
export function jsonPath(path: readonly PropertyKey[]): string {
  let out = "$";
  for (const p of path) {
    if (typeof p === "number") out += `[${p}]`;
    else if (typeof p === "string" && /^[A-Za-z_$][\w$-]*$/.test(p)) out += `.${p}`;
    else out += `[${JSON.stringify(String(p))}]`;
  }
  return out;
}

/** A short, typed rendering of a JSON value for error messages. */
export function describeValue(value: unknown): string {
  if (value === undefined) return "nothing (the field is missing)";
  const type = value === null ? "null" : Array.isArray(value) ? "array" : typeof value;
  // JSON has no Infinity: 1e400 parses to it, and JSON.stringify would show "null"
  if (typeof value === "number" && !Number.isFinite(value)) {
    return `${value} (a number beyond the largest double)`;
  }
  let text = JSON.stringify(value) ?? String(value);
  if (text.length > 60) text = text.slice(0, 57) + "...";
  return `${text} (${type})`;
}
