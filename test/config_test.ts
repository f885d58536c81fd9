/**
 * Config validation: every kind of malformed config gets one message that names the
 * file, the JSON path, what was found and what is allowed — through the API and through
 * the CLI (exit code 2, nothing written).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { ConfigError } from "../src/config/errors.ts";
import {
  canonicalJson,
  CONFIG_DIR,
  hashJson,
  listConfigs,
  loadConfig,
} from "../src/config/load.ts";
import { runBench } from "./helpers.ts";

const base = JSON.parse(Deno.readTextFileSync(join(CONFIG_DIR, "gaussian-moments.json")));

// Mutations reach into arbitrary depths of the JSON; typing them buys nothing here.
// deno-lint-ignore no-explicit-any
type Mutation = (c: Record<string, any>) => unknown;

interface BadCase {
  name: string;
  /** A mutation of the base config, or raw file text. */
  edit?: Mutation;
  text?: string;
  args?: string[];
  /** Fragments the message must contain, in addition to the file name. */
  expect: string[];
}

const BAD_CONFIGS: BadCase[] = [
  {
    name: "malformed JSON (trailing comma)",
    text: '{\n  "description": "x",\n}\n',
    expect: ["malformed JSON at line 3", "no comments or trailing commas"],
  },
  {
    name: "top level is not an object",
    text: "[1, 2]",
    expect: ["at $: found [1,2] (array)", "expected an object"],
  },
  {
    name: "unknown top-level key",
    edit: (c) => (c.seeed = 3),
    expect: ['at $: found unknown key "seeed"', "known keys here: description, source"],
  },
  {
    name: "unknown nested key with a typo",
    edit: (c) => (c.generator.layers[1].unit = 5),
    expect: ['at $.generator.layers[1]: found unknown key "unit" (did you mean "units"?)'],
  },
  {
    name: "wrong type",
    edit: (c) => (c.training.batchSize = "500"),
    expect: ['at $.training.batchSize: found "500" (string)', "expected a number"],
  },
  {
    name: "out-of-range value",
    edit: (c) => (c.training.optimizers.discriminator.lr = -0.001),
    expect: [
      "at $.training.optimizers.discriminator.lr: found -0.001 (number)",
      "expected a number > 0",
    ],
  },
  {
    name: "momentum at its exclusive bound",
    edit: (c) => (c.training.optimizers.generator.momentum = 1),
    expect: [
      "at $.training.optimizers.generator.momentum: found 1 (number)",
      "expected a number < 1",
    ],
  },
  {
    name: "missing field",
    edit: (c) => delete c.source,
    expect: ["at $.source: found nothing (the field is missing)", "expected a string"],
  },
  {
    name: "empty source",
    edit: (c) => (c.source = ""),
    expect: ['at $.source: found "" (string)', "expected a non-empty string"],
  },
  {
    name: "value not in the enum",
    edit: (c) => (c.training.objective = "maximin"),
    expect: [
      'at $.training.objective: found "maximin" (string)',
      'expected one of "non-saturating", "minimax"',
    ],
  },
  {
    name: "unknown kind in a tagged union",
    edit: (c) => (c.discriminator.input = { kind: "moment" }),
    expect: [
      'at $.discriminator.input.kind: found "moment" (string)',
      '"identity", "moments", "data-and-diffs"',
    ],
  },
  {
    name: "non-integer count",
    edit: (c) => (c.training.dSteps = 1.5),
    expect: ["at $.training.dSteps: found 1.5 (number)", "expected an integer"],
  },
  {
    name: "empty layer list",
    edit: (c) => (c.generator.layers = []),
    expect: ["at $.generator.layers: found [] (array)", "expected at least 1 item(s)"],
  },
  {
    name: "inconsistent range",
    edit: (c) => (c.noise.high = -1),
    expect: ["at $.noise.high: found -1 (number)", "high must be greater than low"],
  },
  {
    name: "two budgets at once",
    edit: (c) => (c.training.budget = { iterations: 10, epochs: 2 }),
    expect: ["at $.training.budget", 'give exactly one of "iterations" and "epochs"'],
  },
  {
    name: "simultaneous update with several D steps",
    edit: (c) => (c.training.update = "simultaneous"),
    expect: ["at $.training.dSteps: found 20 (number)", "set dSteps and gSteps to 1"],
  },
  {
    name: "--set with an out-of-range value",
    args: ["--set", "training.budget.iterations=0"],
    expect: [
      "with --set training.budget.iterations=0",
      "at $.training.budget.iterations: found 0 (number)",
      "≥ 1",
    ],
  },
  {
    name: "--set into a number",
    args: ["--set", "training.batchSize.max=3"],
    expect: ["at $.training.batchSize: found 500 (number)", 'cannot set "max" inside it'],
  },
  {
    name: "--set without '='",
    args: ["--set", "training.iterations"],
    expect: ['found --set "training.iterations"', "expected --set path=value"],
  },
  {
    name: "unknown profile",
    args: ["--profile", "huge"],
    expect: ['at $.profiles: found no profile "huge"', "declared profiles: paper, smoke"],
  },
];

function writeCase(dir: string, c: BadCase): string {
  const file = join(dir, `${c.name.replace(/\W+/g, "-")}.json`);
  let text = c.text;
  if (text === undefined) {
    const cfg = structuredClone(base);
    c.edit?.(cfg);
    text = JSON.stringify(cfg, null, 2);
  }
  Deno.writeTextFileSync(file, text);
  return file;
}

function apiOptions(args: string[] = []) {
  const overrides: string[] = [];
  let profile: string | undefined;
  for (let i = 0; i < args.length; i += 2) {
    if (args[i] === "--set") overrides.push(args[i + 1]);
    if (args[i] === "--profile") profile = args[i + 1];
  }
  return { overrides, profile };
}

Deno.test("every shipped config validates and declares its source", () => {
  const names = listConfigs();
  assert.ok(names.includes("gaussian-moments") && names.includes("gaussian-moments-blog"));
  for (const name of names) {
    const r = loadConfig(name);
    assert.ok(r.config.source.length > 20, `${name}: source too short`);
    assert.match(r.configHash, /^[0-9a-f]{64}$/);
  }
});

Deno.test("malformed configs: API error names file, JSON path, found and allowed", async (t) => {
  const dir = Deno.makeTempDirSync();
  for (const c of BAD_CONFIGS) {
    await t.step(c.name, () => {
      const file = writeCase(dir, c);
      assert.throws(() => loadConfig(file, apiOptions(c.args)), (e: unknown) => {
        assert.ok(e instanceof ConfigError, String(e));
        assert.ok(e.message.startsWith(file), `message should start with the file: ${e.message}`);
        for (const fragment of c.expect) {
          assert.ok(e.message.includes(fragment), `missing "${fragment}" in:\n${e.message}`);
        }
        return true;
      });
    });
  }
  Deno.removeSync(dir, { recursive: true });
});

Deno.test("malformed configs through the CLI: exit 2, message on stderr, nothing written", async (t) => {
  const dir = Deno.makeTempDirSync();
  const out = join(dir, "out");
  for (const c of BAD_CONFIGS) {
    await t.step(c.name, async () => {
      const file = writeCase(dir, c);
      const r = await runBench([file, "--out", out, ...(c.args ?? [])]);
      assert.equal(r.code, 2, r.stderr);
      assert.ok(r.stderr.includes(file), r.stderr);
      for (const fragment of c.expect) {
        assert.ok(r.stderr.includes(fragment), `missing "${fragment}" in:\n${r.stderr}`);
      }
      assert.equal(r.stdout, "");
      assert.throws(() => Deno.statSync(out), Deno.errors.NotFound);
    });
  }
  Deno.removeSync(dir, { recursive: true });
});

Deno.test("CLI: unknown experiment lists the available ones; bad flags exit 2", async () => {
  let r = await runBench(["no-such-experiment"]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /unknown experiment/);
  assert.match(r.stderr, /available: .*gaussian-moments/);
  r = await runBench(["gaussian-moments", "--backend", "tpu"]);
  assert.equal(r.code, 2);
  assert.match(
    r.stderr,
    /--backend: found "tpu"; expected one of auto, webgpu, wasm\+openblas, wasm, cpu/,
  );
  r = await runBench(["gaussian-moments", "--seed", "-4"]);
  assert.equal(r.code, 2);
  r = await runBench(["gaussian-moments", "--frobnicate"]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /frobnicate/);
  r = await runBench(["--help"]);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /usage: deno task bench/);
});

Deno.test("overrides and profiles change the resolved config and its hash", () => {
  const paper = loadConfig("gaussian-moments");
  const smoke = loadConfig("gaussian-moments", { profile: "smoke" });
  assert.equal(smoke.config.training.budget.iterations, 300);
  assert.notEqual(smoke.configHash, paper.configHash);
  const set = loadConfig("gaussian-moments", { overrides: ["training.budget.iterations=300"] });
  assert.equal(set.configHash, smoke.configHash, "same resolved config, same hash");
  const lr = loadConfig("gaussian-moments", {
    overrides: ["training.optimizers.generator.lr=0.01", "discriminator.layers[0].units=7"],
  });
  assert.equal(lr.config.training.optimizers.generator.lr, 0.01);
  assert.deepEqual(lr.config.discriminator.layers[0], {
    type: "dense",
    units: 7,
    activation: "sigmoid",
  });
  assert.equal(paper.config.training.optimizers.generator.lr, 0.001, "the original is untouched");
});

Deno.test("--set of one span unit replaces the other (a budget in epochs set in iterations)", () => {
  const paper = loadConfig("mnist-mlp");
  assert.deepEqual(paper.config.training.budget, { epochs: 750 });
  const iterations = loadConfig("mnist-mlp", { overrides: ["training.budget.iterations=7"] });
  assert.deepEqual(iterations.config.training.budget, { iterations: 7 });
  assert.equal(iterations.variant, false, "a budget change is the same run, extended");
  const back = loadConfig("mnist-mlp", {
    overrides: ["training.budget.iterations=7", "training.budget.epochs=3"],
  });
  assert.deepEqual(back.config.training.budget, { epochs: 3 });
  const every = (c: typeof paper) =>
    (c.config.metrics as { track?: { every: unknown } }).track?.every;
  const track = loadConfig("mnist-mlp", { overrides: ["metrics.track.every.iterations=500"] });
  assert.deepEqual(every(track), { iterations: 500 });
  assert.deepEqual(every(paper), { epochs: 25 }, "the original is untouched");
});

Deno.test("canonical JSON ignores key order", () => {
  assert.equal(
    canonicalJson({ b: 1, a: { d: [2, { f: 1, e: 0 }], c: 3 } }),
    '{"a":{"c":3,"d":[2,{"e":0,"f":1}]},"b":1}',
  );
  assert.equal(hashJson({ a: 1, b: 2 }), hashJson({ b: 2, a: 1 }));
});
