/**
 * What `deno task bench` prints when it is given nothing to run (no experiment, no --suite):
 * the suite it would run, with estimated times from the configs' `cost`, and the commands
 * that run something. A bare `bench` must never start days of training.
 */
import { listing, planTasks, type Task } from "./plan.ts";
import { formatDuration } from "./progress.ts";

/** The example everyone can run first: the paper's MNIST model at its smoke budget. */
export const FIRST_RUN = { experiment: "mnist-mlp", profile: "smoke" };

export interface SuggestOptions {
  profile: string;
  seeds: number[];
  out: string;
  backend: string;
  jobs: number;
  memoryGB: number;
}

/** `~1m30s`, or "time unknown" when a config has no cost for it. */
function total(tasks: readonly Task[]): string {
  if (tasks.some((t) => t.estimate.seconds === null)) {
    const known = tasks.filter((t) => t.estimate.seconds !== null);
    return `~${formatDuration(known.reduce((s, t) => s + t.estimate.seconds!, 0))} + ${
      tasks.length - known.length
    } without an estimate`;
  }
  return `~${formatDuration(tasks.reduce((s, t) => s + t.estimate.seconds!, 0))}`;
}

/** `suite` is the plan of the suite at options.profile (what `--suite <profile>` would run). */
export function suggestionLines(suite: readonly Task[], options: SuggestOptions): string[] {
  const plan = (experiments: string[] | null, profile: string, seeds = options.seeds) =>
    planTasks({
      experiments,
      seeds,
      profile,
      overrides: [],
      out: options.out,
      backend: options.backend,
    });
  const first = plan([FIRST_RUN.experiment], FIRST_RUN.profile, [1]);
  const smoke = options.profile === "smoke" ? suite : plan(null, "smoke");
  const rows: [string, string][] = [
    [
      `deno task bench ${FIRST_RUN.experiment} --profile ${FIRST_RUN.profile}`,
      `the paper's MNIST model at its smoke budget, one seed: ${total(first)}`,
    ],
    [
      "deno task bench --suite smoke --jobs 2",
      `every suite experiment at its smoke budget, ${smoke.length} runs: ${
        total(smoke)
      } one after another`,
    ],
    [
      "deno task bench EXPERIMENT --list",
      "one experiment's runs and estimates; drop --list to run",
    ],
    [
      `deno task bench --suite ${options.profile}`,
      `the ${options.profile} suite below, ${suite.length} runs: ${total(suite)}`,
    ],
    ["deno task bench --help", "every option, and the exit codes"],
  ];
  return [
    "Nothing to run: name an experiment or give --suite. To start:",
    ...rows.flatMap(([command, what]) => [`  ${command}`, `      ${what}`]),
    "",
    `The ${options.profile} suite (--suite ${options.profile}) would run:`,
    ...listing(suite, options.jobs, options.memoryGB).map((l) => `  ${l}`),
  ];
}
