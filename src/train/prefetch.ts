/**
 * Random inputs of the next step, drawn ahead in a worker (src/train/draw-worker.ts): while
 * step t trains, step t + 1's noise and dropout masks are drawn on the other core. Same
 * numbers as drawing them inline (tested); the training loop asks for step t, receives it,
 * and asks for the step after.
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
}

export interface DrawReply {
  id: number;
  /** Per job: its arrays (one for noise; one per D layer, null where none, for masks). */
  results: (Float32Array | null)[][];
}

export class DrawPrefetcher {
  readonly #worker: Worker;
  readonly #pending = new Map<number, {
    resolve: (r: DrawReply["results"]) => void;
    reject: (e: Error) => void;
  }>();
  readonly #asked = new Map<number, Promise<DrawReply["results"]>>();
  #failure: Error | null = null;

  constructor(readonly seed: number, readonly jobsOf: (step: number) => DrawJob[]) {
    this.#worker = new Worker(new URL("./draw-worker.ts", import.meta.url).href, {
      type: "module",
    });
    this.#worker.onmessage = (e: MessageEvent<DrawReply>) => {
      const p = this.#pending.get(e.data.id);
      this.#pending.delete(e.data.id);
      p?.resolve(e.data.results);
    };
    this.#worker.onerror = (e) => {
      e.preventDefault();
      this.#failure = new Error(`the draw worker failed: ${e.message}`);
      for (const p of this.#pending.values()) p.reject(this.#failure);
      this.#pending.clear();
    };
  }

  /** Starts drawing `step`'s inputs (once). */
  ask(step: number): void {
    if (this.#asked.has(step) || this.#failure) return;
    const results = new Promise<DrawReply["results"]>((resolve, reject) => {
      this.#pending.set(step, { resolve, reject });
      const request: DrawRequest = { id: step, seed: this.seed, jobs: this.jobsOf(step) };
      this.#worker.postMessage(request);
    });
    // the step after the last is asked for and never taken: its rejection on close is expected
    results.catch(() => {});
    this.#asked.set(step, results);
  }

  /** `step`'s inputs, in the order of jobsOf(step); asks for the next step at once. */
  async take(step: number): Promise<DrawReply["results"]> {
    if (this.#failure) throw this.#failure;
    this.ask(step);
    const results = this.#asked.get(step)!;
    this.#asked.delete(step);
    this.ask(step + 1);
    return await results;
  }

  close(): void {
    this.#worker.terminate();
    for (const p of this.#pending.values()) p.reject(new Error("the draw worker was closed"));
    this.#pending.clear();
    this.#asked.clear();
  }
}
