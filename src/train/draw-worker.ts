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
/** Arrays the main thread sent back, by length, to draw into before allocating any. */
const spare = new Map<number, Float32Array[]>();
/** Arrays allocated for the request being drawn. */
let made = 0;

function arrayOf(length: number): Float32Array {
  const reused = spare.get(length)?.pop();
  if (reused) return reused;
  made++;
  return new Float32Array(length);
}

function run(job: DrawJob, transfer: ArrayBuffer[]): (Float32Array | null)[] {
  const keep = (a: Float32Array | null) => {
    if (a) transfer.push(a.buffer as ArrayBuffer);
    return a;
  };
  if (job.kind === "noise") {
    const z = arrayOf(job.rows * job.noise.dim);
    return [keep(sampleNoise(job.noise, rng!.stream(job.stream).at(job.step), job.rows, z))];
  }
  return dropoutMasksFrom(rng!, job.plan, job.stream, job.step, job.rows, (_, n) => arrayOf(n))
    .map(keep);
}

self.onmessage = (e: MessageEvent<DrawRequest>) => {
  const { id, seed, jobs, spent } = e.data;
  if (!rng || rng.seed !== seed) rng = new Rng(seed);
  for (const a of spent) {
    const list = spare.get(a.length);
    if (list) list.push(a);
    else spare.set(a.length, [a]);
  }
  const transfer: ArrayBuffer[] = [];
  made = 0;
  const results = jobs.map((job) => run(job, transfer));
  const reply: DrawReply = { id, results, made };
  self.postMessage(reply, transfer);
};
