/**
 * A Web Worker that draws a training step's random inputs (noise z and dropout masks) while
 * the main thread trains the step before: Philox in JS is ~3 ms of a paper MNIST iteration,
 * and the second core idles through the single-threaded elementwise kernels. It computes
 * exactly what the main thread would (same pure functions, same streams and steps).
 */
/// <reference lib="deno.worker" />
import { sampleNoise } from "../data/noise.ts";
import { Rng } from "../rng/streams.ts";
import type { DrawJob, DrawReply, DrawRequest } from "./prefetch.ts";
import { dropoutMasksFrom } from "./dropout.ts";

let rng: Rng | null = null;

function run(job: DrawJob, transfer: ArrayBuffer[]): (Float32Array | null)[] {
  const keep = (a: Float32Array | null) => {
    if (a) transfer.push(a.buffer as ArrayBuffer);
    return a;
  };
  if (job.kind === "noise") {
    return [keep(sampleNoise(job.noise, rng!.stream(job.stream).at(job.step), job.rows))];
  }
  return dropoutMasksFrom(rng!, job.plan, job.stream, job.step, job.rows).map(keep);
}

self.onmessage = (e: MessageEvent<DrawRequest>) => {
  const { id, seed, jobs } = e.data;
  if (!rng || rng.seed !== seed) rng = new Rng(seed);
  const transfer: ArrayBuffer[] = [];
  const reply: DrawReply = { id, results: jobs.map((job) => run(job, transfer)) };
  self.postMessage(reply, transfer);
};
