/** Shared by the tests: run the CLIs in a subprocess, as a user would. */
import { join } from "node:path";
import { CONFIG_DIR, loadConfig } from "../src/config/load.ts";

/** The `deno run` arguments of `deno task bench` (same permissions as deno.json's task). */
export function benchArgs(args: string[]): string[] {
  return [
    "run",
    "--allow-read",
    "--allow-write",
    "--allow-env",
    "--allow-run",
    "--allow-ffi",
    "--allow-sys=homedir,hostname,systemMemoryInfo",
    "src/cli/bench.ts",
    ...args,
  ];
}

export interface Output {
  code: number;
  stdout: string;
  stderr: string;
}

/** `deno <args>` from the project root, as a user would run it; output decoded. */
export async function runDeno(args: string[], env: Record<string, string> = {}): Promise<Output> {
  const out = await new Deno.Command(Deno.execPath(), {
    args,
    cwd: join(CONFIG_DIR, ".."),
    env: { NO_COLOR: "1", ...env },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

export function runBench(args: string[], env: Record<string, string> = {}): Promise<Output> {
  return runDeno(benchArgs(args), env);
}

/** Overrides for a 6-iteration mnist-mlp run without the expensive metrics. */
export const MNIST_SHORT = [
  'training.budget={"iterations":6}',
  "training.logEvery=2",
  "metrics.samples=100",
  "metrics.parzen=null",
  "metrics.classifier=null",
  "metrics.nearestTraining=null",
  "metrics.track=null",
];

/**
 * The run folder bench writes for an experiment with these `--set` values: a variant (more
 * than the budget changed) has its own, `<experiment>+<hash>` (ResolvedConfig.folder).
 */
export function runDirOf(
  out: string,
  experiment: string,
  sets: string[],
  seed = 1,
  profile = "paper",
): string {
  return join(out, loadConfig(experiment, { overrides: sets, profile }).folder, `seed-${seed}`);
}

/** The `--set` values among bench arguments. */
export function setsOf(args: string[]): string[] {
  return args.flatMap((a, i) => (args[i - 1] === "--set" ? [a] : []));
}
