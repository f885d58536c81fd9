/**
 * 2-D convolutions on OpenBLAS for the wasm backend: Conv2D, Conv2DBackpropInput (also the
 * transposed convolution's forward) and Conv2DBackpropFilter (which the wasm backend lacks),
 * NHWC, any stride and padding, dilation 1. Each lowers to matrix products on the heap:
 *
 * - im2col: the k×k×Cin window of output position (b, y, x) becomes row (b·Ho + y)·Wo + x
 *   of a [positions, k·k·Cin] matrix, zeros where the window leaves the (padded) input;
 * - forward: output [positions, Cout] = cols · filter[k·k·Cin, Cout] (the NHWC layout);
 * - input gradient: colsGrad = dy[positions, Cout] · filterᵀ, scattered back (col2im);
 * - filter gradient: Σ colsᵀ · dy.
 *
 * The positions are taken in chunks of a fixed size (only the shapes decide it), so the
 * scratch matrix stays small and the filter gradient's sum over chunks is the same on every
 * run: no number depends on anything but the shapes and OpenBLAS's own product.
 */
import { tf } from "./tf.ts";
import type { OpenBlas } from "./openblas.ts";
import { col2imAddOnHeap, HeapArray, im2colOnHeap, type WindowGeometry } from "./heap-kernels.ts";

type TensorInfo = tf.TensorInfo;
type KernelFunc = Parameters<typeof tf.registerKernel>[0]["kernelFunc"];

interface HeapBackend {
  makeOutput(shape: number[], dtype: tf.DataType): TensorInfo;
  typedArrayFromHeap(t: TensorInfo): Float32Array | Int32Array;
}

/** What a product costs, for the caller's FLOP counters. */
export type CountProduct = (flops: number, seconds: number) => void;

/** The geometry of one convolution, from TF.js's own shape logic. */
export interface ConvGeometry extends WindowGeometry {
  batch: number;
  outChannels: number;
}

/** Entries of the im2col scratch matrix per chunk (16 MiB): a cache-sized piece of work. */
export const CHUNK_ENTRIES = 1 << 22;

/** Output positions per chunk for a window of `windowSize` entries (shapes only). */
export function chunkRows(windowSize: number): number {
  return Math.max(1, Math.floor(CHUNK_ENTRIES / windowSize));
}

/** The im2col matrix of one chunk, on the heap beside the tensors (the heap kernels take it). */
const scratch = new HeapArray();

function geometryOf(info: tf.backend_util.Conv2DInfo): ConvGeometry {
  return {
    batch: info.batchSize,
    inHeight: info.inHeight,
    inWidth: info.inWidth,
    inChannels: info.inChannels,
    outHeight: info.outHeight,
    outWidth: info.outWidth,
    outChannels: info.outChannels,
    filterHeight: info.filterHeight,
    filterWidth: info.filterWidth,
    strideHeight: info.strideHeight,
    strideWidth: info.strideWidth,
    padTop: info.padInfo.top,
    padLeft: info.padInfo.left,
  };
}

interface ConvAttrs {
  strides: number | [number, number];
  pad: "valid" | "same" | number | tf.backend_util.ExplicitPadding;
  dataFormat: "NHWC" | "NCHW";
  dilations?: number | [number, number];
  dimRoundingMode?: "floor" | "round" | "ceil";
}

/** The cases these kernels take: float32 NHWC without dilation (the rest falls back). */
function supported(attrs: ConvAttrs, ...inputs: TensorInfo[]): boolean {
  const d = attrs.dilations ?? 1;
  const undilated = typeof d === "number" ? d === 1 : d.every((v) => v === 1);
  return attrs.dataFormat !== "NCHW" && undilated && inputs.every((t) => t.dtype === "float32");
}

function info(inShape: number[], filterShape: number[], attrs: ConvAttrs) {
  return tf.backend_util.computeConv2DInfo(
    inShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
    false,
    "channelsLast",
  );
}

const positionsOf = (g: ConvGeometry) => g.batch * g.outHeight * g.outWidth;
const windowOf = (g: ConvGeometry) => g.filterHeight * g.filterWidth * g.inChannels;

/** The heap scratch for one chunk of g's im2col matrix (before any view: it may grow the heap). */
const colsFor = (g: ConvGeometry) => scratch.view(chunkRows(windowOf(g)) * windowOf(g));

/** y = conv(x, filter): x [B, H, W, Cin], filter [kh, kw, Cin, Cout] → [B, Ho, Wo, Cout]. */
export function convForward(
  blas: OpenBlas,
  count: CountProduct,
  x: Float32Array,
  filter: Float32Array,
  g: ConvGeometry,
  y: Float32Array,
  cols: Float32Array,
): void {
  const n = positionsOf(g), K = windowOf(g), N = g.outChannels, rows = chunkRows(K);
  let seconds = 0;
  for (let r0 = 0; r0 < n; r0 += rows) {
    const r1 = Math.min(n, r0 + rows);
    im2colOnHeap(x, g, r0, r1, cols);
    const t0 = performance.now();
    blas.sgemm(false, false, r1 - r0, N, K, cols, filter, y.subarray(r0 * N, r1 * N));
    seconds += performance.now() - t0;
  }
  count(2 * n * K * N, seconds / 1000);
}

/** dx = the input gradient of conv(x, filter) given dy [B, Ho, Wo, Cout]. */
export function convBackpropInput(
  blas: OpenBlas,
  count: CountProduct,
  dy: Float32Array,
  filter: Float32Array,
  g: ConvGeometry,
  dx: Float32Array,
  cols: Float32Array,
): void {
  const n = positionsOf(g), K = windowOf(g), N = g.outChannels, rows = chunkRows(K);
  dx.fill(0);
  let seconds = 0;
  for (let r0 = 0; r0 < n; r0 += rows) {
    const r1 = Math.min(n, r0 + rows);
    const t0 = performance.now();
    blas.sgemm(false, true, r1 - r0, K, N, dy.subarray(r0 * N, r1 * N), filter, cols);
    seconds += performance.now() - t0;
    col2imAddOnHeap(cols, g, r0, r1, dx);
  }
  count(2 * n * K * N, seconds / 1000);
}

/** dfilter [kh, kw, Cin, Cout] = the filter gradient of conv(x, filter) given dy. */
export function convBackpropFilter(
  blas: OpenBlas,
  count: CountProduct,
  x: Float32Array,
  dy: Float32Array,
  g: ConvGeometry,
  dfilter: Float32Array,
  cols: Float32Array,
): void {
  const n = positionsOf(g), K = windowOf(g), N = g.outChannels, rows = chunkRows(K);
  if (n === 0) dfilter.fill(0);
  let seconds = 0;
  for (let r0 = 0; r0 < n; r0 += rows) {
    const r1 = Math.min(n, r0 + rows);
    im2colOnHeap(x, g, r0, r1, cols);
    const t0 = performance.now();
    blas.gemm(
      true,
      false,
      K,
      N,
      r1 - r0,
      1,
      cols,
      dy.subarray(r0 * N, r1 * N),
      r0 ? 1 : 0,
      dfilter,
    );
    seconds += performance.now() - t0;
  }
  count(2 * n * K * N, seconds / 1000);
}

/**
 * The three kernels for the wasm backend; `fallbacks` are the wasm backend's own (absent
 * for Conv2DBackpropFilter, which it does not have).
 */
export function blasConvKernels(
  blas: OpenBlas,
  count: CountProduct,
  fallbacks: Partial<Record<"Conv2D" | "Conv2DBackpropInput", KernelFunc>>,
): Record<"Conv2D" | "Conv2DBackpropInput" | "Conv2DBackpropFilter", KernelFunc> {
  const heap = (backend: unknown) => backend as HeapBackend;
  const view = (backend: HeapBackend, t: TensorInfo) =>
    backend.typedArrayFromHeap(t) as Float32Array;
  return {
    Conv2D(args) {
      const { x, filter } = args.inputs as { x: TensorInfo; filter: TensorInfo };
      const attrs = args.attrs as unknown as ConvAttrs;
      if (!supported(attrs, x, filter)) return fallbacks.Conv2D!(args);
      const g = geometryOf(info(x.shape, filter.shape, attrs));
      const backend = heap(args.backend);
      const out = backend.makeOutput([g.batch, g.outHeight, g.outWidth, g.outChannels], "float32");
      // views only after makeOutput and the scratch: an allocation may grow the heap, detaching
      // older views
      const cols = colsFor(g);
      convForward(
        blas,
        count,
        view(backend, x),
        view(backend, filter),
        g,
        view(backend, out),
        cols,
      );
      return out;
    },
    Conv2DBackpropInput(args) {
      const { dy, filter } = args.inputs as { dy: TensorInfo; filter: TensorInfo };
      const attrs = args.attrs as unknown as ConvAttrs & { inputShape: number[] };
      if (!supported(attrs, dy, filter)) return fallbacks.Conv2DBackpropInput!(args);
      const g = geometryOf(info(attrs.inputShape, filter.shape, attrs));
      const backend = heap(args.backend);
      const out = backend.makeOutput(attrs.inputShape, "float32");
      const cols = colsFor(g);
      convBackpropInput(
        blas,
        count,
        view(backend, dy),
        view(backend, filter),
        g,
        view(backend, out),
        cols,
      );
      return out;
    },
    Conv2DBackpropFilter(args) {
      const { x, dy } = args.inputs as { x: TensorInfo; dy: TensorInfo };
      const attrs = args.attrs as unknown as ConvAttrs & { filterShape: number[] };
      if (!supported(attrs, x, dy)) {
        throw new Error(
          "Conv2DBackpropFilter on wasm+openblas takes float32 NHWC only " +
            `(got ${attrs.dataFormat}, ${x.dtype}); the wasm backend has no kernel of its own`,
        );
      }
      const g = geometryOf(info(x.shape, attrs.filterShape, attrs));
      const backend = heap(args.backend);
      const out = backend.makeOutput(attrs.filterShape, "float32");
      const cols = colsFor(g);
      convBackpropFilter(
        blas,
        count,
        view(backend, x),
        view(backend, dy),
        g,
        view(backend, out),
        cols,
      );
      return out;
    },
  };
}
