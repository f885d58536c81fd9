/**
 * Where a model's memory goes, phase by phase (docs/performance.md §The CIFAR-10 models, phase by
 * phase): `deno run -A benchmarks/heap_probe.ts <config> [iterations] [--smoke] [--smaps]
 * [--trace] [--gc]`. Trains the config as benchmarks/train_step.ts does (wasm+openblas, 1 BLAS
 * thread, no draw worker; `--smoke`: its smoke profile, figures and evaluation included) with the
 * wasm backend's malloc and free, TF.js's kernels and its gradient passes wrapped, so that every
 * allocation on the heap carries a label: iteration|phase|kernel. The phase is the gradient pass
 * of the iteration (in the simultaneous step the first is G's, the second D's), its forward or
 * backward part, or what follows it. Prints per iteration the live and total heap, VmHWM and
 * RssAnon; each growth of the heap; the labels live at the highest point, summed; with `--smaps`
 * the largest mappings after the last iteration; with `--trace` every allocation and free of 8 MiB
 * or more with its address; with `--gc` (and `--v8-flags=--expose-gc`) a collection after every
 * iteration. A diagnostic: it changes no number, but its own bookkeeping moves the heap's layout
 * slightly, so its heap sizes need not be the benchmark's.
 */
import { selectBackend } from "../src/backend/select.ts";
import { orExit, parseOrExit, positiveInteger, UsageError } from "../src/cli/args.ts";
import { tf } from "../src/backend/tf.ts";
import { loadConfig } from "../src/config/load.ts";
import { runExperiment } from "../src/train/run.ts";

interface EmscriptenHeap {
  asm: { malloc(n: number): number; free(p: number): void };
  _malloc(n: number): number;
  _free(p: number): void;
  HEAPU8: Uint8Array;
}
interface EngineHooks {
  runKernel(name: string, inputs: unknown, attrs: unknown): unknown;
  gradients(f: () => unknown, xs: unknown, dy: unknown, allow: unknown): unknown;
}

const SCRIPT = "benchmarks/heap_probe.ts";
const USAGE = `usage: deno run -A ${SCRIPT} CONFIG [ITERATIONS] [--smoke] [--smaps] [--trace] [--gc]

Where a model's memory goes, phase by phase: trains CONFIG as benchmarks/train_step.ts does
(wasm+openblas, 1 BLAS thread, no draw worker) for ITERATIONS iterations (default 3) with every
allocation on the wasm heap labelled iteration|phase|kernel, and prints per iteration the live
and total heap, VmHWM and RssAnon, each growth of the heap and the labels live at the peak.

  --smoke  the config's smoke profile, figures and evaluation included
  --smaps  the largest mappings after the last iteration
  --trace  every allocation and free of 8 MiB or more, with its address
  --gc     a collection after every iteration (with --v8-flags=--expose-gc)

exit codes: 0 probed, 1 the run failed, 2 bad flag, argument or config
`;
const { name, iterations, values } = orExit(SCRIPT, () => {
  const { positionals, values } = parseOrExit({
    name: SCRIPT,
    usage: USAGE,
    options: {
      smoke: { type: "boolean", default: false },
      smaps: { type: "boolean", default: false },
      trace: { type: "boolean", default: false },
      gc: { type: "boolean", default: false },
    },
    positionals: { max: 2, what: "arguments (CONFIG ITERATIONS)" },
  }, Deno.args);
  if (positionals.length === 0) throw new UsageError("give CONFIG, e.g. cifar10-conv");
  const iterations = positionals[1] === undefined
    ? 3
    : positiveInteger("ITERATIONS", positionals[1]);
  return { name: positionals[0], iterations, values };
});
const flag = (f: "smoke" | "smaps" | "trace" | "gc") => values[f];
const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(1);
const statusMiB = (field: string) =>
  Number(
    new RegExp(`${field}:\\s+(\\d+) kB`).exec(Deno.readTextFileSync("/proc/self/status"))![1],
  ) /
  1024;

await selectBackend("wasm+openblas", { blasThreads: 1 });
const wasm = (tf.backend() as unknown as { wasm: EmscriptenHeap }).wasm;
// the exports themselves: emscripten's `_malloc` stub replaces itself on its first call
const { malloc, free } = wasm.asm;
const live = new Map<number, { bytes: number; label: string }>();
let liveBytes = 0, peak = 0, peakLabel = "";
let peakSummary: { label: string; bytes: number; count: number }[] = [];
let iteration = 0, phase = "setup", kernel = "-", pass = 0, heapBytes = wasm.HEAPU8.length;
const growths: string[] = [], trace: string[] = [], rows: string[] = [];
const BIG = 8 << 20;

wasm._malloc = (n: number) => {
  const at = malloc(n) >>> 0, label = `${iteration}|${phase}|${kernel}`;
  live.set(at, { bytes: n, label });
  liveBytes += n;
  if (flag("trace") && n >= BIG) {
    trace.push(`+ ${mib(at).padStart(7)} ${mib(n).padStart(6)} ${label}`);
  }
  if (wasm.HEAPU8.length !== heapBytes) {
    heapBytes = wasm.HEAPU8.length;
    growths.push(
      `heap → ${mib(heapBytes)} MiB at ${label} (a ${mib(n)} MiB block), live ${mib(liveBytes)}`,
    );
  }
  if (liveBytes > peak) {
    peak = liveBytes;
    peakLabel = label;
    // summed again only for blocks that can move the answer
    if (n > 1 << 20) {
      const sums = new Map<string, { bytes: number; count: number }>();
      for (const { bytes, label } of live.values()) {
        const s = sums.get(label) ?? { bytes: 0, count: 0 };
        s.bytes += bytes;
        s.count++;
        sums.set(label, s);
      }
      peakSummary = [...sums].map(([label, s]) => ({ label, ...s })).sort((a, b) =>
        b.bytes - a.bytes
      );
    }
  }
  return at;
};
wasm._free = (p: number) => {
  const at = p >>> 0, block = live.get(at);
  if (block) {
    if (flag("trace") && block.bytes >= BIG) {
      trace.push(`- ${mib(at).padStart(7)} ${mib(block.bytes).padStart(6)} ${block.label}`);
    }
    liveBytes -= block.bytes;
    live.delete(at);
  }
  free(p);
};
const engine = tf.engine() as unknown as EngineHooks;
const runKernel = engine.runKernel.bind(engine), gradients = engine.gradients.bind(engine);
engine.runKernel = (k, inputs, attrs) => {
  const outer = kernel;
  kernel = k;
  try {
    return runKernel(k, inputs, attrs);
  } finally {
    kernel = outer;
  }
};
engine.gradients = (f, xs, dy, allow) => {
  const which = ++pass;
  const out = gradients(
    () => {
      phase = `pass ${which} forward`;
      const y = f();
      phase = `pass ${which} backward`;
      return y;
    },
    xs,
    dy,
    allow,
  );
  phase = `after pass ${which}`;
  return out;
};

function smaps(): string[] {
  const maps: { head: string; rss: number }[] = [];
  for (const line of Deno.readTextFileSync("/proc/self/smaps").split("\n")) {
    if (/^[0-9a-f]+-[0-9a-f]+ /.test(line)) maps.push({ head: line, rss: 0 });
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss) maps[maps.length - 1].rss += Number(rss[1]) * 1024;
  }
  maps.sort((a, b) => b.rss - a.rss);
  const out = maps.slice(0, 12).map(({ head, rss }) => {
    const [range, , , , , path] = head.split(/\s+/);
    const [from, to] = range.split("-").map((h) => parseInt(h, 16));
    return `  smaps ${mib(rss).padStart(8)} MiB resident of ${mib(to - from).padStart(8)} ${
      path ?? ""
    }`;
  });
  out.push(`  smaps in all ${mib(maps.reduce((s, m) => s + m.rss, 0))} MiB`);
  return out;
}

const memory = () =>
  `heap ${mib(wasm.HEAPU8.length)} (live ${mib(liveBytes)}), VmHWM ${
    statusMiB("VmHWM").toFixed(0)
  }, ` +
  `RssAnon ${statusMiB("RssAnon").toFixed(0)} MiB`;
const resolved = orExit(
  SCRIPT,
  () =>
    flag("smoke") ? loadConfig(name, { profile: "smoke" }) : loadConfig(name, {
      overrides: [
        `training.budget={"iterations":${iterations}}`,
        `training.logEvery=${iterations}`,
        `training.checkpointEvery=${iterations}`,
        `training.fingerprintEvery=${iterations}`,
        "metrics.samples=100",
        "metrics.parzen=null",
        "metrics.classifier=null",
        "metrics.nearestTraining=null",
      ],
    }),
);
await runExperiment(resolved, {
  seed: 1,
  backend: "wasm+openblas",
  blasThreads: 1,
  prefetchDraws: false,
  onPhase: (p) => {
    rows.push(`${p}: ${memory()}`);
    phase = p;
  },
  ...(flag("smoke")
    ? { onFigure: (f) => Promise.resolve(void rows.push(`${f.file}: ${memory()}`)) }
    : {}),
  onProgress: (p) => {
    if (flag("gc")) (globalThis as { gc?: () => void }).gc?.();
    rows.push(`iteration ${p.iteration}: ${tf.memory().numTensors} tensors, ${memory()}`);
    if (flag("smaps") && p.iteration === p.iterations) rows.push(...smaps());
    iteration = p.iteration;
    phase = "between iterations";
    pass = 0;
  },
});
console.log(rows.join("\n"));
console.log(growths.join("\n"));
console.log(`live peak ${mib(peak)} MiB at ${peakLabel}; live then, by label:`);
for (const s of peakSummary.slice(0, 30)) {
  console.log(`  ${mib(s.bytes).padStart(8)} MiB ${String(s.count).padStart(4)}× ${s.label}`);
}
if (flag("trace")) console.log(trace.join("\n"));
