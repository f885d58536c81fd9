/**
 * What JSON.parse accepts but a config must not be: a document nested deeper than any config
 * is (the loader's recursion would overflow the stack), and an object with a key twice (the
 * last one would win, silently). Runs on text JSON.parse has already accepted.
 */

/** Deeper than any config needs (the deepest shipped config nests 6 levels). */
export const MAX_JSON_DEPTH = 64;

export interface JsonProblem {
  found: string;
  allowed: string;
}

export function jsonProblem(text: string): JsonProblem | null {
  // one entry per open object (its keys so far) or array (null)
  const open: (Set<string> | null)[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "{" || c === "[") {
      open.push(c === "{" ? new Set() : null);
      if (open.length > MAX_JSON_DEPTH) {
        return {
          found: `values nested more than ${MAX_JSON_DEPTH} levels deep (line ${lineOf(text, i)})`,
          allowed: `expected at most ${MAX_JSON_DEPTH} levels`,
        };
      }
    } else if (c === "}" || c === "]") {
      open.pop();
    } else if (c === '"') {
      const start = i;
      for (i++; text[i] !== '"'; i++) if (text[i] === "\\") i++;
      const keys = open.at(-1);
      if (keys && /^\s*:/.test(text.slice(i + 1, i + 64))) {
        const key: string = JSON.parse(text.slice(start, i + 1));
        if (keys.has(key)) {
          return {
            found: `the key ${JSON.stringify(key)} twice in one object (line ${
              lineOf(text, start)
            })`,
            allowed: "expected each key once (JSON parsers keep only the last)",
          };
        }
        keys.add(key);
      }
    }
  }
  return null;
}

function lineOf(text: string, at: number): number {
  let line = 1;
  for (let i = 0; i < at; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}
