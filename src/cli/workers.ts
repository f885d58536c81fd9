/**
 * Several planned runs, N at a time (--jobs N), each in a fresh worker process: `deno run …
 * bench.ts <experiment> --seed S --worker` for exactly one run. Workers share nothing (the
 * wasm backend is single-threaded, so each uses one core), which is why a run's numbers do
 * not depend on N; and every run starts with an empty wasm heap.
 * A stage starts only after the stage it builds on has finished; a run starts only while
 * the estimated memory of the running ones leaves room for it (alone, any run may start).
 * Each worker gets the invocation's --blas-threads (default: the cores divided by N); the
 * thread count changes no number either (src/backend/blas-threads.ts).
 * Ctrl-C reaches every worker, which checkpoints and stops; nothing new starts.
 */
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Task } from "./plan.ts";
import { PROGRESS_ENV, PROGRESS_PREFIX, ProgressBoard, type ProgressState } from "./progress.ts";
import type { Outcome } from "./summary.ts";

/** The last line a worker prints on stdout: its outcome as JSON. */
export const OUTCOME_PREFIX = "@@ganbench-outcome ";

const BENCH = fileURLToPath(new URL("./bench.ts", import.meta.url));
const DENO_JSON = fileURLToPath(new URL("../../deno.json", import.meta.url));

export interface WorkerOptions {
  jobs: number;
  /** GB that the running workers' estimated peak memory may add up to. */
  memoryGB: number;
  /** Arguments every worker gets besides the experiment and seed (--profile, --set, --out, …). */
  shared: string[];
  signal: AbortSignal;
}

export async function runInWorkers(tasks: Task[], options: WorkerOptions): Promise<Outcome[]> {
  const outcomes = new Map<string, Outcome>();
  const waiting = [...tasks];
  const running = new Map<string, { task: Task; child: Deno.ChildProcess; done: Promise<void> }>();
  const memory = (t: Task) => t.estimate.memoryGB ?? 0;
  const base = (t: Task) => ({
    key: t.key,
    experiment: t.resolved.experiment,
    seed: t.seed,
    profile: t.resolved.profile,
    dir: t.dir,
  });
  const interrupt = () => {
    for (const { child } of running.values()) child.kill("SIGINT");
  };
  options.signal.addEventListener("abort", interrupt);
  // on a terminal, one progress line per running worker; in a log, the workers' own lines
  const board = Deno.stderr.isTerminal() ? new ProgressBoard() : null;
  try {
    while (waiting.length || running.size) {
      // a stage whose predecessor failed cannot run
      for (const t of [...waiting]) {
        const before = t.after ? outcomes.get(t.after) : undefined;
        if (before && (before.status === "failed" || before.status === "interrupted")) {
          waiting.splice(waiting.indexOf(t), 1);
          outcomes.set(t.key, {
            ...base(t),
            status: before.status,
            reason: `not started: needs ${before.experiment}, which ${
              before.status === "failed" ? "failed" : "was interrupted"
            }`,
          });
        }
      }
      if (options.signal.aborted) {
        for (const t of waiting.splice(0)) {
          outcomes.set(t.key, { ...base(t), status: "interrupted", reason: "not started" });
        }
      }
      const used = [...running.values()].reduce((sum, r) => sum + memory(r.task), 0);
      const ready = waiting
        .filter((t) =>
          t.after === null || outcomes.has(t.after) || !tasks.some((u) => u.key === t.after)
        )
        .filter((t) => running.size === 0 || used + memory(t) <= options.memoryGB)
        .sort((a, b) => (b.estimate.seconds ?? 0) - (a.estimate.seconds ?? 0));
      if (running.size < options.jobs && ready.length) {
        const task = ready[0];
        waiting.splice(waiting.indexOf(task), 1);
        const child = spawnWorker(task, options, board !== null);
        const done = collect(task, child, board).then((o) => {
          outcomes.set(
            task.key,
            o ??
              {
                ...base(task),
                status: "failed",
                reason: "the worker stopped without an outcome (see its output above)",
              },
          );
          running.delete(task.key);
        });
        running.set(task.key, { task, child, done });
        continue;
      }
      if (running.size === 0) break;
      await Promise.race([...running.values()].map((r) => r.done));
    }
  } finally {
    options.signal.removeEventListener("abort", interrupt);
    board?.close();
  }
  return tasks.map((t) => outcomes.get(t.key)!);
}

function spawnWorker(task: Task, options: WorkerOptions, board: boolean): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      ...(existsSync(DENO_JSON) ? ["--config", DENO_JSON] : []),
      ...grantedPermissions(),
      BENCH,
      task.resolved.file,
      "--seed",
      String(task.seed),
      ...options.shared,
      "--worker",
      ...(task.dependency ? ["--reuse-completed"] : []),
    ],
    ...(board ? { env: { [PROGRESS_ENV]: "channel" } } : {}),
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

/**
 * Forwards a worker's output line by line (its progress lines to the board) and returns its
 * outcome line.
 */
async function collect(
  task: Task,
  child: Deno.ChildProcess,
  board: ProgressBoard | null,
): Promise<Outcome | null> {
  let outcome: Outcome | null = null;
  const forward = async (stream: ReadableStream<Uint8Array>, write: (line: string) => void) => {
    let buffer = "";
    for await (const text of stream.pipeThrough(new TextDecoderStream())) {
      buffer += text;
      let nl;
      while ((nl = buffer.indexOf("\n")) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        if (line.startsWith(OUTCOME_PREFIX)) {
          outcome = JSON.parse(line.slice(OUTCOME_PREFIX.length));
        } else if (board && line.startsWith(PROGRESS_PREFIX)) {
          const state: ProgressState | null = JSON.parse(line.slice(PROGRESS_PREFIX.length));
          board.set(task.key, state);
        } else write(line);
      }
    }
    if (buffer) write(buffer);
  };
  const out = (l: string) => console.log(l), err = (l: string) => console.error(l);
  await Promise.all([
    forward(child.stdout, board ? (l) => board.log(l, out) : out),
    forward(child.stderr, board ? (l) => board.log(l, err) : err),
  ]);
  board?.set(task.key, null);
  const status = await child.status;
  if (outcome === null && status.code !== 0) {
    console.error(`${task.key}: the worker exited with code ${status.code}`);
  }
  return outcome;
}

/**
 * The environment variables ganbench reads, each one where it is read (the bench and verify
 * tasks grant exactly these: test/cli_test.ts; TF.js and the npm packages need none). A
 * worker gets the ones its parent may read.
 */
export const ENV_VARIABLES = [
  "HOME",
  "XDG_CACHE_HOME",
  "GANBENCH_TFD",
  "GANBENCH_CIFAR10",
  "PYLEARN2_DATA_PATH",
  "GANBENCH_OPENBLAS",
  "OPENBLAS_CORETYPE",
  "GANBENCH_FAULT",
  "GANBENCH_DEBUG",
  "GANBENCH_PROGRESS",
];

/** This process's permissions as `deno run` flags, so a worker may do what its parent may. */
function grantedPermissions(): string[] {
  const flags: string[] = [];
  for (const name of ["read", "write", "env", "net", "sys", "run", "ffi"] as const) {
    if (Deno.permissions.querySync({ name }).state === "granted") flags.push(`--allow-${name}`);
    else if (name === "env") {
      const granted = ENV_VARIABLES.filter((variable) =>
        Deno.permissions.querySync({ name, variable }).state === "granted"
      );
      if (granted.length) flags.push(`--allow-env=${granted.join(",")}`);
    } else if (
      name === "run" && Deno.permissions.querySync({ name, command: "git" }).state === "granted"
    ) {
      flags.push("--allow-run=git");
    } else if (name === "sys") {
      // the task grants these: Skia (charts) reads the home directory, the scheduler the
      // memory available, and a run folder's lock names its holder's host
      const kinds = (["homedir", "hostname", "systemMemoryInfo"] as const).filter((kind) =>
        Deno.permissions.querySync({ name, kind }).state === "granted"
      );
      if (kinds.length) flags.push(`--allow-sys=${kinds.join(",")}`);
    }
  }
  return flags;
}
