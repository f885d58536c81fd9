/**
 * Optimisers over an explicit variable list: PyTorch's SGD and Adam (the reference code of
 * the 1-D and tutorial experiments), PyTorch's RMSprop (the WGAN reference code) and
 * pylearn2's momentum SGD with its learning-rate decay and momentum ramp (the 2014 paper's
 * code). Written here rather than taken from tf.train
 * because TF.js's Adam places ε differently from PyTorch's, because the schedules depend on
 * epoch and update counters, and because the state must be named, checkpointed and
 * fingerprinted.
 */
import { type Tensor, tf, type Variable } from "../backend/tf.ts";
import type { OptimizerConfig } from "../config/schema.ts";
import {
  adamUpdateWasm,
  momentumIncrementWasm,
  momentumStepInPlaceWasm,
} from "../backend/wasm-kernels.ts";
import { detach } from "./ops.ts";

export interface Optimizer {
  /** Applies one update; `grads[i]` is the gradient of `variables[i]`; `epoch` is 0-based. */
  step(grads: Tensor[], epoch: number): void;
  /** Slot variables by name (for checkpoints and fingerprints). */
  slots(): [string, Variable][];
  /** Number of updates applied; restored from checkpoints. */
  steps: number;
  /** The learning rate the next update will use. */
  learningRate(): number;
  /**
   * The next update (at epoch `epoch`) as v ← μ·v + α·g;  θ ← θ + η·v, or θ ← θ + α·g
   * when `velocity` is null, for a training step that applies it itself (src/train/steps/fused-mlp.ts)
   * and then counts it in `steps`. Null for rules not of that form (Adam).
   */
  linearRule(epoch: number): LinearRule | null;
  /**
   * Adam's next update, for a training step that applies it itself with adamUpdateWasm's
   * float32 operations (src/train/steps/fused-mlp.ts) and then counts it in `steps`.
   */
  adamRule?(): AdamRule;
  /**
   * The next updates as a pure function of tensors, to differentiate through (Unrolled GAN's
   * D steps, src/train/unroll.ts); absent for rules that have none here (pylearn2's momentum).
   */
  differentiable?(): DifferentiableRule;
  dispose(): void;
}

/**
 * An optimiser's updates on tensors instead of its variables: from the parameters, their
 * gradients and the optimiser's state (its slots, per variable) to the next ones. Update k
 * (0-based) is the one that would follow k updates applied from now. The same float32
 * operations as the optimiser's own step, so update 0 equals the step it would apply; no
 * variable is written.
 */
export interface DifferentiableRule {
  /** The optimiser's slots now, per variable (the variables themselves: read, never written). */
  state: Tensor[][];
  step(
    params: Tensor[],
    grads: Tensor[],
    state: Tensor[][],
    k: number,
  ): { params: Tensor[]; state: Tensor[][] };
}

/**
 * √x for x ≥ 0 whose gradient at x = 0 is 0 instead of ∞ (TF.js: dy / (2√x), which is NaN
 * when dy is 0). Where Adam's second moment is 0, its gradient has been exactly 0 at every
 * step (a dead ReLU's weights), and so is the first moment; the update's derivative through
 * the moment then has the limit 0, which this gives. Equal in value to tf.sqrt.
 */
function sqrtZeroSafe(x: Tensor): Tensor {
  // the comparison has no gradient (none is needed): taken on a detached view
  const positive = tf.greater(detach(x), 0);
  return tf.where(positive, tf.sqrt(tf.where(positive, x, tf.onesLike(x))), tf.zerosLike(x));
}

/** torch.optim.Adam's constants for update `steps + 1` and its moments, one per variable. */
export interface AdamRule {
  beta1: number;
  beta2: number;
  /** The bias corrections 1 − β₁ᵗ and 1 − β₂ᵗ. */
  c1: number;
  c2: number;
  lr: number;
  epsilon: number;
  m: Variable[];
  v: Variable[];
}

export interface LinearRule {
  mu: number;
  alpha: number;
  eta: number;
  /** One velocity per variable, in order; null for plain SGD. */
  velocity: Variable[] | null;
}

export function createOptimizer(
  config: OptimizerConfig,
  variables: Variable[],
  names: string[],
): Optimizer {
  switch (config.kind) {
    case "sgd":
      return new Sgd(config, variables, names);
    case "adam":
      return new Adam(config, variables, names);
    case "momentum":
      return new Pylearn2Momentum(config, variables, names);
    case "rmsprop":
      return new RmsProp(config, variables, names);
  }
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
    // one tidy per variable: temporaries of an 8000×8000 layer are 256 MB each
    this.variables.forEach((p, i) =>
      tf.tidy(() => {
        let direction = grads[i];
        if (momentum > 0) {
          // torch's buffer starts as g on the first step, which equals μ·0 + g
          const v = this.#velocity[i];
          direction = tf.add(tf.mul(v, momentum), grads[i]);
          v.assign(direction);
        }
        p.assign(tf.sub(p, tf.mul(direction, lr)));
      })
    );
    this.steps++;
  }

  differentiable(): DifferentiableRule {
    const { lr, momentum } = this.config;
    return {
      state: this.#velocity.map((v) => [v]),
      step: (params, grads, state) => {
        const next = params.map((p, i) => {
          const direction = momentum > 0
            ? tf.add(tf.mul(state[i][0], momentum), grads[i])
            : grads[i];
          return { p: tf.sub(p, tf.mul(direction, lr)), v: direction };
        });
        return {
          params: next.map((n) => n.p),
          state: momentum > 0 ? next.map((n) => [n.v]) : state,
        };
      },
    };
  }

  learningRate(): number {
    return this.config.lr;
  }

  linearRule(): LinearRule {
    const { lr, momentum } = this.config;
    return momentum > 0
      ? { mu: momentum, alpha: 1, eta: -lr, velocity: this.#velocity }
      : { mu: 0, alpha: -lr, eta: 0, velocity: null };
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

  adamRule(): AdamRule {
    const { lr, beta1, beta2, epsilon } = this.config;
    const t = this.steps + 1;
    return {
      beta1,
      beta2,
      c1: 1 - beta1 ** t,
      c2: 1 - beta2 ** t,
      lr,
      epsilon,
      m: this.#m,
      v: this.#v,
    };
  }

  step(grads: Tensor[]): void {
    const { beta1, beta2, c1, c2, lr, epsilon } = this.adamRule();
    const t = this.steps + 1;
    const constants = { beta1, beta2, c1, c2, lr, epsilon };
    this.variables.forEach((p, i) =>
      tf.tidy(() => {
        // on wasm one pass over the heap computes exactly the float32 ops below
        const fused = adamUpdateWasm(p, grads[i], this.#m[i], this.#v[i], constants);
        if (fused) {
          this.#m[i].assign(fused.m);
          this.#v[i].assign(fused.v);
          p.assign(fused.p);
          return;
        }
        const g = grads[i];
        const m = tf.add(tf.mul(this.#m[i], beta1), tf.mul(g, 1 - beta1));
        const v = tf.add(tf.mul(this.#v[i], beta2), tf.mul(tf.square(g), 1 - beta2));
        this.#m[i].assign(m);
        this.#v[i].assign(v);
        const denom = tf.add(tf.sqrt(tf.div(v, c2)), epsilon);
        p.assign(tf.sub(p, tf.div(tf.mul(m, lr / c1), denom)));
      })
    );
    this.steps = t;
  }

  differentiable(): DifferentiableRule {
    const { lr, beta1, beta2, epsilon } = this.config;
    return {
      state: this.#m.map((m, i) => [m, this.#v[i]]),
      step: (params, grads, state, k) => {
        const t = this.steps + 1 + k;
        const c1 = 1 - beta1 ** t, c2 = 1 - beta2 ** t;
        const next = params.map((p, i) => {
          const g = grads[i];
          const m = tf.add(tf.mul(state[i][0], beta1), tf.mul(g, 1 - beta1));
          const v = tf.add(tf.mul(state[i][1], beta2), tf.mul(tf.square(g), 1 - beta2));
          const denom = tf.add(sqrtZeroSafe(tf.div(v, c2)), epsilon);
          return { p: tf.sub(p, tf.div(tf.mul(m, lr / c1), denom)), m, v };
        });
        return { params: next.map((n) => n.p), state: next.map((n) => [n.m, n.v]) };
      },
    };
  }

  learningRate(): number {
    return this.config.lr;
  }

  linearRule(): null {
    return null;
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

/** torch.optim.RMSprop (not centered, no momentum): v ← α·v + (1 − α)·g²; θ ← θ − lr·g / (√v + ε). */
class RmsProp implements Optimizer {
  readonly #v: Variable[];
  steps = 0;
  constructor(
    readonly config: Extract<OptimizerConfig, { kind: "rmsprop" }>,
    readonly variables: Variable[],
    readonly names: string[],
  ) {
    this.#v = variables.map(zerosLike);
  }

  step(grads: Tensor[]): void {
    const { lr, alpha, epsilon } = this.config;
    this.variables.forEach((p, i) =>
      tf.tidy(() => {
        const g = grads[i];
        const v = tf.add(tf.mul(this.#v[i], alpha), tf.mul(tf.square(g), 1 - alpha));
        this.#v[i].assign(v);
        p.assign(tf.sub(p, tf.div(tf.mul(g, lr), tf.add(tf.sqrt(v), epsilon))));
      })
    );
    this.steps++;
  }

  differentiable(): DifferentiableRule {
    const { lr, alpha, epsilon } = this.config;
    return {
      state: this.#v.map((v) => [v]),
      step: (params, grads, state) => {
        const next = params.map((p, i) => {
          const g = grads[i];
          const v = tf.add(tf.mul(state[i][0], alpha), tf.mul(tf.square(g), 1 - alpha));
          return { p: tf.sub(p, tf.div(tf.mul(g, lr), tf.add(sqrtZeroSafe(v), epsilon))), v };
        });
        return { params: next.map((n) => n.p), state: next.map((n) => [n.v]) };
      },
    };
  }

  learningRate(): number {
    return this.config.lr;
  }

  linearRule(): null {
    return null;
  }

  slots(): [string, Variable][] {
    return this.#v.map((v, i) => [`${this.names[i]}/rmsprop_v`, v]);
  }

  dispose(): void {
    for (const v of this.#v) v.dispose();
  }
}

type MomentumConfig = Extract<OptimizerConfig, { kind: "momentum" }>;

/** The learning rate of update t (0-based): ExponentialDecay after every minibatch. */
export function pylearn2LearningRate(config: MomentumConfig, t: number): number {
  return Math.max(config.lr / config.decay ** t, config.minLr);
}

/**
 * Momentum during epoch `epoch` (0-based). MomentumAdjustor.on_monitor runs before training
 * and after each epoch, so during epoch e its counter is e + 1.
 */
export function pylearn2Momentum(config: MomentumConfig, epoch: number): number {
  const { initial, final, start, saturate } = config.momentum;
  const count = epoch + 1;
  if (saturate === start) return count >= start ? final : initial;
  const alpha = Math.min(1, Math.max(0, (count - start) / (saturate - start)));
  return initial * (1 - alpha) + alpha * final;
}

/** pylearn2's Momentum learning rule: v ← μ·v − lr·g;  θ ← θ + v. */
class Pylearn2Momentum implements Optimizer {
  readonly #velocity: Variable[];
  steps = 0;
  constructor(
    readonly config: MomentumConfig,
    readonly variables: Variable[],
    readonly names: string[],
  ) {
    this.#velocity = variables.map(zerosLike);
  }

  step(grads: Tensor[], epoch: number): void {
    const lr = pylearn2LearningRate(this.config, this.steps);
    const mu = pylearn2Momentum(this.config, epoch);
    this.variables.forEach((p, i) =>
      tf.tidy(() => {
        const v = this.#velocity[i];
        if (momentumStepInPlaceWasm(p, v, grads[i], mu, lr)) return;
        // on wasm one pass over the heap computes exactly these ops, without their two
        // products of the variable's size (256 MB each for an 8000×8000 layer)
        const inc = momentumIncrementWasm(v, grads[i], mu, lr) ??
          tf.sub(tf.mul(v, mu), tf.mul(grads[i], lr));
        v.assign(inc);
        p.assign(tf.add(p, inc));
      })
    );
    this.steps++;
  }

  learningRate(): number {
    return pylearn2LearningRate(this.config, this.steps);
  }

  linearRule(epoch: number): LinearRule {
    const lr = pylearn2LearningRate(this.config, this.steps);
    return {
      mu: pylearn2Momentum(this.config, epoch),
      alpha: -lr,
      eta: 1,
      velocity: this.#velocity,
    };
  }

  slots(): [string, Variable][] {
    return this.#velocity.map((v, i) => [`${this.names[i]}/velocity`, v]);
  }

  dispose(): void {
    for (const v of this.#velocity) v.dispose();
  }
}
