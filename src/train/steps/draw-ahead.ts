/**
 * The simultaneous update's noise and dropout masks, drawn a step ahead in a worker
 * (../prefetch.ts) once asked to, else by the step itself: the same numbers either way.
 * Both simultaneous steps (autodiff and fused) read their draws through it.
 */
import type { StepInputs } from "../inputs.ts";
import { DrawPrefetcher, type DrawReply } from "../prefetch.ts";

export class DrawAhead {
  #prefetch: DrawPrefetcher | null = null;
  /** The last step's draws, once it is done with them: sent back with the next request. */
  #spent: DrawReply["results"] | undefined;

  constructor(readonly inputs: StepInputs) {}

  /** From iteration `first` on, draw in a worker. */
  start(seed: number, first: number): void {
    this.#prefetch = new DrawPrefetcher(seed, (t) => this.inputs.simultaneousDraws(t));
    this.#prefetch.ask(first);
  }

  /** Iteration t's draws from the worker, or undefined when the step draws them itself. */
  async take(t: number): Promise<DrawReply["results"] | undefined> {
    const spent = this.#spent;
    this.#spent = undefined;
    return await this.#prefetch?.take(t, spent);
  }

  /**
   * The step has read `drawn` (what take gave it) and made its tensors of them: the worker
   * draws a later step into those arrays, which leave this thread with the next request.
   */
  done(drawn: DrawReply["results"] | undefined): void {
    this.#spent = drawn;
  }

  close(): void {
    this.#prefetch?.close();
  }
}
