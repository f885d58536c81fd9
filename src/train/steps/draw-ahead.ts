/**
 * The simultaneous update's noise and dropout masks, drawn a step ahead in a worker
 * (../prefetch.ts) once asked to, else by the step itself: the same numbers either way.
 * Both simultaneous steps (autodiff and fused) read their draws through it.
 */
import type { StepInputs } from "../inputs.ts";
import { DrawPrefetcher, type DrawReply } from "../prefetch.ts";

export class DrawAhead {
  #prefetch: DrawPrefetcher | null = null;

  constructor(readonly inputs: StepInputs) {}

  /** From iteration `first` on, draw in a worker. */
  start(seed: number, first: number): void {
    this.#prefetch = new DrawPrefetcher(seed, (t) => this.inputs.simultaneousDraws(t));
    this.#prefetch.ask(first);
  }

  /** Iteration t's draws from the worker, or undefined when the step draws them itself. */
  async take(t: number): Promise<DrawReply["results"] | undefined> {
    return await this.#prefetch?.take(t);
  }

  close(): void {
    this.#prefetch?.close();
  }
}
