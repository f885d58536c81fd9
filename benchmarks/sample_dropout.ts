/**
 * The Parzen protocol on a run's generator sampled two ways: as every metric samples it (no
 * dropout: the inverted-dropout "mean network") and with G's training dropout on, a fresh mask
 * per sample from the `eval/g-dropout` stream. A diagnostic for configs whose G has dropout
 * (the conditional GAN, docs/conditional.md §4): beside the protocol's number, never instead.
 */
import { selectBackend } from "../src/backend/select.ts";
import { tf } from "../src/backend/tf.ts";
import { invocation, orExit, parseOrExit, positiveInteger, UsageError } from "../src/cli/args.ts";
import { loadConfig, type ResolvedConfig } from "../src/config/load.ts";
import { conditionWidth, cyclicLabels } from "../src/data/labels.ts";
import { openRealData } from "../src/data/real-data.ts";
import {
  classify,
  disposeClassifier,
  mnistClassifierSpec,
  trainedClassifier,
} from "../src/metrics/classifier.ts";
import { DIAGNOSTIC_SIGMA_GRIDS, PAPER_SIGMAS, parzenEstimates } from "../src/metrics/parzen.ts";
import { classScores } from "../src/metrics/sample-scores.ts";
import { networkTensors } from "../src/models/network.ts";
import { readCheckpoint, readMilestone } from "../src/record/run-folder.ts";
import { Rng } from "../src/rng/streams.ts";
import { sampleGenerator } from "../src/train/evaluate.ts";
import { assignFrom, buildModels } from "../src/train/models.ts";

const SCRIPT = "benchmarks/sample_dropout.ts";
const USAGE = `usage: ${invocation(SCRIPT)} RUN_DIR [--milestone N] [--samples N] [--json]

Scores a run's generator (its latest checkpoint, finished or not, or the milestone kept at
iteration N) twice: sampled as every metric samples it (no dropout) and with G's training
dropout on (a fresh mask per sample, stream eval/g-dropout). Each with the Parzen protocol and,
on MNIST, the harness classifier (its score; for a conditional G the share of samples it calls
by their label). Both use the run's own eval/z noise and labels, so the first equals the run's
own score. For configs whose G has dropout (generator.dropout), e.g. mnist-cgan; runs since 8
December 2026 record the second Parzen number themselves (parzenMeanWithGDropout).

  --milestone N  the milestone kept at iteration N instead of checkpoints/latest.ckpt
  --samples N    samples of each kind (default: the config's metrics.parzen.samples)
  --json         one JSON line instead of the table

exit codes: 0 scored, 1 scoring failed, 2 bad flag or argument, 3 no checkpoint, or no G dropout
`;

const { dir, milestone, samples, json } = orExit(SCRIPT, () => {
  const { positionals, values } = parseOrExit({
    name: SCRIPT,
    usage: USAGE,
    options: {
      milestone: { type: "string" },
      samples: { type: "string" },
      json: { type: "boolean", default: false },
    },
    positionals: { max: 1, what: "arguments (RUN_DIR)" },
  }, Deno.args);
  if (positionals.length === 0) throw new UsageError("give RUN_DIR, a run folder");
  return {
    dir: positionals[0],
    milestone: values.milestone === undefined
      ? null
      : positiveInteger("--milestone", values.milestone),
    samples: values.samples === undefined ? null : positiveInteger("--samples", values.samples),
    json: values.json,
  };
});

function refuse(message: string): never {
  console.error(`error: ${message}`);
  Deno.exit(3);
}

const checkpoint = milestone === null ? readCheckpoint(dir) : readMilestone(dir, milestone);
if (!checkpoint) {
  refuse(`${dir}: no ${milestone === null ? "checkpoints/latest.ckpt" : `milestone ${milestone}`}`);
}
const header = checkpoint.header;
if (!header.config) refuse(`${dir}: its checkpoint is from before checkpoints held the config`);
// the run's own resolved config (a variant's --set included), from its checkpoint
const resolved = { ...loadConfig(header.experiment), config: header.config } as ResolvedConfig;
const { config } = resolved;
const dropout = config.generator.dropout;
if (!dropout) refuse(`${header.experiment}: G has no dropout (generator.dropout) to sample with`);
const parzen = config.metrics.kind === "image-stats" ? config.metrics.parzen : null;
if (!parzen) refuse(`${header.experiment}: no Parzen protocol (metrics.parzen) to score with`);

await selectBackend("wasm+openblas");
const rng = new Rng(header.seed);
const real = openRealData(config.data, rng, config.training.batchSize);
const { G, D } = buildModels(resolved, rng, real, undefined);
assignFrom(checkpoint, networkTensors(G));
const n = samples ?? parzen.samples, classes = conditionWidth(config);
const labels = classes ? cyclicLabels(n, classes) : null;
const held = real.heldOut!;
// the harness classifier (MNIST: cached once per machine) for the samples' classes
const classifier = config.data.kind === "mnist" && real.dataset
  ? await trainedClassifier(real.dataset, mnistClassifierSpec())
  : null;
const unit = (a: Float32Array) => real.toUnit ? a.map(real.toUnit) : a;
const validation = unit(held.firstRows("validation", parzen.validation ?? held.validation.count));
const test = unit(held.test.images);

async function score(withDropout: boolean) {
  // the run's own samples (eval/z, its labels), as its evaluation draws them
  const out = await sampleGenerator(G, config, rng, n, undefined, withDropout);
  let sum = 0, squares = 0;
  for (const v of out) {
    sum += v;
    squares += v * v;
  }
  const mean = sum / out.length;
  const estimates = await parzenEstimates(unit(out), validation, test, real.dim, {
    protocol: PAPER_SIGMAS,
    ...DIAGNOSTIC_SIGMA_GRIDS,
  });
  const brief = (k: keyof typeof estimates) => ({
    mean: estimates[k].mean,
    se: estimates[k].se,
    sigma: estimates[k].sigma,
  });
  let classifierScore = null, labelAgreement = null;
  if (classifier) {
    const { probs } = await classify(classifier, unit(out), real.dim);
    classifierScore = classScores(probs, 10).score;
    if (labels) {
      let agree = 0;
      for (let i = 0; i < n; i++) {
        const p = probs.subarray(10 * i, 10 * i + 10);
        agree += +(p.indexOf(Math.max(...p)) === labels[i]);
      }
      labelAgreement = agree / n;
    }
  }
  return {
    dropout: withDropout,
    parzen: brief("protocol"),
    fine: brief("fine"),
    pixelMean: mean,
    pixelStd: Math.sqrt(squares / out.length - mean * mean),
    classifierScore,
    /** A conditional G's samples the classifier calls by their label (null otherwise). */
    labelAgreement,
  };
}

try {
  const rows = [await score(false), await score(true)];
  const iteration = header.iteration;
  if (json) {
    console.log(
      JSON.stringify({ run: dir, experiment: header.experiment, iteration, samples: n, rows }),
    );
  } else {
    const f = (x: number, d = 1) => x.toFixed(d);
    console.log(
      `${dir} (${header.experiment}, seed ${header.seed}, iteration ${header.iteration}), ${n} samples of each kind`,
    );
    console.log(
      "| G sampled | Parzen (nats) | σ | fine-grid Parzen | pixel mean / std | classifier score " +
        "| by their label |",
    );
    console.log("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
    for (const r of rows) {
      console.log(
        `| ${r.dropout ? "with its training dropout" : "without dropout (the metrics')"} | ` +
          `${f(r.parzen.mean)} ± ${f(r.parzen.se)} | ${f(r.parzen.sigma, 3)} | ` +
          `${f(r.fine.mean)} (σ ${f(r.fine.sigma, 3)}) | ${f(r.pixelMean, 3)} / ` +
          `${f(r.pixelStd, 3)} | ${r.classifierScore === null ? "" : f(r.classifierScore, 2)} | ` +
          `${r.labelAgreement === null ? "" : f(r.labelAgreement, 3)} |`,
      );
    }
  }
} catch (e) {
  console.error(`error: scoring failed: ${(e as Error).message}`);
  Deno.exit(1);
} finally {
  if (classifier) disposeClassifier(classifier);
  tf.dispose([...networkTensors(G).map(([, v]) => v), ...networkTensors(D).map(([, v]) => v)]);
}
