/** The README is the manual a user reads: short (results and notes live in docs/), links that resolve. */
import assert from "node:assert/strict";

const ROOT = new URL("../", import.meta.url);
const readme = Deno.readTextFileSync(new URL("README.md", ROOT));

Deno.test("README.md stays under 20 KB", () => {
  const bytes = new TextEncoder().encode(readme).length;
  assert.ok(bytes <= 20_000, `README.md is ${bytes} bytes; move results and notes to docs/`);
});

Deno.test("README.md's relative links name files in the repository", () => {
  const targets = [...readme.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1])
    .filter((t) => !/^[a-z]+:/.test(t) && !t.startsWith("#"))
    .map((t) => t.split("#")[0]);
  assert.ok(targets.length > 5, `found ${targets.length} links`);
  const missing = targets.filter((t) => {
    try {
      Deno.statSync(new URL(t, ROOT));
      return false;
    } catch {
      return true;
    }
  });
  assert.deepEqual(missing, []);
});
