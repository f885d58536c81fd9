/**
 * The two networks of a run, initialised from named streams, and the stacked-training restore:
 * a generator that builds on an earlier stage takes that stage's final layers.
 */
import { tf, type Variable } from "../backend/tf.ts";
import type { ResolvedConfig } from "../config/load.ts";
import { conditionWidth } from "../data/labels.ts";
import { logitOfMeans, type RealData } from "../data/real-data.ts";
import { checkGeneratorOutput, discriminatorInputDim } from "../models/shapes.ts";
import {
  buildNetwork,
  disposeNetwork,
  type Network,
  networkParams,
  type Param,
} from "../models/network.ts";
import { restoreTensors } from "../models/tensor-state.ts";
import type { Rng } from "../rng/streams.ts";
import type { Checkpoint } from "../record/checkpoint.ts";

export interface Models {
  G: Network;
  D: Network;
  gParams: Param[];
  dParams: Param[];
}

/** G and D for `resolved`, G restored from `pretrained` where the config stacks stages. */
export function buildModels(
  resolved: ResolvedConfig,
  rng: Rng,
  real: RealData,
  pretrained: Checkpoint | undefined,
): Models {
  const { config } = resolved;
  // a conditional G and D take the label's one-hot vector after their usual input
  const labels = conditionWidth(config);
  const G = buildNetwork(
    rng,
    "G",
    config.noise.dim + labels,
    config.generator.layers,
    config.generator.init,
    {
      marginalBias: config.generator.layers.some((l) => "bias" in l && l.bias === "marginals")
        ? logitOfMeans(real.pixelMeans())
        : undefined,
    },
  );
  try {
    checkGeneratorOutput(resolved, G.outputDim, real.dim);
  } catch (e) {
    disposeNetwork(G);
    throw e;
  }
  const D = buildNetwork(
    rng,
    "D",
    labels + discriminatorInputDim(
      config.discriminator.input,
      real.dim,
      config.training.batchSize,
      config.training.pack,
    ),
    config.discriminator.layers,
    config.discriminator.init,
  );
  const gParams = networkParams(G), dParams = networkParams(D);
  const stacked = config.generator.pretrained;
  if (stacked) {
    if (!pretrained) {
      disposeNetwork(G);
      disposeNetwork(D);
      throw new Error(
        `${resolved.experiment} builds on ${stacked.experiment}: pass its final checkpoint`,
      );
    }
    restorePretrained(pretrained, gParams, stacked);
  }
  return { G, D, gParams, dParams };
}

/** G/h{j} of the earlier stage becomes G/h{j + into} here. */
function restorePretrained(
  pretrained: Checkpoint,
  gParams: Param[],
  stacked: { experiment: string; into: number },
): void {
  const source = pretrained.header.tensors.filter((t) => /^G\/h\d+\/[Wb]$/.test(t.name));
  const renamed = source.map(({ name }) => {
    const j = Number(/^G\/h(\d+)\//.exec(name)![1]);
    const target = name.replace(/^G\/h\d+\//, `G/h${j + stacked.into}/`);
    const param = gParams.find((p) => p.name === target);
    if (!param) {
      throw new Error(
        `${stacked.experiment}'s ${name} has no place in this generator (${target})`,
      );
    }
    return [name, param.variable] as [string, Variable];
  });
  assignFrom(pretrained, renamed);
}

/** Writes a checkpoint's values into the named variables. */
export function assignFrom(cp: Checkpoint, named: [string, Variable][]): void {
  restoreTensors(cp, named, (v, values) => tf.tidy(() => v.assign(tf.tensor(values, v.shape))));
}
