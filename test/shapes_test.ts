/**
 * The shape table computed from a config alone (src/models/shapes.ts): its parameter
 * counts are those of the networks TF.js builds, for every shipped config; a layer that
 * does not fit, or a generator that does not fit the data, is refused by bench before
 * anything is written, in one line naming the config file and the layer's JSON path (exit
 * 2); --dry-run prints the table.
 */
import * as assert from "node:assert/strict";
import { join } from "node:path";
import { selectBackend } from "../src/backend/select.ts";
import { EXIT } from "../src/cli/exit.ts";
import { CONFIG_DIR, listConfigs, loadConfig } from "../src/config/load.ts";
import { dataDim } from "../src/data/dims.ts";
import { conditionWidth } from "../src/data/labels.ts";
import { buildNetwork, disposeNetwork, parameterCount } from "../src/models/network.ts";
import { discriminatorInputDim, modelShapes } from "../src/models/shapes.ts";
import { Rng } from "../src/rng/streams.ts";
import { runBench } from "./helpers.ts";

await selectBackend("wasm");

Deno.test("the shape table's parameter counts are those of the built networks, every shipped config", () => {
  for (const name of listConfigs()) {
    const { config } = loadConfig(name, { profile: "smoke" });
    const { G, D } = modelShapes({ file: name, config });
    const dim = dataDim(config.data.kind);
    const labels = conditionWidth(config); // a conditional G and D also take y, one-hot
    const rng = new Rng(1);
    const g = buildNetwork(
      rng,
      "G",
      config.noise.dim + labels,
      config.generator.layers,
      config.generator.init,
      {
        marginalBias: new Float32Array(dim).fill(0.1),
      },
    );
    const dInput = labels + discriminatorInputDim(
      config.discriminator.input,
      dim,
      config.training.batchSize,
      config.training.pack,
    );
    const d = buildNetwork(
      rng,
      "D",
      dInput,
      config.discriminator.layers,
      config.discriminator.init,
    );
    assert.equal(G.params, parameterCount(g), `${name} G`);
    assert.equal(D.params, parameterCount(d), `${name} D`);
    assert.deepEqual(
      G.layers.map((l) => l.params),
      g.layers.map((l) => l.params.reduce((n, p) => n + p.variable.size, 0)),
      `${name} G per layer`,
    );
    assert.equal(G.outputDim, dim, name);
    disposeNetwork(g);
    disposeNetwork(d);
  }
});

Deno.test("--dry-run prints each network's shapes and parameters", async () => {
  const r = await runBench(["gaussian-moments", "--dry-run", "--profile", "smoke"]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(
    r.stdout,
    [
      "gaussian-moments (smoke, seeds 1): ok: sampled gaussian data; 300 iterations per seed",
      "  G input     1",
      "  G/h0 dense  5  10",
      "  G/h1 dense  5  30",
      "  G/h2 dense  1   6",
      "  G total        46",
      "  D input     4",
      "  D/h0 dense  10   50",
      "  D/h1 dense  10  110",
      "  D/h2 dense  1    11",
      "  D total         171",
      "",
    ].join("\n"),
  );
});

Deno.test("a layer or a generator that does not fit is refused before anything is written: one line, file and JSON path, exit 2", async () => {
  const out = join(Deno.makeTempDirSync(), "out");
  const file = join(CONFIG_DIR, "cifar10-conv.json");
  const cases: [string, string][] = [
    // a deconv whose output is not one CIFAR-10 image: 3×33×33 with kernel 6
    [
      "generator.layers[3].kernel=6",
      `${file}: the generator does not fit the data; at $.generator.layers[3]: found an output ` +
      "of 3267 values per example; the data have 3072: the last layer must output as many",
    ],
    // a conv kernel larger than its (padded) input
    [
      "discriminator.layers[3].kernel=14",
      `${file}: a layer does not fit; at $.discriminator.layers[3]: found that a 14×14 kernel ` +
      "does not fit its 7×7 input padded by 3 (D/h3); each layer must fit the output of the " +
      "one before it",
    ],
    // a reshape of the wrong size
    [
      "discriminator.layers[0].shape=[3,32,31]",
      `${file}: a layer does not fit; at $.discriminator.layers[0]: found that cannot reshape ` +
      "3072 values to 3×32×31 (D/h0); each layer must fit the output of the one before it",
    ],
  ];
  for (const [set, message] of cases) {
    for (const mode of [[], ["--dry-run"]]) {
      const r = await runBench(["cifar10-conv", ...mode, "--out", out, "--set", set]);
      assert.equal(r.code, EXIT.usage, r.stderr);
      assert.equal(r.stderr, `error: ${message}\n`, set);
      assert.equal(r.stdout, "");
    }
  }
  assert.throws(() => Deno.statSync(out), Deno.errors.NotFound, "nothing written");
});
