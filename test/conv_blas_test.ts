/**
 * The convolutions on OpenBLAS (src/backend/conv-blas.ts): each kernel against TF.js's own
 * (the wasm backend's Conv2D and Conv2DBackpropInput; the cpu backend's
 * Conv2DBackpropFilter, which wasm lacks) over strides, paddings and odd sizes; central
 * finite differences through the paper's layers; the FLOP count; a flat tensor count; and a
 * short cifar10-conv run against plain wasm.
 */
import assert from "node:assert/strict";
import { cifarPath } from "../src/data/registry.ts";
import { existsSync } from "node:fs";
import { chunkRows } from "../src/backend/conv-blas.ts";
import { openBlas, openBlasUnavailableReason } from "../src/backend/openblas.ts";
import { selectBackend } from "../src/backend/select.ts";
import { type Tensor, tf } from "../src/backend/tf.ts";
import { blasCounters, blockMaxForwardWasm } from "../src/backend/wasm-kernels.ts";
import { loadConfig } from "../src/config/load.ts";
import { conv2dPadded, conv2dTransposeValid, maxout, maxPoolConvnet } from "../src/models/ops.ts";
import { runExperiment } from "../src/train/run.ts";
import { convnetPoolSize } from "../src/models/shapes.ts";

const blas = openBlas();
const ignore = blas === null;
if (ignore) {
  console.warn(`OpenBLAS convolution tests skipped: ${openBlasUnavailableReason()}`);
}

/** Deterministic values in [−0.5, 0.5) without touching any backend. */
function values(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    out[i] = x / 2 ** 32 - 0.5;
  }
  return out;
}

type Pad = "valid" | "same" | number | [[0, 0], [number, number], [number, number], [0, 0]];
interface Case {
  name: string;
  x: [number, number, number, number];
  k: [number, number];
  cout: number;
  stride: number | [number, number];
  pad: Pad;
  dilation?: number;
}

const CASES: Case[] = [
  {
    name: "paper D layer 1 shape, small batch",
    x: [2, 32, 32, 3],
    k: [8, 8],
    cout: 4,
    stride: 1,
    pad: 4,
  },
  { name: "paper D layer 3 shape", x: [3, 7, 7, 6], k: [5, 5], cout: 7, stride: 1, pad: 3 },
  { name: "odd sizes, valid", x: [3, 9, 7, 5], k: [3, 2], cout: 3, stride: 1, pad: "valid" },
  { name: "stride 2, same", x: [2, 11, 10, 4], k: [3, 3], cout: 6, stride: 2, pad: "same" },
  {
    name: "stride (3, 2), valid",
    x: [1, 14, 9, 2],
    k: [5, 3],
    cout: 5,
    stride: [3, 2],
    pad: "valid",
  },
  {
    name: "explicit uneven padding, stride 2",
    x: [2, 8, 9, 3],
    k: [4, 3],
    cout: 2,
    stride: 2,
    pad: [[0, 0], [2, 1], [0, 3], [0, 0]],
  },
  { name: "1×1 kernel", x: [2, 5, 5, 7], k: [1, 1], cout: 3, stride: 1, pad: 0 },
  { name: "window larger than the input", x: [2, 3, 3, 2], k: [5, 5], cout: 2, stride: 1, pad: 2 },
  // more positions than one chunk: the filter gradient sums over chunks
  { name: "several chunks", x: [8, 40, 40, 16], k: [5, 5], cout: 2, stride: 1, pad: 2 },
  {
    name: "dilation 2 (falls back to wasm)",
    x: [1, 9, 9, 2],
    k: [3, 3],
    cout: 2,
    stride: 1,
    pad: "valid",
    dilation: 2,
  },
];

interface Outputs {
  y: Float32Array;
  dx: Float32Array;
  dW: Float32Array | null;
}

/** The three kernels on the active backend, each run directly. */
function kernels(c: Case): Outputs {
  const filterShape = [...c.k, c.x[3], c.cout] as [number, number, number, number];
  const x = tf.tensor4d(values(c.x.reduce((a, b) => a * b), 1), c.x);
  const W = tf.tensor4d(values(filterShape.reduce((a, b) => a * b), 2), filterShape);
  const y = tf.conv2d(x, W, c.stride, c.pad, "NHWC", c.dilation ?? 1);
  const dy = tf.tensor4d(values(y.size, 3), y.shape);
  const dx = c.dilation ? null : tf.conv2dTranspose(dy, W, c.x, c.stride, c.pad);
  const dW = c.dilation || tf.getBackend() === "wasm" && !blasOn() ? null : tf.engine().runKernel(
    "Conv2DBackpropFilter",
    { x, dy },
    { strides: c.stride, pad: c.pad, dataFormat: "NHWC", filterShape },
  ) as Tensor;
  const out = {
    y: y.dataSync() as Float32Array,
    dx: (dx?.dataSync() ?? new Float32Array(0)) as Float32Array,
    dW: (dW?.dataSync() ?? null) as Float32Array | null,
  };
  tf.dispose([x, W, y, dy, ...(dx ? [dx] : []), ...(dW ? [dW] : [])]);
  return out;
}

const blasOn = () => tf.getKernel("Conv2DBackpropFilter", "wasm") !== undefined;

function assertClose(name: string, got: Float32Array, want: Float32Array, tol = 1e-5) {
  assert.equal(got.length, want.length, `${name}: length`);
  let scale = 0;
  for (const v of want) scale = Math.max(scale, Math.abs(v));
  assert.ok(scale > 0, `${name}: all zeros, the case tests nothing`);
  for (let i = 0; i < want.length; i++) {
    assert.ok(
      Math.abs(got[i] - want[i]) <= tol * Math.max(scale, 1),
      `${name}[${i}]: ${got[i]} vs ${want[i]}`,
    );
  }
}

Deno.test({
  name: "Conv2D, Conv2DBackpropInput and Conv2DBackpropFilter on OpenBLAS equal TF.js's own",
  ignore,
  async fn() {
    assert.ok(chunkRows(5 * 5 * 16) < 8 * 40 * 40, "the chunked case needs several chunks");
    for (const c of CASES) {
      await selectBackend("wasm+openblas");
      const ours = kernels(c);
      await selectBackend("wasm");
      assert.equal(blasOn(), false, "plain wasm has its own kernels back");
      const wasm = kernels(c);
      await selectBackend("cpu");
      const cpu = kernels(c);
      assertClose(`${c.name}: y`, ours.y, wasm.y);
      if (!c.dilation) {
        assertClose(`${c.name}: dx`, ours.dx, wasm.dx);
        assertClose(`${c.name}: dW`, ours.dW!, cpu.dW!);
        assertClose(`${c.name}: y (cpu)`, ours.y, cpu.y);
      }
    }
    await selectBackend("wasm");
  },
});

Deno.test({
  name: "the convolution kernels count their products' FLOPs and leave no tensor behind",
  ignore,
  async fn() {
    await selectBackend("wasm+openblas");
    const x = tf.tensor4d(values(2 * 9 * 9 * 3, 4), [2, 9, 9, 3]);
    const W = tf.tensor4d(values(3 * 3 * 3 * 4, 5), [3, 3, 3, 4]);
    const f = tf.grads((a: Tensor, b: Tensor) => tf.sum(tf.square(conv2dPadded(a, b, 1))));
    const step = () => tf.dispose(f([x, W]));
    step();
    const before = blasCounters(), { numTensors, numBytes } = tf.memory();
    for (let i = 0; i < 5; i++) step();
    // forward, input and filter gradients: each 2 · positions · window · Cout
    const perStep = 3 * 2 * (2 * 9 * 9) * (3 * 3 * 3) * 4;
    assert.equal(blasCounters().flops - before.flops, 5 * perStep);
    assert.equal(blasCounters().calls - before.calls, 5 * 3);
    assert.equal(tf.memory().numTensors, numTensors);
    assert.equal(tf.memory().numBytes, numBytes);
    tf.dispose([x, W]);
  },
});

/**
 * d/dθ Σ f(θ)·R at `probes` coordinates of each input against central differences in
 * float64 from float32 forward passes.
 */
function gradcheck(
  name: string,
  f: (...xs: Tensor[]) => Tensor,
  inputs: { shape: number[]; values: Float32Array }[],
  { eps = 1e-3, probes = 12, tol = 2e-2 } = {},
) {
  const xs = inputs.map((i) => tf.tensor(i.values, i.shape));
  const outShape = tf.tidy(() => f(...xs)).shape;
  const R = values(outShape.reduce((a, b) => a * b, 1), 99);
  const Rt = tf.tensor(R, outShape);
  const loss = (args: Tensor[]) => {
    const out = tf.tidy(() => f(...args));
    const v = out.dataSync();
    out.dispose();
    let s = 0;
    for (let i = 0; i < v.length; i++) s += v[i] * R[i];
    return s;
  };
  const analytic = tf.grads((...args: Tensor[]) => tf.sum(tf.mul(f(...args), Rt)))(xs);
  let checked = 0;
  inputs.forEach((input, k) => {
    const g = analytic[k].dataSync();
    const at0 = loss(xs);
    for (let p = 0; p < probes; p++) {
      const at = (p * 7919 + k * 104729) % input.values.length;
      const shifted = (delta: number) => {
        const v = input.values.slice();
        v[at] += delta;
        const args = xs.map((x, j) => (j === k ? tf.tensor(v, input.shape) : x));
        const value = loss(args);
        args[k].dispose();
        return value;
      };
      const up = (shifted(eps) - at0) / eps, down = (at0 - shifted(-eps)) / eps;
      // a max (maxout, pooling) switching inside [x − ε, x + ε] is a kink, not an error
      if (Math.abs(up - down) > tol * Math.max(1, Math.abs(up))) continue;
      checked++;
      const numeric = (up + down) / 2;
      assert.ok(
        Math.abs(numeric - g[at]) <= tol * Math.max(1, Math.abs(g[at])),
        `${name}: d/dx${k}[${at}] analytic ${g[at]} vs numeric ${numeric}`,
      );
    }
  });
  assert.ok(
    checked >= 0.75 * probes * inputs.length,
    `${name}: only ${checked} probes away from kinks`,
  );
  tf.dispose([...xs, ...analytic, Rt]);
}

Deno.test({
  name: "gradients on OpenBLAS match finite differences: conv maxout layer, deconv stride 3",
  ignore,
  async fn() {
    await selectBackend("wasm+openblas");
    const layer = (x: Tensor, W: Tensor, b: Tensor) =>
      maxPoolConvnet(maxout(tf.add(conv2dPadded(x, W, 2), b), 2), 4, 2);
    gradcheck("conv maxout", layer, [
      { shape: [2, 9, 9, 3], values: values(2 * 81 * 3, 5) },
      { shape: [4, 4, 3, 4], values: values(192, 6) },
      { shape: [4], values: values(4, 7) },
    ], { probes: 16 });
    gradcheck("deconv", (x, W) => conv2dTransposeValid(x, W, 3), [
      { shape: [2, 3, 3, 4], values: values(72, 8) },
      { shape: [5, 5, 2, 4], values: values(200, 9) },
    ]);
    await selectBackend("wasm");
  },
});

Deno.test({
  name: "cifar10-conv (narrower first G layer) on OpenBLAS trains as on plain wasm to rounding",
  // real CIFAR-10 images: `deno task data cifar10` or $GANBENCH_CIFAR10 (not in CI)
  ignore: ignore || !existsSync(cifarPath()),
  async fn() {
    const config = loadConfig("cifar10-conv", {
      profile: "smoke",
      overrides: [
        'training.budget={"iterations":3}',
        "training.batchSize=8",
        // the paper's layers but the first G layer (100 → 8000 weights, 3 GB on two backends)
        "generator.layers.0.units=200",
        "training.logEvery=1",
        "metrics.samples=20",
        "metrics.parzen=null",
        "metrics.nearestTraining=null",
      ],
    });
    const counts: number[] = [];
    const before = blasCounters();
    const onBlas = await runExperiment(config, {
      seed: 2,
      backend: "wasm+openblas",
      onProgress: () => counts.push(tf.memory().numTensors),
    });
    assert.equal(onBlas.trainStep, "autodiff");
    // the convolutions ran on OpenBLAS: without them it runs 0.4 of the model's FLOPs
    const model = onBlas.modelFlopsPerIteration!;
    const executed = (blasCounters().flops - before.flops) / 3;
    assert.ok(executed >= 0.9 * model, `executed ${executed} of the model's ${model} FLOPs`);
    assert.ok(counts.length === 3 && counts.every((n) => n === counts[0]), `tensors ${counts}`);
    const onWasm = await runExperiment(config, { seed: 2, backend: "wasm" });
    assert.notDeepEqual(onBlas.fingerprints, onWasm.fingerprints);
    for (const key of ["dLoss", "gLoss", "dReal", "dFake", "fakeMean", "fakeStd"] as const) {
      assert.equal(onBlas.history[key].length, 3, key);
      onWasm.history[key].forEach((want, i) => {
        const got = onBlas.history[key][i];
        assert.ok(
          Math.abs(got - want) <= 1e-4 * Math.max(1, Math.abs(want)),
          `${key}[${i}]: ${got} vs ${want}`,
        );
      });
    }
  },
});

Deno.test("cuda-convnet pooling's block max on the wasm heap is tf.max over tf.pad's −∞ bit for bit, gradients too", async () => {
  await selectBackend("wasm");
  // 3 channels: one lane at a time; 6: four lanes, then two
  for (const C of [3, 6]) {
    // ties (repeated values, +0 and −0) and NaN: where reductions could differ
    const v = values(2 * 13 * 11 * C, 21).map((x, i) =>
      i % 7 === 0 ? 0.25 : i % 11 === 0 ? 0 : i % 13 === 0 ? -0 : x
    );
    v[17] = NaN;
    v[7 * C + 1] = NaN; // a block's second entry, in the four-lane part
    const bits = (a: Float32Array) => [...new Uint32Array(a.buffer, a.byteOffset, a.length)];
    // pool 2, stride 2 is the block max alone: 13 × 11 padded to 14 × 12 → 7 × 6
    const R = values(2 * 7 * 6 * C, 22);
    const run = (pool: (a: Tensor) => Tensor) =>
      tf.tidy(() => {
        const x = tf.tensor4d(v, [2, 13, 11, C]);
        const g = tf.grad((a: Tensor) => tf.sum(tf.mul(pool(a), tf.tensor(R, [2, 7, 6, C]))))(x);
        return [pool(x).dataSync() as Float32Array, g.dataSync() as Float32Array];
      });
    const padded = (a: Tensor, rows: number, cols: number) =>
      tf.pad(a, [[0, 0], [0, rows - 13], [0, cols - 11], [0, 0]], -Infinity);
    const [ours, ourGrad] = run((a) => maxPoolConvnet(a, 2, 2));
    const [want, wantGrad] = run((a) =>
      tf.max(tf.reshape(padded(a, 14, 12), [2, 7, 2, 6, 2, C]), [2, 4])
    );
    assert.deepEqual(bits(ours), bits(want));
    assert.deepEqual(bits(ourGrad), bits(wantGrad));
    assert.ok(
      ours.some(Number.isNaN) && ourGrad.some((g) => Object.is(g, -0)),
      "the case has NaN and −0",
    );
    // padding past a whole block: those blocks are −∞
    tf.tidy(() => {
      const x = tf.tensor4d(v, [2, 13, 11, C]);
      const got = blockMaxForwardWasm(x, 2, [18, 14])!.dataSync() as Float32Array;
      const ref = tf.max(tf.reshape(padded(x, 18, 14), [2, 9, 2, 7, 2, C]), [2, 4]);
      assert.deepEqual(bits(got), bits(ref.dataSync() as Float32Array));
    });
  }
});

Deno.test("cuda-convnet pooling's neighbourhood max on the wasm heap is the chain of slices and tf.maximum, bit for bit, gradients too", async () => {
  await selectBackend("wasm");
  // few distinct values: ties everywhere, +0 and −0 among them
  const v = values(2 * 13 * 11 * 4, 31).map((x) => Math.round(x * 6) / 4);
  // the first image's maxima are zeros of both signs: which one a tie keeps shows
  for (let i = 0; i < 13 * 11 * 4; i++) v[i] = [0, -0, -0, -1, -0][i % 5];
  // gradients of very different sizes: the order the views' parts are summed in shows
  const R = values(2 * 6 * 5 * 4, 32).map((x, i) => x * 10 ** ((i * 7) % 12 - 3));
  const pool = 4, stride = 2, k = pool / stride;
  // what maxPoolConvnet computes with TF.js's own ops: −∞ padding to whole windows, the max
  // over stride × stride blocks, then the max of each k × k neighbourhood of blocks, view by view
  const chain = (a: Tensor) => {
    const [b, h, w, c] = a.shape;
    const oh = convnetPoolSize(h, pool, stride), ow = convnetPoolSize(w, pool, stride);
    const hh = (oh - 1 + k) * stride, ww = (ow - 1 + k) * stride;
    const padded = tf.pad(a, [[0, 0], [0, hh - h], [0, ww - w], [0, 0]], -Infinity);
    const blocks = tf.max(tf.reshape(padded, [b, hh / stride, stride, ww / stride, stride, c]), [
      2,
      4,
    ]);
    let out: Tensor | null = null;
    for (let di = 0; di < k; di++) {
      for (let dj = 0; dj < k; dj++) {
        const view = tf.slice(blocks, [0, di, dj, 0], [b, oh, ow, c]);
        out = out ? tf.maximum(out, view) : view;
      }
    }
    return out!;
  };
  const run = (f: (a: Tensor) => Tensor) =>
    tf.tidy(() => {
      const x = tf.tensor4d(v, [2, 13, 11, 4]);
      const g = tf.grad((a: Tensor) => tf.sum(tf.mul(f(a), tf.tensor(R, [2, 6, 5, 4]))))(x);
      return [f(x).dataSync() as Float32Array, g.dataSync() as Float32Array];
    });
  const [ours, ourGrad] = run((a) => maxPoolConvnet(a, pool, stride));
  const [want, wantGrad] = run(chain);
  const bits = (a: Float32Array) => [...new Uint32Array(a.buffer, a.byteOffset, a.length)];
  assert.deepEqual(bits(ours), bits(want));
  assert.deepEqual(bits(ourGrad), bits(wantGrad));
  assert.ok(
    v.some((x) => Object.is(x, -0)) && ourGrad.some((g) => Object.is(g, -0)),
    "the case has −0 among the inputs and the gradients",
  );
});

if (!existsSync(cifarPath())) {
  console.warn(
    "cifar10-conv training test skipped: deno task data cifar10 (or set $GANBENCH_CIFAR10)",
  );
}
