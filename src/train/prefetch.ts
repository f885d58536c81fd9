/**
 * Random inputs of the next step, drawn ahead in a worker (src/train/draw-worker.ts): while
 * step t trains, step t + 1's noise and dropout masks are drawn on the other core. Same
 * numbers as drawing them inline (tested); the training loop asks for step t, receives it,
 * and asks for the step after. Arrays a step is done with go back with a later request (moved,
 * not copied), and the worker draws into them instead of allocating new ones.
 */
import type { NoiseConfig } from "../config/schema.ts";
import type { MaskPlan } from "./dropout.ts";

export type DrawJob =
  | { kind: "noise"; stream: string; step: number; rows: number; noise: NoiseConfig }
  | { kind: "masks"; stream: string; step: number; rows: number; plan: MaskPlan };

export interface DrawRequest {
  id: number;
  seed: number;
  jobs: DrawJob[];
  /** Arrays of earlier replies the main thread is done with: the worker draws into them. */
  spent: Float32Array[];
}

export interface DrawReply {
  id: number;
  /** Per job: its arrays (one for noise; one per D layer, null where none, for masks). */
  results: (Float32Array | null)[][];
  /** How many of them the worker allocated (the others are arrays sent back to it). */
  made: number;
}

export class DrawPrefetcher {
  readonly #worker: Worker;
  readonly #pending = new Map<number, {
    resolve: (r: DrawReply["results"]) => void;
    reject: (e: Error) => void;
  }>();
  readonly #asked = new Map<number, Promise<DrawReply["results"]>>();
  #failure: Error | null = null;
  /** Arrays the worker has allocated: two steps' worth once arrays come back to it. */
  arraysMade = 0;

  constructor(readonly seed: number, readonly jobsOf: (step: number) => DrawJob[]) {
    this.#worker = new Worker(new URL("./draw-worker.ts", import.meta.url).href, {
      type: "module",
    });
    this.#worker.onmessage = (e: MessageEvent<DrawReply>) => {
      const p = this.#pending.get(e.data.id);
      this.#pending.delete(e.data.id);
      this.arraysMade += e.data.made;
      p?.resolve(e.data.results);
    };
    this.#worker.onerror = (e) => {
      e.preventDefault();
      this.#failure = new Error(`the draw worker failed: ${e.message}`);
      for (const p of this.#pending.values()) p.reject(this.#failure);
      this.#pending.clear();
    };
  }

  /**
   * Starts drawing `step`'s inputs (once), handing the worker `spent`'s arrays to draw into
   * (they leave this thread: the caller must be done with them).
   */
  ask(step: number, spent?: DrawReply["results"]): void {
    if (this.#asked.has(step) || this.#failure) return;
    const results = new Promise<DrawReply["results"]>((resolve, reject) => {
      this.#pending.set(step, { resolve, reject });
      const arrays = spent?.flat().filter((a) => a !== null) ?? [];
      const request: DrawRequest = {
        id: step,
        seed: this.seed,
        jobs: this.jobsOf(step),
        spent: arrays,
      };
      this.#worker.postMessage(request, arrays.map((a) => a.buffer as ArrayBuffer));
    });
    // the step after the last is asked for and never taken: its rejection on close is expected
    results.catch(() => {});
    this.#asked.set(step, results);
  }

  /**
   * `step`'s inputs, in the order of jobsOf(step); asks for the next step at once, with
   * `spent` (an earlier step's inputs, done with) for the worker to draw it into.
   */
  async take(step: number, spent?: DrawReply["results"]): Promise<DrawReply["results"]> {
    if (this.#failure) throw this.#failure;
    this.ask(step);
    const results = this.#asked.get(step)!;
    this.#asked.delete(step);
    this.ask(step + 1, spent);
    return await results;
  }

  close(): void {
    this.#worker.terminate();
    for (const p of this.#pending.values()) p.reject(new Error("the draw worker was closed"));
    this.#pending.clear();
    this.#asked.clear();
  }
}
