/**
 * Frees what a backward pass is done with as it goes. TF.js's `gradients` keeps every tape
 * node's saved tensors and every intermediate gradient until the whole backward pass ends:
 * for cifar10-conv's discriminator, both batches' saved activations and every gradient of
 * them at once. Each node's gradient runs once, in tape order reversed, and after it has run
 * nothing reads that node's saved tensors or the gradients of its outputs again (only the
 * gradients of the `xs` are returned). So, in an outermost gradient computation (no tape
 * around it), this frees them when the next node's gradient starts. The nodes, their order
 * and every addition are TF.js's own, untouched: no number changes. A tensor freed too soon
 * could only fail loudly (TF.js refuses a disposed tensor), never give another value.
 *
 * Kept: a gradient handed back for more than one input (it may fill another slot), a saved
 * tensor handed back as a gradient, the caller's seed `dy`, and everything while a gradient
 * is taken inside another's tape (the outer pass needs the inner pass's nodes as they are).
 */
import type * as tfNamespace from "@tensorflow/tfjs";

type Tf = typeof tfNamespace;
type Tensor = tfNamespace.Tensor;

interface TapeNode {
  saved?: Tensor[];
  gradient?: (dys: (Tensor | null)[]) => Record<string, () => Tensor>;
}

export interface EngineInternals {
  state: { gradientDepth: number; activeTape: TapeNode[] | null };
  gradients(
    f: () => Tensor,
    xs: Tensor[],
    dy?: Tensor,
    allowNoGradients?: boolean,
  ): { value: Tensor; grads: Tensor[] };
}

let original: EngineInternals["gradients"] | null = null;

/**
 * TF.js's own `gradients`, which keeps everything to the end of the backward pass: the
 * reference the freeing is held to (test/lean_backprop_test.ts). Null before installing.
 */
export function keepingGradients(): EngineInternals["gradients"] | null {
  return original;
}

/** Installs the freeing on TF.js's engine (once; later calls do nothing). */
export function installLeanBackprop(tf: Tf): void {
  if (original) return;
  const engine = tf.engine() as unknown as EngineInternals;
  const keeping = original = engine.gradients.bind(engine);
  engine.gradients = (f, xs, dy, allowNoGradients) => {
    if (engine.state.gradientDepth > 0) return keeping(f, xs, dy, allowNoGradients);
    // how often each tensor was handed back as a gradient: once, it fills one slot of
    // TF.js's map of gradients (or went into a sum); more, it may fill several
    const returned = new Map<Tensor, number>();
    let dysDone: Tensor[] = [], savedDone: Tensor[] = [];
    const free = () => {
      for (const t of dysDone) if ((returned.get(t) ?? 0) <= 1 && t !== dy) t.dispose();
      for (const t of savedDone) if (!returned.has(t)) t.dispose();
      dysDone = [];
      savedDone = [];
    };
    const forward = () => {
      const y = f();
      // the nodes this forward pass recorded: the tape is new for an outermost gradient
      for (const node of engine.state.activeTape ?? []) {
        const gradient = node.gradient;
        if (!gradient) continue;
        node.gradient = (dys) => {
          // the node visited before this one is done: its gradients have all been taken
          free();
          const lazy = gradient(dys);
          dysDone = dys.filter((t): t is Tensor => t !== null);
          savedDone = node.saved ?? [];
          const wrapped: Record<string, () => Tensor> = {};
          for (const name of Object.keys(lazy)) {
            wrapped[name] = () => {
              const dx = lazy[name]();
              returned.set(dx, (returned.get(dx) ?? 0) + 1);
              return dx;
            };
          }
          return wrapped;
        };
      }
      return y;
    };
    try {
      return keeping(forward, xs, dy, allowNoGradients);
    } finally {
      free();
    }
  };
}
