/** The layer rules of docs/architecture.md, checked on the real import graph. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import {
  checkLayers,
  importCycles,
  type ImportGraph,
  importGraph,
  layerViolations,
  reachable,
} from "../scripts/check-layers.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const CONFIG = join(ROOT, "deno.json");

Deno.test("report, diff and serve load no TensorFlow.js (deno info)", async () => {
  for (const cli of ["report", "diff", "serve"]) {
    const root = pathToFileURL(join(ROOT, "src", "cli", `${cli}.ts`)).href;
    const graph = await importGraph([fileURLToPath(root)], CONFIG);
    const modules = [...reachable(graph, root)];
    if (cli !== "serve") assert.ok(modules.some((m) => m.endsWith("/src/record/result.ts")));
    assert.deepEqual(modules.filter((m) => m.includes("@tensorflow")), [], `src/cli/${cli}.ts`);
  }
  // and the check can see TF.js where it is loaded
  const run = join(ROOT, "src", "train", "run.ts");
  const graph = await importGraph([run], CONFIG);
  assert.ok([...reachable(graph, pathToFileURL(run).href)].some((m) => m.includes("@tensorflow")));
});

Deno.test("bench and verify load TensorFlow.js only once their arguments are checked", async () => {
  for (const cli of ["bench", "verify"]) {
    const path = join(ROOT, "src", "cli", `${cli}.ts`);
    const graph = await importGraph([path], CONFIG);
    const url = pathToFileURL(path).href;
    const tfjs = (m: string) => m.includes("@tensorflow");
    assert.deepEqual([...reachable(graph, url, true)].filter(tfjs), [], `src/cli/${cli}.ts`);
    // its dynamic imports (the training) do load it
    assert.ok([...reachable(graph, url)].some(tfjs), `src/cli/${cli}.ts trains`);
  }
});

Deno.test("src/ has no import cycle and no upward import", async () => {
  assert.deepEqual(await checkLayers(join(ROOT, "src"), CONFIG), []);
});

/** A throw-away src/ tree: path → its imports (relative to src/). */
function writeTree(files: Record<string, string[]>): string {
  const dir = Deno.makeTempDirSync({ prefix: "ganbench-layers-test-" });
  for (const [path, imports] of Object.entries(files)) {
    const depth = path.split("/").length - 1;
    const up = "../".repeat(depth);
    Deno.mkdirSync(join(dir, "src", path, ".."), { recursive: true });
    Deno.writeTextFileSync(
      join(dir, "src", path),
      imports.map((i) => `import "./${up}${i}";`).join("\n") + "\nexport {};\n",
    );
  }
  return join(dir, "src");
}

Deno.test("an upward import is reported with its edge", async () => {
  const src = writeTree({
    "metrics/score.ts": ["train/loop.ts"],
    "train/loop.ts": ["record/result.ts"],
    "record/result.ts": [],
  });
  try {
    assert.deepEqual(await checkLayers(src, CONFIG), [
      "upward import: src/metrics/score.ts → src/train/loop.ts: metrics imports train, " +
      "a layer above it",
    ]);
  } finally {
    Deno.removeSync(join(src, ".."), { recursive: true });
  }
});

Deno.test("an import cycle is reported as the chain that closes it", async () => {
  const src = writeTree({
    "record/a.ts": ["record/b.ts"],
    "record/b.ts": ["record/c.ts"],
    "record/c.ts": ["record/a.ts"],
    "record/d.ts": ["record/a.ts"],
  });
  try {
    assert.deepEqual(await checkLayers(src, CONFIG), [
      "import cycle: src/record/a.ts → src/record/b.ts → src/record/c.ts → src/record/a.ts",
    ]);
  } finally {
    Deno.removeSync(join(src, ".."), { recursive: true });
  }
});

Deno.test("cycles and layers on a hand-made graph: type and dynamic imports count", () => {
  const src = "/p/src";
  const f = (p: string) => `file:///p/src/${p}`;
  const graph: ImportGraph = new Map([
    [f("report/page.ts"), [{ to: f("cli/bench.ts"), dynamic: true, typeOnly: false }]],
    [f("cli/bench.ts"), [{ to: f("report/page.ts"), dynamic: false, typeOnly: true }]],
    [f("config/x.ts"), [{ to: "npm:/zod@4", dynamic: false, typeOnly: false }]],
    [f("util/self.ts"), [{ to: f("util/self.ts"), dynamic: false, typeOnly: false }]],
  ]);
  assert.deepEqual(layerViolations(graph, src), [
    "src/report/page.ts → src/cli/bench.ts: report imports cli, a layer above it",
  ]);
  assert.deepEqual(importCycles(graph, src), [
    ["src/cli/bench.ts", "src/report/page.ts", "src/cli/bench.ts"],
    ["src/util/self.ts", "src/util/self.ts"],
  ]);
});
