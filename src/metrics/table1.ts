/**
 * The paper and its Table 1 (docs/paper-protocol.md §4): Parzen-window log-likelihood,
 * mean ± SE, of each model on MNIST and TFD. Evaluation compares a run with the
 * adversarial nets' row; the index page shows every row.
 */

export const PAPER = "Goodfellow et al., Generative Adversarial Nets, NIPS 2014 (arXiv:1406.2661)";

export const TABLE1 = [
  { model: "DBN", mnist: { mean: 138, se: 2 }, tfd: { mean: 1909, se: 66 } },
  { model: "Stacked CAE", mnist: { mean: 121, se: 1.6 }, tfd: { mean: 2110, se: 50 } },
  { model: "Deep GSN", mnist: { mean: 214, se: 1.1 }, tfd: { mean: 1890, se: 29 } },
  { model: "Adversarial nets", mnist: { mean: 225, se: 2 }, tfd: { mean: 2057, se: 26 } },
] as const;

/** The paper's own numbers: Table 1's adversarial nets row. */
export const PAPER_TABLE1 = TABLE1[TABLE1.length - 1];

/**
 * Mirza & Osindero, Conditional Generative Adversarial Nets, 2014 (arXiv:1411.1784), Table 1:
 * the conditional model's Parzen estimate on MNIST, beside the same table's GAN row (225 ± 2,
 * as above). Compared with conditional runs (docs/conditional.md).
 */
export const CONDITIONAL_PAPER =
  "Mirza & Osindero, Conditional Generative Adversarial Nets, 2014 (arXiv:1411.1784)";

export const CONDITIONAL_TABLE1 = {
  model: "Conditional adversarial nets",
  mnist: { mean: 132, se: 1.8 },
} as const;
