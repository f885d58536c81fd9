/**
 * Optimisers over an explicit variable list, with PyTorch's update rules (the reference
 * code for the 1-D and tutorial experiments). Written here rather than taken from
 * tf.train because TF.js's Adam places ε differently from PyTorch's, and because the
 * state must be named, checkpointed and fingerprinted.
 */
import { type Tensor, tf, type Variable } from "../backend/tf.ts";
import type { OptimizerConfig } from "../config/schema.ts";

export interface Optimizer {
  /** Applies one update; `grads[i]` is the gradient of `variables[i]`. */
  step(grads: Tensor[]): void;
  /** Slot variables by name (for checkpoints and fingerprints). */
  slots(): [string, Variable][];
  /** Number of updates applied. */
  readonly steps: number;
  dispose(): void;
}

export function createOptimizer(
  config: OptimizerConfig,
  variables: Variable[],
  names: string[],
): Optimizer {
  return config.kind === "sgd"
    ? new Sgd(config, variables, names)
    : new Adam(config, variables, names);
}

const zerosLike = (v: Variable) => tf.tidy(() => tf.variable(tf.zerosLike(v)));

/** v ← μ·v + g;  θ ← θ − lr·v  (torch.optim.SGD, dampening 0, no Nesterov). */
class Sgd implements Optimizer {
  readonly #velocity: Variable[];
  steps = 0;
  constructor(
    readonly config: Extract<OptimizerConfig, { kind: "sgd" }>,
    readonly variables: Variable[],
    readonly names: string[],
  ) {
    this.#velocity = config.momentum > 0 ? variables.map(zerosLike) : [];
  }

  step(grads: Tensor[]): void {
    const { lr, momentum } = this.config;
    tf.tidy(() => {
      this.variables.forEach((p, i) => {
        let direction = grads[i];
        if (momentum > 0) {
          const v = this.#velocity[i];
          // torch starts the buffer at g itself on the first step (not μ·0 + g: same value)
          direction = tf.add(tf.mul(v, momentum), grads[i]);
          v.assign(direction);
        }
        p.assign(tf.sub(p, tf.mul(direction, lr)));
      });
    });
    this.steps++;
  }

  slots(): [string, Variable][] {
    return this.#velocity.map((v, i) => [`${this.names[i]}/velocity`, v]);
  }

  dispose(): void {
    for (const v of this.#velocity) v.dispose();
  }
}

/** torch.optim.Adam: bias-corrected m̂, v̂; θ ← θ − lr·m̂ / (√v̂ + ε). */
class Adam implements Optimizer {
  readonly #m: Variable[];
  readonly #v: Variable[];
  steps = 0;
  constructor(
    readonly config: Extract<OptimizerConfig, { kind: "adam" }>,
    readonly variables: Variable[],
    readonly names: string[],
  ) {
    this.#m = variables.map(zerosLike);
    this.#v = variables.map(zerosLike);
  }

  step(grads: Tensor[]): void {
    const { lr, beta1, beta2, epsilon } = this.config;
    const t = this.steps + 1;
    const c1 = 1 - beta1 ** t, c2 = 1 - beta2 ** t;
    tf.tidy(() => {
      this.variables.forEach((p, i) => {
        const g = grads[i];
        const m = tf.add(tf.mul(this.#m[i], beta1), tf.mul(g, 1 - beta1));
        const v = tf.add(tf.mul(this.#v[i], beta2), tf.mul(tf.square(g), 1 - beta2));
        this.#m[i].assign(m);
        this.#v[i].assign(v);
        const denom = tf.add(tf.sqrt(tf.div(v, c2)), epsilon);
        p.assign(tf.sub(p, tf.div(tf.mul(m, lr / c1), denom)));
      });
    });
    this.steps = t;
  }

  slots(): [string, Variable][] {
    return [
      ...this.#m.map((v, i): [string, Variable] => [`${this.names[i]}/adam_m`, v]),
      ...this.#v.map((v, i): [string, Variable] => [`${this.names[i]}/adam_v`, v]),
    ];
  }

  dispose(): void {
    for (const v of [...this.#m, ...this.#v]) v.dispose();
  }
}
