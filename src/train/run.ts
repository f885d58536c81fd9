/**
 * The training loop (Algorithm 1 of Goodfellow et al. 2014): per iteration, dSteps
 * discriminator updates, then gSteps generator updates. Reads top to bottom:
 * set-up → one D step → one G step → the loop → evaluation → result.
 *
 * `runExperiment` is a pure function of (config, seed, backend): no global state beyond
 * the TF.js engine, every random number from a named seeded stream, nothing written.
 */
import { type BackendChoice, readFloats, selectBackend } from "../backend/select.ts";
import { type Tensor, tf } from "../backend/tf.ts";
import { collectVersions } from "../backend/versions.ts";
import type { ResolvedConfig } from "../config/load.ts";
import { GAUSSIAN_DATA_DIM, sampleGaussian } from "../data/gaussian.ts";
import { sampleNoise } from "../data/noise.ts";
import { histogram, jensenShannon, summarize } from "../metrics/distribution1d.ts";
import { discriminatorInput, discriminatorInputDim } from "../models/discriminator-input.ts";
import { buildMlp, disposeMlp, forward, type Mlp, namedVariables } from "../models/mlp.ts";
import { Rng } from "../rng/streams.ts";
import { discriminatorLoss, generatorLoss } from "./losses.ts";
import { createOptimizer } from "./optimizers.ts";
import { type Histogram1d, type History, type Result, RESULT_FORMAT } from "./result.ts";

export interface Progress {
  iteration: number;
  iterations: number;
  /** Latest recorded losses (updated every logEvery iterations). */
  dLoss: number | null;
  gLoss: number | null;
}

export interface RunOptions {
  seed: number;
  backend?: BackendChoice;
  signal?: AbortSignal;
  onProgress?: (p: Progress) => void;
}

type Scalars = Record<string, Tensor>;

const HISTORY_SERIES = ["dLoss", "gLoss", "dReal", "dFake", "fakeMean", "fakeStd"] as const;

async function readScalars(scalars: Scalars): Promise<Record<string, number>> {
  const entries = await Promise.all(
    Object.entries(scalars).map(async ([k, t]) => [k, (await readFloats(t))[0]] as const),
  );
  return Object.fromEntries(entries);
}

export async function runExperiment(
  resolved: ResolvedConfig,
  options: RunOptions,
): Promise<Result> {
  const startedAt = new Date();
  const t0 = performance.now();
  const backend = await selectBackend(options.backend ?? "auto");
  const versions = await collectVersions();
  const { config } = resolved;
  const training = config.training;
  const batch = training.batchSize;
  const dataDim = GAUSSIAN_DATA_DIM;
  const noiseDim = config.noise.dim;
  const dInput = config.discriminator.input;

  // ---- models and optimisers, initialised from named streams ----
  const rng = new Rng(options.seed);
  const G = buildMlp(rng, "G", noiseDim, config.generator.layers, config.generator.init);
  const D = buildMlp(
    rng,
    "D",
    discriminatorInputDim(dInput, dataDim, batch),
    config.discriminator.layers,
    config.discriminator.init,
  );
  const gNamed = namedVariables(G), dNamed = namedVariables(D);
  const gVars = gNamed.map(([, v]) => v), dVars = dNamed.map(([, v]) => v);
  const gOpt = createOptimizer(training.optimizers.generator, gVars, gNamed.map(([n]) => n));
  const dOpt = createOptimizer(training.optimizers.discriminator, dVars, dNamed.map(([n]) => n));

  const realStream = rng.stream("train/real");
  const dNoiseStream = rng.stream("train/z/d");
  const gNoiseStream = rng.stream("train/z/g");
  const realBatch = (step: number) =>
    tf.tensor2d(sampleGaussian(config.data, realStream.at(step), batch), [batch, dataDim]);
  const noiseBatch = (stream: typeof dNoiseStream, step: number) =>
    tf.tensor2d(sampleNoise(config.noise, stream.at(step), batch), [batch, noiseDim]);
  const discriminate = (net: Mlp, x: Tensor) =>
    forward(net, discriminatorInput(dInput, x), { logits: true });

  // ---- one discriminator update: real batch vs. a generated batch (G held fixed) ----
  // With `record`, the step also returns the scalars that go into the history.
  const discriminatorStep = (step: number, record: boolean): Scalars =>
    tf.tidy(() => {
      const real = realBatch(step);
      const fake = forward(G, noiseBatch(dNoiseStream, step));
      const stats: Scalars = {};
      const { value, grads } = tf.variableGrads(() => {
        const realLogits = discriminate(D, real);
        const fakeLogits = discriminate(D, fake);
        if (record) {
          // kept: they must outlive the gradient scope; the loop disposes them
          stats.dReal = tf.keep(tf.mean(tf.sigmoid(realLogits)));
          stats.dFake = tf.keep(tf.mean(tf.sigmoid(fakeLogits)));
        }
        return discriminatorLoss(realLogits, fakeLogits, training.dLoss) as tf.Scalar;
      }, dVars);
      dOpt.step(dVars.map((v) => grads[v.name]));
      return record ? { ...stats, dLoss: value } : {};
    });

  // ---- one generator update through D (D held fixed) ----
  const generatorStep = (step: number, record: boolean): Scalars =>
    tf.tidy(() => {
      const z = noiseBatch(gNoiseStream, step);
      const stats: Scalars = {};
      const { value, grads } = tf.variableGrads(() => {
        const fake = forward(G, z);
        if (record) {
          const { mean, variance } = tf.moments(fake);
          stats.fakeMean = tf.keep(mean);
          stats.fakeStd = tf.keep(tf.sqrt(variance));
        }
        return generatorLoss(discriminate(D, fake), training.objective) as tf.Scalar;
      }, gVars);
      gOpt.step(gVars.map((v) => grads[v.name]));
      return record ? { ...stats, gLoss: value } : {};
    });

  // ---- the loop ----
  const history: History = {
    step: [],
    dLoss: [],
    gLoss: [],
    dReal: [],
    dFake: [],
    fakeMean: [],
    fakeStd: [],
  };
  let status: Result["status"] = "completed";
  let divergedAt: number | null = null;
  let last = { dLoss: null as number | null, gLoss: null as number | null };
  try {
    for (let it = 0; it < training.iterations; it++) {
      options.signal?.throwIfAborted();
      const record = (it + 1) % training.logEvery === 0 || it === training.iterations - 1;
      // only the last step of each kind in a recorded iteration returns anything
      let scalars: Scalars = {};
      for (let k = 0; k < training.dSteps; k++) {
        const out = discriminatorStep(
          it * training.dSteps + k,
          record && k === training.dSteps - 1,
        );
        scalars = { ...scalars, ...out };
      }
      for (let k = 0; k < training.gSteps; k++) {
        const out = generatorStep(it * training.gSteps + k, record && k === training.gSteps - 1);
        scalars = { ...scalars, ...out };
      }
      if (record) {
        // one read-back per recorded iteration, not per step
        const values = await readScalars(scalars);
        tf.dispose(Object.values(scalars));
        history.step.push(it + 1);
        for (const key of HISTORY_SERIES) history[key].push(values[key]);
        last = { dLoss: values.dLoss, gLoss: values.gLoss };
        if (!(Number.isFinite(last.dLoss) && Number.isFinite(last.gLoss))) {
          status = "diverged";
          divergedAt = it + 1;
          break;
        }
      }
      options.onProgress?.({ iteration: it + 1, iterations: training.iterations, ...last });
    }

    // ---- evaluation on fresh samples ----
    let metrics: Record<string, number> = {};
    let hist: Histogram1d | null = null;
    if (status === "completed") {
      ({ metrics, histogram: hist } = await evaluateGaussian(resolved, G, rng));
    }

    return {
      format: RESULT_FORMAT,
      experiment: resolved.experiment,
      profile: resolved.profile,
      seed: options.seed,
      config,
      configHash: resolved.configHash,
      backend,
      versions,
      status,
      divergedAt,
      history,
      metrics,
      histogram: hist,
      startedAt: startedAt.toISOString(),
      wallSeconds: (performance.now() - t0) / 1000,
    };
  } finally {
    disposeMlp(G);
    disposeMlp(D);
    gOpt.dispose();
    dOpt.dispose();
  }
}

/** Fake vs. target moments and histogram distance over fresh samples from both. */
async function evaluateGaussian(
  resolved: ResolvedConfig,
  G: Mlp,
  rng: Rng,
): Promise<{ metrics: Record<string, number>; histogram: Histogram1d }> {
  const { config } = resolved;
  const spec = config.metrics;
  const n = spec.samples;
  const z = sampleNoise(config.noise, rng.stream("eval/z").at(0), n);
  const fakeTensor = tf.tidy(() => forward(G, tf.tensor2d(z, [n, config.noise.dim])));
  const fake = await readFloats(fakeTensor);
  fakeTensor.dispose();
  const real = sampleGaussian(config.data, rng.stream("eval/real").at(0), n);
  const f = summarize(fake), r = summarize(real);
  const realCounts = histogram(real, spec.histogram);
  const fakeCounts = histogram(fake, spec.histogram);
  return {
    metrics: {
      fakeMean: f.mean,
      fakeStd: f.std,
      meanAbsError: Math.abs(f.mean - config.data.mean),
      stdAbsError: Math.abs(f.std - config.data.std),
      realSampleMean: r.mean,
      realSampleStd: r.std,
      jsdBits: jensenShannon(realCounts, fakeCounts),
    },
    histogram: { ...spec.histogram, real: realCounts, fake: fakeCounts },
  };
}
