/**
 * `deno run … scripts/check-layers.ts [--src DIR]` (part of `deno task check`): reads the
 * import graph of every module under src/ with `deno info --json` and fails (exit 1) on
 *  - an import cycle (printed as the chain of modules that closes it), and
 *  - an import that goes up the layer order of docs/architecture.md (printed as the edge).
 * Type-only and dynamic imports count: both tie a module to the one it names.
 */
import { parseArgs } from "node:util";
import { join, relative, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const fromFileUrl = (s: string | URL) => fileURLToPath(s);
const toFileUrl = (path: string) => pathToFileURL(path).href;

/** The folders of src/, lowest layer first; a module may import its own layer or lower ones. */
export const LAYERS: readonly (readonly string[])[] = [
  ["util", "config", "rng", "backend"],
  ["data", "models"],
  ["metrics"],
  ["record"],
  ["train"],
  ["report"],
  ["cli"],
];

export interface Edge {
  to: string;
  dynamic: boolean;
  typeOnly: boolean;
}

/** Module specifier (file URL, npm: or node:) → the modules it imports. */
export type ImportGraph = Map<string, Edge[]>;

/** The import graph of `roots` (files) and everything they reach, by `deno info --json`. */
export async function importGraph(roots: string[], config: string): Promise<ImportGraph> {
  const dir = await Deno.makeTempDir({ prefix: "ganbench-layers-" });
  try {
    const root = join(dir, "all.ts");
    const lines = roots.map((r) => `import ${JSON.stringify(toFileUrl(resolve(r)))};`);
    await Deno.writeTextFile(root, lines.join("\n") + "\n");
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["info", "--json", "--config", config, root],
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!out.success) {
      throw new Error(`deno info failed:\n${new TextDecoder().decode(out.stderr)}`);
    }
    const info = JSON.parse(new TextDecoder().decode(out.stdout));
    const graph: ImportGraph = new Map();
    for (const m of info.modules as DenoInfoModule[]) {
      if (m.specifier === toFileUrl(root)) continue;
      const edges: Edge[] = [];
      for (const d of m.dependencies ?? []) {
        const to = d.code?.specifier ?? d.type?.specifier;
        if (to) edges.push({ to, dynamic: !!d.isDynamic, typeOnly: !d.code });
      }
      graph.set(m.specifier, edges);
    }
    return graph;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

interface DenoInfoModule {
  specifier: string;
  dependencies?: {
    code?: { specifier: string };
    type?: { specifier: string };
    isDynamic?: boolean;
  }[];
}

/**
 * Every module a graph reaches from `from` (itself included); with `staticOnly`, through
 * static imports only (what loads before the module's first line runs).
 */
export function reachable(graph: ImportGraph, from: string, staticOnly = false): Set<string> {
  const seen = new Set([from]);
  const todo = [from];
  while (todo.length) {
    for (const e of graph.get(todo.pop()!) ?? []) {
      if (staticOnly && e.dynamic) continue;
      if (!seen.has(e.to)) seen.add(e.to), todo.push(e.to);
    }
  }
  return seen;
}

/** The top folder of a module under `src` ("metrics" for src/metrics/parzen.ts), or null. */
function folderOf(specifier: string, src: string): string | null {
  if (!specifier.startsWith("file:")) return null;
  const rel = relative(src, fromFileUrl(specifier));
  if (rel.startsWith("..")) return null;
  const parts = rel.split(/[\\/]/);
  return parts.length > 1 ? parts[0] : null;
}

function layerOf(folder: string): number {
  return LAYERS.findIndex((layer) => layer.includes(folder));
}

/** One line per import that goes up the layers (or into a folder no layer lists). */
export function layerViolations(graph: ImportGraph, src: string): string[] {
  const show = (s: string) => relative(join(src, ".."), fromFileUrl(s));
  const lines: string[] = [];
  for (const [from, edges] of graph) {
    const a = folderOf(from, src);
    if (a === null) continue;
    if (layerOf(a) < 0) {
      lines.push(`${show(from)}: folder "${a}" is in no layer (scripts/check-layers.ts LAYERS)`);
      continue;
    }
    for (const e of edges) {
      const b = folderOf(e.to, src);
      if (b === null || layerOf(b) < 0 || layerOf(b) <= layerOf(a)) continue;
      lines.push(`${show(from)} → ${show(e.to)}: ${a} imports ${b}, a layer above it`);
    }
  }
  return lines.sort();
}

/** Import cycles among modules under `src`, each as the chain that closes it (a → b → a). */
export function importCycles(graph: ImportGraph, src: string): string[][] {
  const inSrc = (s: string) => folderOf(s, src) !== null;
  const show = (s: string) => relative(join(src, ".."), fromFileUrl(s));
  const nodes = [...graph.keys()].filter(inSrc).sort();
  const next = (n: string) => (graph.get(n) ?? []).map((e) => e.to).filter(inSrc).sort();
  // Tarjan's strongly connected components, iteratively
  let counter = 0;
  const index = new Map<string, number>(), low = new Map<string, number>();
  const stack: string[] = [], onStack = new Set<string>();
  const components: string[][] = [];
  for (const start of nodes) {
    if (index.has(start)) continue;
    const work: { node: string; edges: string[]; i: number }[] = [];
    const open = (node: string) => {
      index.set(node, counter), low.set(node, counter++);
      stack.push(node), onStack.add(node);
      work.push({ node, edges: next(node), i: 0 });
    };
    open(start);
    while (work.length) {
      const top = work[work.length - 1];
      if (top.i < top.edges.length) {
        const to = top.edges[top.i++];
        if (!index.has(to)) open(to);
        else if (onStack.has(to)) low.set(top.node, Math.min(low.get(top.node)!, index.get(to)!));
        continue;
      }
      work.pop();
      if (work.length) {
        const parent = work[work.length - 1].node;
        low.set(parent, Math.min(low.get(parent)!, low.get(top.node)!));
      }
      if (low.get(top.node) === index.get(top.node)) {
        const component: string[] = [];
        let n: string;
        do {
          n = stack.pop()!;
          onStack.delete(n);
          component.push(n);
        } while (n !== top.node);
        const selfLoop = next(top.node).includes(top.node);
        if (component.length > 1 || selfLoop) components.push(component);
      }
    }
  }
  // one concrete cycle per component: walk from its first module until it comes back
  return components.map((component) => {
    const members = new Set(component);
    const first = component.sort()[0];
    const path = [first];
    const prev = new Map<string, string>();
    const queue = [first];
    while (queue.length) {
      const n = queue.shift()!;
      for (const to of next(n).filter((t) => members.has(t))) {
        if (to === first) {
          const chain = [n];
          while (chain[0] !== first) chain.unshift(prev.get(chain[0])!);
          return [...chain, first].map(show);
        }
        if (!prev.has(to) && to !== first) prev.set(to, n), queue.push(to);
      }
    }
    return path.map(show);
  });
}

/** Every .ts module under `dir`. */
export function sourceFiles(dir: string): string[] {
  const files: string[] = [];
  for (const entry of Deno.readDirSync(dir)) {
    const path = join(dir, entry.name);
    if (entry.isDirectory) files.push(...sourceFiles(path));
    else if (entry.name.endsWith(".ts")) files.push(path);
  }
  return files.sort();
}

/** Runs both checks on `src`; returns the problems, one line each (empty: clean). */
export async function checkLayers(src: string, config: string): Promise<string[]> {
  const graph = await importGraph(sourceFiles(src), config);
  return [
    ...importCycles(graph, src).map((c) => `import cycle: ${c.join(" → ")}`),
    ...layerViolations(graph, src).map((v) => `upward import: ${v}`),
  ];
}

if (import.meta.main) {
  const root = fromFileUrl(new URL("..", import.meta.url));
  const { values } = parseArgs({
    args: Deno.args,
    options: { src: { type: "string", default: join(root, "src") } },
  });
  const problems = await checkLayers(resolve(values.src!), join(root, "deno.json"));
  for (const p of problems) console.error(p);
  if (problems.length) {
    console.error(`${problems.length} layer problem(s); the layers are in docs/architecture.md`);
    Deno.exit(1);
  }
  console.log(`layers: no cycles, no upward imports (${resolve(values.src!)})`);
}
