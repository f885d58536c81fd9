/**
 * The GPU check's pure parts (benchmarks/gpu_check_report.ts): the adapter description from a
 * stand-in adapter or none, the median, sgemm's FLOP count, and the it/s from the progress
 * marks that a stopped stage leaves.
 */
import assert from "node:assert/strict";
import {
  describeAdapter,
  median,
  notRun,
  partialRate,
  sgemmGflops,
  trainWarmup,
} from "../benchmarks/gpu_check_report.ts";

const h200 = {
  info: {
    vendor: "4318",
    architecture: "",
    device: "8997",
    description: "NVIDIA H200",
    isFallbackAdapter: false,
  },
  features: new Set(["timestamp-query", "shader-f16"]),
  // GPUSupportedLimits keeps its values on getters; a class reproduces that
  limits: new (class {
    get maxBufferSize() {
      return 2 ** 40;
    }
    get maxComputeWorkgroupSizeX() {
      return 1024;
    }
    get notAKeyLimit() {
      return 7;
    }
  })(),
};

Deno.test("describeAdapter: a hardware adapter, its features sorted and its key limits", () => {
  const r = describeAdapter(true, h200);
  assert.equal(r.kind, "hardware");
  assert.equal(r.summary, "hardware adapter: NVIDIA H200");
  assert.deepEqual(r.adapter, {
    vendor: "4318",
    architecture: "",
    device: "8997",
    description: "NVIDIA H200",
    isFallbackAdapter: false,
    features: ["shader-f16", "timestamp-query"],
    limits: { maxBufferSize: 2 ** 40, maxComputeWorkgroupSizeX: 1024 },
  });
});

Deno.test("describeAdapter: a fallback adapter is no hardware adapter, by either flag", () => {
  const inInfo = describeAdapter(true, {
    info: { description: "llvmpipe (LLVM 15.0.6, 256 bits)", isFallbackAdapter: true },
  });
  assert.equal(inInfo.kind, "fallback");
  assert.equal(
    inInfo.summary,
    "no hardware adapter: only a software fallback adapter (llvmpipe (LLVM 15.0.6, 256 bits))",
  );
  const onAdapter = describeAdapter(true, { info: { vendor: "65541" }, isFallbackAdapter: true });
  assert.equal(onAdapter.kind, "fallback");
  assert.equal(
    onAdapter.summary,
    "no hardware adapter: only a software fallback adapter (vendor 65541, device )",
  );
});

Deno.test("describeAdapter: no adapter, and why", () => {
  assert.deepEqual(describeAdapter(false, null), {
    navigatorGpu: false,
    kind: "none",
    adapter: null,
    error: null,
    summary: "no adapter: navigator.gpu is absent",
  });
  assert.equal(
    describeAdapter(true, null).summary,
    "no adapter: requestAdapter() gave null (no Vulkan/GL driver that wgpu could use)",
  );
  const threw = describeAdapter(true, null, "no backend");
  assert.equal(threw.summary, "no adapter: requestAdapter() threw: no backend");
  assert.equal(threw.error, "no backend");
});

Deno.test("median, sgemm GFLOP/s and the warm-up", () => {
  assert.equal(median([5, 1, 3]), 3);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.ok(Number.isNaN(median([])));
  // 10 products of 2048³: 2 · 2048³ · 10 = 171.8 GFLOP, in 0.5 s
  assert.equal(sgemmGflops(2048, 10, 0.5), (2 * 2048 ** 3 * 10) / 0.5 / 1e9);
  assert.equal(Math.round(sgemmGflops(2048, 10, 0.5) * 1000) / 1000, 343.597);
  assert.deepEqual([2, 8, 30, 100].map(trainWarmup), [1, 2, 5, 5]);
});

Deno.test("partialRate: iterations after the warm-up over their time; null with too few", () => {
  const marks = [
    { iteration: 1, ms: 10_000 }, // shader compilation
    { iteration: 2, ms: 10_500 },
    { iteration: 3, ms: 10_750 },
    { iteration: 4, ms: 11_000 },
  ];
  assert.equal(partialRate(marks, 1), 3 / 1); // iterations 2–4 in 1 s
  assert.equal(partialRate(marks, 2), 2 / 0.5);
  assert.equal(partialRate(marks.slice(0, 1), 1), null);
  assert.equal(partialRate([], 1), null);
  assert.equal(partialRate(marks.slice(1), 1), null); // the warm-up mark is missing
});

Deno.test("notRun: a stage left out says why", () => {
  assert.deepEqual(notRun("no CIFAR-10", "skipped"), {
    status: "skipped",
    reason: "no CIFAR-10",
    limitSeconds: 0,
    seconds: 0,
    results: [],
    partialIterationsPerSecond: null,
    iterationsDone: null,
    firstIterationSeconds: null,
    stderrTail: null,
  });
});
