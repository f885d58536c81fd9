/** Configs an editor understands: the generated JSON Schema, "extends", and variant folders. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { ConfigError } from "../src/config/errors.ts";
import { merge } from "../src/config/extends.ts";
import { configJsonSchemaText, SCHEMA_FILE } from "../src/config/json-schema.ts";
import { budgetFreeHash, CONFIG_DIR, listConfigs, loadConfig } from "../src/config/load.ts";
import { planTasks } from "../src/cli/plan.ts";

Deno.test("configs/schema.json is what the zod schema generates (deno task schema)", () => {
  assert.equal(
    Deno.readTextFileSync(SCHEMA_FILE),
    configJsonSchemaText(),
    "configs/schema.json is stale: run deno task schema",
  );
  const schema = JSON.parse(configJsonSchemaText());
  const config = schema.$defs.config;
  assert.deepEqual(config.required, [
    "description",
    "source",
    "data",
    "noise",
    "generator",
    "discriminator",
    "training",
    "metrics",
  ]);
  assert.equal(config.additionalProperties, false);
  assert.ok(config.properties.$schema && config.properties.extends);
  // a config that extends another gives only what it changes: nothing required, anywhere
  assert.ok(!JSON.stringify(schema.$defs.variant).includes('"required"'));
  assert.deepEqual(schema.if, { required: ["extends"] });
});

Deno.test("every config names the schema, and schema.json is not taken for an experiment", () => {
  assert.ok(!listConfigs().includes("schema"));
  for (const name of listConfigs()) {
    const raw = JSON.parse(Deno.readTextFileSync(join(CONFIG_DIR, `${name}.json`)));
    assert.equal(raw.$schema, "./schema.json", name);
  }
});

Deno.test("merge: objects merge key by key, arrays and scalars replace", () => {
  assert.deepEqual(
    merge({ a: { b: 1, c: [1, 2] }, d: 1 }, { a: { c: [3] }, e: null }),
    { a: { b: 1, c: [3] }, d: 1, e: null },
  );
  // another option of a union replaces the object: its fields would not belong
  assert.deepEqual(
    merge({ init: { kind: "uniform", irange: 0.05 } }, { init: { kind: "normal", std: 0.01 } }),
    { init: { kind: "normal", std: 0.01 } },
  );
  assert.deepEqual(
    merge({ init: { kind: "sparse", count: 15, std: 1 } }, { init: { kind: "sparse", std: 0.5 } }),
    { init: { kind: "sparse", count: 15, std: 0.5 } },
  );
});

function writeConfigs(files: Record<string, unknown>): string {
  const dir = Deno.makeTempDirSync();
  for (const [name, value] of Object.entries(files)) {
    Deno.writeTextFileSync(join(dir, name), JSON.stringify(value));
  }
  return dir;
}

Deno.test("extends: the child's changes over the parent, validated once merged", () => {
  const dir = writeConfigs({
    "wide.json": {
      $schema: "../configs/schema.json",
      extends: "mnist-mlp",
      description: "mnist-mlp with batches of 50",
      training: { batchSize: 50 },
    },
    "wider.json": { extends: "./wide.json", generator: { init: { kind: "normal", std: 0.01 } } },
  });
  const parent = loadConfig("mnist-mlp");
  const wide = loadConfig(join(dir, "wide.json"));
  assert.equal(wide.experiment, "wide");
  assert.equal(wide.config.training.batchSize, 50);
  assert.equal(wide.config.description, "mnist-mlp with batches of 50");
  // everything else is the parent's
  assert.deepEqual(
    { ...wide.config, description: "", training: { ...wide.config.training, batchSize: 0 } },
    {
      ...parent.config,
      description: "",
      training: { ...parent.config.training, batchSize: 0 },
    },
  );
  assert.deepEqual(wide.parents, [join(CONFIG_DIR, "mnist-mlp.json")]);
  const wider = loadConfig(join(dir, "wider.json"));
  assert.deepEqual(wider.config.generator.init, { kind: "normal", std: 0.01 });
  assert.equal(wider.config.training.batchSize, 50);
  assert.deepEqual(wider.parents, [join(dir, "wide.json"), join(CONFIG_DIR, "mnist-mlp.json")]);
  // profiles come along: the parent's smoke budget applies to the child
  assert.equal(
    loadConfig(join(dir, "wide.json"), { profile: "smoke" }).config.training.budget.iterations,
    loadConfig("mnist-mlp", { profile: "smoke" }).config.training.budget.iterations,
  );
  Deno.removeSync(dir, { recursive: true });
});

Deno.test("extends: bands are inherited only where marked for variants", () => {
  const raw = JSON.parse(Deno.readTextFileSync(join(CONFIG_DIR, "gaussian-moments.json")));
  const [first, ...rest] = raw.expect.smoke;
  const dir = writeConfigs({
    "base.json": { ...raw, expect: { smoke: [{ ...first, variants: true }, ...rest] } },
    "child.json": { extends: "./base.json", description: "a child" },
  });
  assert.equal(
    loadConfig(join(dir, "base.json"), { profile: "smoke" }).expect.length,
    raw.expect.smoke.length,
  );
  const child = loadConfig(join(dir, "child.json"), { profile: "smoke" });
  assert.deepEqual(child.expect.map((b) => b.metric), [first.metric]);
  assert.equal(child.bandsNotInherited, raw.expect.smoke.length - 1);
  Deno.removeSync(dir, { recursive: true });
});

Deno.test("extends: errors name the file that holds the value; cycles and unknown parents are refused", () => {
  const dir = writeConfigs({
    "bad-parent.json": { extends: "gaussian-moments", training: { batchSize: 0 } },
    "child.json": { extends: "./bad-parent.json", training: { logEvery: -1 } },
    "a.json": { extends: "./b.json" },
    "b.json": { extends: "./a.json" },
    "typo.json": { extends: "gausian-moments" },
    "number.json": { extends: 3 },
  });
  const refused = (file: string, ...fragments: string[]) => {
    assert.throws(() => loadConfig(join(dir, file)), (e) => {
      assert.ok(e instanceof ConfigError, String(e));
      for (const f of fragments) assert.ok(e.message.includes(f), `"${f}" not in:\n${e.message}`);
      return true;
    });
  };
  refused(
    "child.json",
    `${join(dir, "child.json")}: invalid config`,
    "at $.training.logEvery: found -1 (number)",
    `at $.training.batchSize (inherited from ${join(dir, "bad-parent.json")}): found 0 (number)`,
  );
  refused(
    "a.json",
    `at $.extends: found a cycle: ${join(dir, "a.json")} → ${join(dir, "b.json")} → ${
      join(dir, "a.json")
    }`,
  );
  refused(
    "typo.json",
    'found "gausian-moments", which is not a readable config',
    '(did you mean "gaussian-moments"?)',
  );
  refused("number.json", "at $.extends: found 3 (number); expected a config name");
  Deno.removeSync(dir, { recursive: true });
});

Deno.test("variant folders: --set beyond the budget gets <experiment>+<hash>; a budget change keeps the folder", () => {
  const plain = loadConfig("gaussian-moments");
  assert.equal(plain.folder, "gaussian-moments");
  assert.equal(plain.variant, false);
  const budget = loadConfig("gaussian-moments", { overrides: ["training.budget.iterations=77"] });
  assert.equal(budget.folder, "gaussian-moments", "an extension resumes in the same folder");
  assert.equal(budget.variant, false);
  const lr = loadConfig("gaussian-moments", {
    overrides: ["training.optimizers.generator.lr=0.01", "training.budget.iterations=77"],
  });
  assert.equal(lr.folder, `gaussian-moments+${budgetFreeHash(lr.config).slice(0, 8)}`);
  assert.equal(lr.variant, true);
  const lrOnly = loadConfig("gaussian-moments", {
    overrides: ["training.optimizers.generator.lr=0.01"],
  });
  assert.equal(lrOnly.folder, lr.folder, "the budget is not part of the folder's hash");
  // setting a field to the value it has is no variant
  const same = loadConfig("gaussian-moments", {
    overrides: [`training.batchSize=${plain.config.training.batchSize}`],
  });
  assert.equal(same.folder, "gaussian-moments");
  // a profile is declared in the config: the same folder as the paper profile
  assert.equal(loadConfig("gaussian-moments", { profile: "smoke" }).folder, "gaussian-moments");

  const out = "/out";
  const tasks = planTasks({
    experiments: ["tfd-mlp"],
    seeds: [1],
    profile: "smoke",
    overrides: ["training.logEvery=5"],
    out,
  });
  const pre = loadConfig("tfd-mlp-pretrain", {
    profile: "smoke",
    overrides: ["training.logEvery=5"],
  });
  const tfd = loadConfig("tfd-mlp", { profile: "smoke", overrides: ["training.logEvery=5"] });
  assert.deepEqual(tasks.map((t) => [t.key, t.dir, t.after, t.afterDir]), [
    [`${pre.folder}/seed-1`, join(out, pre.folder, "seed-1"), null, null],
    [
      `${tfd.folder}/seed-1`,
      join(out, tfd.folder, "seed-1"),
      `${pre.folder}/seed-1`,
      join(out, pre.folder, "seed-1"),
    ],
  ]);
  assert.notEqual(pre.folder, "tfd-mlp-pretrain");
});
