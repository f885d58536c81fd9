/** The command line as a user meets it: the default plan, --help, --version, bad flags, busy ports. */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import denoJson from "../deno.json" with { type: "json" };
import { parseCommand, UsageError } from "../src/cli/args.ts";
import { formatDuration } from "../src/cli/progress.ts";
import { ENV_VARIABLES } from "../src/cli/workers.ts";
import { nearest } from "../src/util/nearest.ts";
import { type Output, runBench, runDeno } from "./helpers.ts";

/** The permissions of each command's task in deno.json. */
const PERMISSIONS: Record<string, string[]> = {
  verify: ["--allow-read", "--allow-write", "--allow-env", "--allow-run=git", "--allow-ffi"],
  diff: ["--allow-read"],
  report: ["--allow-read", "--allow-write", "--allow-env", "--allow-ffi", "--allow-sys=homedir"],
  serve: ["--allow-read", "--allow-net"],
  data: ["--allow-read", "--allow-write", "--allow-env", "--allow-net"],
  schema: ["--allow-read", "--allow-write=configs/schema.json"],
};
const COMMANDS = ["bench", ...Object.keys(PERMISSIONS)];

/** One after another: deno processes started together wait for each other's node_modules lock and say so. */
async function runAll(calls: [string, string[]][]): Promise<Output[]> {
  const outputs: Output[] = [];
  for (const [command, args] of calls) outputs.push(await run(command, args));
  return outputs;
}

function run(command: string, args: string[]): Promise<Output> {
  if (command === "bench") return runBench(args);
  return runDeno(["run", ...PERMISSIONS[command], `src/cli/${command}.ts`, ...args]);
}

Deno.test("the bench and verify tasks grant exactly the environment variables ganbench reads, as workers do", () => {
  for (const name of ["bench", "verify"] as const) {
    const granted = denoJson.tasks[name].command.match(/--allow-env=(\S+)/)?.[1].split(",");
    assert.deepEqual(granted, ENV_VARIABLES, name);
  }
});

Deno.test("every task has a description in deno.json", () => {
  for (const [name, task] of Object.entries(denoJson.tasks)) {
    assert.equal(typeof task, "object", name);
    assert.ok((task as { description?: string }).description, `${name} has no description`);
  }
});

Deno.test("--help on every command: its usage with the exit codes, exit 0", async () => {
  const outputs = await runAll(COMMANDS.map((c) => [c, ["--help"]]));
  outputs.forEach((r, i) => {
    assert.equal(r.code, 0, `${COMMANDS[i]}: ${r.stderr}`);
    assert.ok(r.stdout.startsWith(`usage: deno task ${COMMANDS[i]}`), r.stdout);
    assert.match(r.stdout, /\nexit codes:\n/);
    assert.equal(r.stderr, "");
  });
  // -h is the same, even beside arguments it would refuse
  const short = await run("verify", ["-h", "--bogus"]);
  assert.equal(short.code, 0, short.stderr);
  assert.ok(short.stdout.startsWith("usage: deno task verify <run-dir>"));
});

Deno.test("--version prints deno.json's version on every command", async () => {
  const outputs = await runAll(COMMANDS.map((c) => [c, ["--version"]]));
  for (const r of outputs) {
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `ganbench ${denoJson.version}\n`);
  }
  assert.match(denoJson.version, /^\d+\.\d+\.\d+$/);
});

Deno.test("a bad flag: one line naming it and the nearest flag, a pointer to --help, exit 2", async () => {
  const cases: [string, string[], string][] = [
    ["bench", ["mnist-mlp", "--chek"], "unknown flag --chek (did you mean --check?)"],
    ["bench", ["--frobnicate"], "unknown flag --frobnicate"],
    ["bench", ["mnist-mlp", "--seed"], "--seed needs a value"],
    ["bench", ["mnist-mlp", "--check=yes"], '--check takes no value (found "yes")'],
    ["verify", ["--backnd", "wasm", "x"], "unknown flag --backnd (did you mean --backend?)"],
    ["diff", ["a"], "give two runs or more, found 1"],
    ["report", ["--out", "x"], "unknown flag --out"],
    ["serve", ["--prot", "1"], "unknown flag --prot (did you mean --port?)"],
    ["serve", ["--port", "99999"], '--port: found "99999"; expected 0…65535'],
    [
      "data",
      ["--download-mnsit"],
      "unknown flag --download-mnsit (did you mean --download-mnist?)",
    ],
    ["data", ["x"], 'cannot download "x": expected mnist or cifar10'],
    [
      "data",
      ["tfd"],
      'cannot download "tfd": expected mnist or cifar10 (TFD is not publicly distributed)',
    ],
    ["data", ["mnist", "cifar10"], 'unexpected argument "cifar10": at most 1 data set to download'],
    [
      "schema",
      ["configs/x.json"],
      'unexpected argument "configs/x.json" (this command takes flags only)',
    ],
  ];
  const outputs = await runAll(cases.map(([c, args]) => [c, args]));
  outputs.forEach((r, i) => {
    const [command, , message] = cases[i];
    assert.equal(r.code, 2, `${command}: ${r.stderr}`);
    assert.equal(r.stderr, `error: ${message}\nrun "deno task ${command} --help" for usage\n`);
    assert.equal(r.stdout, "");
  });
});

Deno.test("bench with nothing to run prints the plan and what to run, trains and writes nothing", async () => {
  const dir = Deno.makeTempDirSync();
  const out = join(dir, "out");
  const r = await runBench(["--out", out]);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.split("\n");
  assert.deepEqual(lines.slice(0, 3), [
    "Nothing to run: name an experiment or give --suite. To start:",
    "  deno task bench mnist-mlp --profile smoke",
    // the config's cost: fixedSeconds.smoke + secondsPerIteration × the smoke budget
    `      the paper's MNIST model at its smoke budget, one seed: ~${
      formatDuration(mnistSmokeSeconds())
    }`,
  ]);
  assert.ok(lines.includes("  deno task bench --suite paper"), r.stdout);
  assert.ok(lines.includes("The paper suite (--suite paper) would run:"), r.stdout);
  assert.ok(lines.some((l) => /^ {2}mnist-mlp\/seed-3 +paper +375000 iterations/.test(l)));
  assert.ok(lines.some((l) => l.startsWith("  21 runs; estimated ")), r.stdout);
  assert.ok(!existsSync(out), "nothing written");

  // --profile smoke alone plans the smoke suite; --check with nothing to run is refused
  const smoke = await runBench(["--profile", "smoke", "--out", out]);
  assert.equal(smoke.code, 0, smoke.stderr);
  assert.ok(smoke.stdout.includes("The smoke suite (--suite smoke) would run:\n"));
  const check = await runBench(["--check", "--out", out]);
  assert.equal(check.code, 2);
  assert.equal(
    check.stderr,
    "error: --check needs something to run: name experiments or give --suite\n" +
      'run "deno task bench --help" for usage\n',
  );
  const both = await runBench(["mnist-mlp", "--suite", "smoke", "--out", out]);
  assert.equal(both.code, 2);
  assert.ok(both.stderr.startsWith("error: give experiments or --suite, not both\n"));
  const mixed = await runBench(["--suite", "smoke", "--profile", "paper", "--list"]);
  assert.equal(mixed.code, 2);
  assert.ok(mixed.stderr.startsWith("error: --suite smoke runs the suite at profile smoke"));
  assert.ok(!existsSync(out), "nothing written");
  Deno.removeSync(dir, { recursive: true });
});

Deno.test("--suite smoke --list plans the smoke suite", async () => {
  const r = await runBench(["--suite", "smoke", "--list"]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^mnist-mlp\/seed-2 +smoke +60 iterations/m);
  assert.match(r.stdout, /^21 runs; estimated /m);
});

function mnistSmokeSeconds(): number {
  const config = JSON.parse(Deno.readTextFileSync("configs/mnist-mlp.json"));
  const { cost } = config;
  const iterations = config.profiles.smoke["training.budget"].iterations;
  const perIteration = typeof cost.secondsPerIteration === "number"
    ? cost.secondsPerIteration
    : cost.secondsPerIteration[openBlasLoads() ? "wasm+openblas" : "wasm"];
  return cost.fixedSeconds.smoke + perIteration * iterations;
}

function openBlasLoads(): boolean {
  try {
    Deno.dlopen("libopenblas.so.0", {}).close();
    return true;
  } catch {
    return false;
  }
}

Deno.test("an unknown experiment names the nearest one", async () => {
  const r = await runBench(["mnist-mpl", "--list"]);
  assert.equal(r.code, 2);
  assert.match(
    r.stderr,
    /found no experiment named "mnist-mpl" \(did you mean "mnist-mlp"\?\); available: /,
  );
});

Deno.test("serve on a busy port: one line, exit 1, no stack trace", async () => {
  const dir = Deno.makeTempDirSync();
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  try {
    const r = await run("serve", [dir, "--port", String(port)]);
    assert.equal(r.code, 1);
    assert.equal(
      r.stderr,
      `error: port ${port} on 127.0.0.1 is in use; pick another with --port N (0: any free one)\n`,
    );
  } finally {
    listener.close();
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("parseCommand: values, defaults, and what it refuses", () => {
  const spec = {
    name: "x",
    usage: "usage: x",
    options: {
      seed: { type: "string" },
      out: { type: "string", default: "reports" },
      set: { type: "string", multiple: true, default: [] },
      check: { type: "boolean", default: false },
    },
    positionals: { max: 1, what: "folder" },
  } as const;
  const parsed = parseCommand(spec, ["dir", "--seed", "-4", "--set", "a=1", "--set", "b=2"]);
  assert.deepEqual(parsed?.values, {
    seed: "-4",
    out: "reports",
    set: ["a=1", "b=2"],
    check: false,
  });
  assert.deepEqual(parsed?.positionals, ["dir"]);
  // where each flag stood, so a command can drop some of them (bench --emit)
  assert.deepEqual(parsed?.tokens.map((t) => [t.kind, t.index, t.name ?? t.value]), [
    ["positional", 0, "dir"],
    ["option", 1, "seed"],
    ["option", 3, "set"],
    ["option", 5, "set"],
  ]);
  const refuse = (args: string[], message: string) =>
    assert.throws(
      () => parseCommand(spec, args),
      (e) => e instanceof UsageError && e.message === message,
    );
  refuse(["--sed", "1"], "unknown flag --sed (did you mean --seed?)");
  refuse(["-q"], "unknown flag -q");
  refuse(["--out"], "--out needs a value");
  refuse(["--check=no"], '--check takes no value (found "no")');
  refuse(["a", "b"], 'unexpected argument "b": at most 1 folder');
  assert.throws(
    () => parseCommand({ name: "y", usage: "usage: y", options: {} }, ["z"]),
    (e) =>
      e instanceof UsageError &&
      e.message === 'unexpected argument "z" (this command takes flags only)',
  );
});

Deno.test("nearest: a typo finds its word, a different word finds none", () => {
  assert.equal(nearest("--chek", ["--check", "--list", "--jobs"]), "--check");
  assert.equal(nearest("mnist-mpl", ["mnist-mlp", "mnist-tutorial"]), "mnist-mlp");
  assert.equal(nearest("--frobnicate", ["--check", "--list"]), undefined);
});
