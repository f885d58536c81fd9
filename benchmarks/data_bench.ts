/**
 * Load times of the real data sets from their default sources (`deno task perf`).
 * Targets (issue 3): MNIST, all splits, under 2 s; CIFAR-10 under 10 s.
 */
import { loadDataset } from "../src/data/registry.ts";

Deno.bench({
  name: "MNIST: read, verify SHA-256, parse, scale all splits",
  group: "data",
  n: 5,
  warmup: 1,
  fn() {
    loadDataset("mnist");
  },
});

Deno.bench({
  name: "CIFAR-10: decode 6 PNG sprites, verify, planar float32 (train + test)",
  group: "data",
  n: 2,
  warmup: 0,
  fn() {
    loadDataset("cifar10");
  },
});
