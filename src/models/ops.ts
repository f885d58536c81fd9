/**
 * Differentiable ops with hand-written gradients, where TF.js's own are slow or missing
 * on the wasm backend (docs/platform.md): matMul's gradients take the transposed-operand
 * path (7–15× slower than an explicit transpose), tf.max's gradient broadcasts an equality
 * test, and wasm has no Conv2DBackpropFilter kernel at all. Each is checked against finite
 * differences in test/gradcheck_test.ts.
 */
import {
  blasKernelsActive,
  blockMaxBackwardWasm,
  blockMaxForwardWasm,
  maxoutBackwardWasm,
  maxoutForwardWasm,
  neighbourhoodMaxBackwardWasm,
  neighbourhoodMaxForwardWasm,
  wasmHeapActive,
} from "../backend/wasm-kernels.ts";
import { poolingShapeOnHeap } from "../backend/heap-kernels.ts";
import { type Tensor, tf } from "../backend/tf.ts";
import { convnetPoolSize } from "./shapes.ts";

type GradFn = Parameters<typeof tf.customGrad>[0];
// deno-lint-ignore no-explicit-any
const custom = <F extends (...args: any[]) => Tensor>(f: unknown): F =>
  tf.customGrad(f as GradFn) as unknown as F;

/**
 * x·W + b for x [B, in], W [in, out], b [out]. On OpenBLAS, TF.js's own gradients: they
 * read transposed operands in place and, unlike a customGrad, compute only the gradients
 * the tape needs (no dx for data, no dW for the frozen network of a G step).
 */
export function dense(x: Tensor, W: Tensor, b: Tensor): Tensor {
  return blasKernelsActive() ? tf.add(tf.matMul(x, W), b) : denseExplicitTransposes(x, W, b);
}

const denseExplicitTransposes = custom<(x: Tensor, W: Tensor, b: Tensor) => Tensor>(
  (x: Tensor, W: Tensor, b: Tensor, save: (t: Tensor[]) => void) => {
    save([x, W]);
    return {
      value: tf.add(tf.matMul(x, W), b),
      gradFunc: (dy: Tensor, [xs, Ws]: Tensor[]) => {
        // the transposed copies are freed at once: for an 8000×8000 layer each is 256 MB
        // of a wasm heap capped at 4 GB
        const Wt = tf.transpose(Ws), xt = tf.transpose(xs);
        const dx = tf.matMul(dy, Wt), dW = tf.matMul(xt, dy);
        Wt.dispose();
        xt.dispose();
        return [dx, dW, tf.sum(dy, 0)];
      },
    };
  },
);

/**
 * The same values as `t`, invisible to gradients: a new tensor on `t`'s memory (no copy,
 * no op on the tape), so a tape sees no path through it.
 */
export function detach(t: Tensor): Tensor {
  const backend = tf.engine().backend as unknown as { incRef(dataId: object): void };
  backend.incRef(t.dataId);
  return tf.engine().makeTensorFromTensorInfo({ dataId: t.dataId, shape: t.shape, dtype: t.dtype });
}

/**
 * Maxout over contiguous groups of the last axis: [..., units·pieces] → [..., units],
 * unit u = max of entries u·pieces … u·pieces + pieces − 1 (pylearn2's Maxout).
 * The gradient goes to the first maximal piece.
 */
export function maxout(z: Tensor, pieces: number): Tensor {
  return pieces === 1 ? z : perParameter(maxoutOps, pieces, makeMaxout)(z);
}

/** customGrad closes over its integer parameter: one op per value, made once. */
const maxoutOps = new Map<number, (z: Tensor) => Tensor>();
const convOps = new Map<number, (x: Tensor, f: Tensor) => Tensor>();
const deconvOps = new Map<number, (x: Tensor, f: Tensor) => Tensor>();
function perParameter<F>(cache: Map<number, F>, key: number, make: (k: number) => F): F {
  let op = cache.get(key);
  if (!op) cache.set(key, op = make(key));
  return op;
}

const makeMaxout = (pieces: number) =>
  custom<(z: Tensor) => Tensor>((z: Tensor, save: (t: Tensor[]) => void) => {
    const shape = z.shape;
    const units = shape[shape.length - 1] / pieces;
    const onHeap = maxoutForwardWasm(z, pieces);
    const grouped = onHeap ? null : tf.reshape(z, [...shape.slice(0, -1), units, pieces]);
    const value = onHeap?.value ?? tf.max(grouped!, -1);
    const winner = onHeap?.winner ?? tf.argMax(grouped!, -1);
    save([winner]);
    return {
      value,
      gradFunc: (dy: Tensor, [w]: Tensor[]) => {
        const scattered = maxoutBackwardWasm(dy, w, pieces, shape);
        if (scattered) return [scattered];
        // tf.oneHot with a float dtype returns zeros on wasm 4.22: build it as int, then cast
        const mask = tf.cast(tf.oneHot(w as tf.Tensor1D, pieces), "float32");
        return [tf.reshape(tf.mul(mask, tf.expandDims(dy, -1)), shape)];
      },
    };
  });

/**
 * Stride-1 convolution, NHWC, with zero padding `pad` on every side; x [B, H, W, Cin],
 * filter [k, k, Cin, Cout]. The filter gradient is itself a convolution (batch as channels).
 */
export function conv2dPadded(x: Tensor, filter: Tensor, pad: number): Tensor {
  // on OpenBLAS TF.js's own op and gradients: the three kernels are products there
  // (src/backend/conv-blas.ts), and the tape asks only for the gradients it needs
  if (blasKernelsActive()) return tf.conv2d(x as tf.Tensor4D, filter as tf.Tensor4D, 1, pad);
  return perParameter(convOps, pad, makeConv)(x, filter);
}

const makeConv = (pad: number) =>
  custom<(x: Tensor, f: Tensor) => Tensor>(
    (x: Tensor, filter: Tensor, save: (t: Tensor[]) => void) => {
      const xp = pad > 0 ? tf.pad(x, [[0, 0], [pad, pad], [pad, pad], [0, 0]]) : x;
      save([xp, filter]);
      const value = tf.conv2d(xp as tf.Tensor4D, filter as tf.Tensor4D, 1, "valid");
      return {
        value,
        gradFunc: (dy: Tensor, [xps, f]: Tensor[]) => {
          // dx_pad = full correlation of dy with the flipped filter, written as a plain conv2d
          // of the (k−1)-padded dy: wasm's conv2dTranspose (Conv2DBackpropInput) is ~7× slower
          const k = f.shape[0];
          const dxp = tf.conv2d(
            tf.pad(dy, [[0, 0], [k - 1, k - 1], [k - 1, k - 1], [0, 0]]) as tf.Tensor4D,
            tf.transpose(tf.reverse(f, [0, 1]), [0, 1, 3, 2]) as tf.Tensor4D,
            1,
            "valid",
          );
          const [, hp, wp] = xps.shape;
          const dx = pad > 0
            ? tf.slice(dxp, [0, pad, pad, 0], [-1, hp - 2 * pad, wp - 2 * pad, -1])
            : dxp;
          // dW[i, j, ci, co] = Σ_b,y,x xp[b, y+i, x+j, ci] · dy[b, y, x, co]
          const dW = tf.transpose(
            tf.conv2d(
              tf.transpose(xps, [3, 1, 2, 0]) as tf.Tensor4D, // [Cin, Hp, Wp, B]
              tf.transpose(dy, [1, 2, 0, 3]) as tf.Tensor4D, // [Ho, Wo, B, Cout]
              1,
              "valid",
            ),
            [1, 2, 0, 3],
          ); // [Cin, k, k, Cout] → [k, k, Cin, Cout]
          return [dx, dW];
        },
      };
    },
  );

/**
 * Transposed convolution ("deconvolution"), NHWC, valid padding: x [B, h, w, Cin],
 * filter [k, k, Cout, Cin] → [B, (h−1)·s + k, (w−1)·s + k, Cout].
 */
export function conv2dTransposeValid(x: Tensor, filter: Tensor, stride: number): Tensor {
  if (blasKernelsActive()) {
    const [b, h, w] = x.shape, [k, , cout] = filter.shape;
    const outShape: [number, number, number, number] = [
      b,
      (h - 1) * stride + k,
      (w - 1) * stride + k,
      cout,
    ];
    return tf.conv2dTranspose(x as tf.Tensor4D, filter as tf.Tensor4D, outShape, stride, "valid");
  }
  return perParameter(deconvOps, stride, makeDeconv)(x, filter);
}

const makeDeconv = (s: number) =>
  custom<(x: Tensor, f: Tensor) => Tensor>(
    (x: Tensor, filter: Tensor, save: (t: Tensor[]) => void) => {
      const [b, h, w] = x.shape;
      const [k, , cout] = filter.shape;
      const outShape: [number, number, number, number] = [
        b,
        (h - 1) * s + k,
        (w - 1) * s + k,
        cout,
      ];
      save([x, filter]);
      return {
        value: tf.conv2dTranspose(x as tf.Tensor4D, filter as tf.Tensor4D, outShape, s, "valid"),
        gradFunc: (dy: Tensor, [xs, f]: Tensor[]) => {
          const dx = tf.conv2d(dy as tf.Tensor4D, f as tf.Tensor4D, s, "valid");
          // dW[i, j, co, ci] = Σ_b,y,x dy[b, y·s + i, x·s + j, co] · x[b, y, x, ci]:
          // a correlation of dy with x dilated by s (batch as channels)
          const dW = tf.transpose(
            tf.conv2d(
              tf.transpose(dy, [3, 1, 2, 0]) as tf.Tensor4D, // [Cout, H, W, B]
              tf.transpose(xs, [1, 2, 0, 3]) as tf.Tensor4D, // [h, w, B, Cin]
              1,
              "valid",
              "NHWC",
              s,
            ),
            [1, 2, 0, 3],
          ); // [Cout, k, k, Cin] → [k, k, Cout, Cin]
          return [dx, dW];
        },
      };
    },
  );

/**
 * cuda-convnet max pooling, whose windows may run past the bottom/right edge: out =
 * ⌈(n − pool) / stride⌉ + 1 windows per axis (docs/paper-protocol.md §2c), padded with −∞.
 * Not tf.maxPool: the wasm backend's MaxPoolGrad kernel drops gradients (found by
 * test/gradcheck_test.ts). When pool is a multiple of stride (every paper layer), the
 * input is max-reduced over stride × stride blocks and the pool/stride × pool/stride
 * neighbourhoods of those blocks are combined with tf.maximum; otherwise every
 * pool × pool strided view is. Both use only ops whose wasm gradients are right.
 */
/**
 * Max over s × s blocks, x [B, H, W, C] → [B, H/s, W/s, C]: tf.max over the blocks' axes,
 * whose gradient on wasm is a broadcast equality test far slower than the products around
 * it; on the wasm heap both directions compute exactly what TF.js's do.
 */
function blockMax(x: Tensor, s: number): Tensor {
  if (s === 1) return x;
  return perParameter(blockMaxOps, s, makeBlockMax)(x);
}

const blockMaxOps = new Map<number, (x: Tensor) => Tensor>();
const makeBlockMax = (s: number) =>
  custom<(x: Tensor) => Tensor>((x: Tensor, save: (t: Tensor[]) => void) => {
    const [b, h, w, c] = x.shape;
    const value = blockMaxForwardWasm(x, s) ??
      tf.max(tf.reshape(x, [b, h / s, s, w / s, s, c]), [2, 4]);
    save([x, value]);
    return {
      value,
      gradFunc: (dy: Tensor, [xs, y]: Tensor[]) => {
        const onHeap = blockMaxBackwardWasm(dy, xs, y, s);
        if (onHeap) return [onHeap];
        const keep = [b, h / s, 1, w / s, 1, c];
        const grouped = tf.reshape(xs, [b, h / s, s, w / s, s, c]);
        const mask = tf.cast(tf.equal(grouped, tf.reshape(y, keep)), "float32");
        return [tf.reshape(tf.mul(tf.reshape(dy, keep), mask), xs.shape)];
      },
    };
  });

/**
 * blockMax of x padded with −∞ to [hh, ww] (multiples of s). On the wasm heap one op that
 * reads x in place, the padding never read (−∞ never takes over a block's max) and given no
 * gradient: tf.pad's values and gradient (a slice) without the padded copy. Elsewhere, and
 * for s = 1 (where the pad is the whole op), tf.pad then blockMax.
 */
function blockMaxPadded(x: Tensor, s: number, hh: number, ww: number): Tensor {
  if (s === 1 || !wasmHeapActive()) return blockMax(padWithMinusInfinity(x, hh, ww), s);
  const key = `${s} ${hh} ${ww}`;
  let op = paddedBlockMaxOps.get(key);
  if (!op) paddedBlockMaxOps.set(key, op = makePaddedBlockMax(s, hh, ww));
  return op(x);
}

const paddedBlockMaxOps = new Map<string, (x: Tensor) => Tensor>();
const makePaddedBlockMax = (s: number, hh: number, ww: number) =>
  custom<(x: Tensor) => Tensor>((x: Tensor, save: (t: Tensor[]) => void) => {
    const value = blockMaxForwardWasm(x, s, [hh, ww]);
    if (!value) throw new Error("blockMaxPadded's heap op runs on the wasm backend only");
    save([x, value]);
    return {
      value,
      gradFunc: (dy: Tensor, [xs, y]: Tensor[]) => [blockMaxBackwardWasm(dy, xs, y, s)!],
    };
  });

/** x [B, H, W, C] padded at the bottom and right with −∞ to [B, hh, ww, C]. */
function padWithMinusInfinity(x: Tensor, hh: number, ww: number): Tensor {
  const [, h, w] = x.shape;
  return tf.pad(x, [[0, 0], [0, Math.max(0, hh - h)], [0, Math.max(0, ww - w)], [0, 0]], -Infinity);
}

/**
 * The max over every k × k neighbourhood, [B, H, W, C] → [B, H − k + 1, W − k + 1, C], as one
 * op on the wasm heap: the same numbers, gradients included, as maxPoolConvnet's chain of k²
 * slices and tf.maximum (test/conv_blas_test.ts holds the two equal bit for bit).
 */
function neighbourhoodMax(x: Tensor, k: number): Tensor {
  return perParameter(neighbourhoodMaxOps, k, makeNeighbourhoodMax)(x);
}

const neighbourhoodMaxOps = new Map<number, (x: Tensor) => Tensor>();
const makeNeighbourhoodMax = (k: number) =>
  custom<(x: Tensor) => Tensor>((x: Tensor, save: (t: Tensor[]) => void) => {
    const value = neighbourhoodMaxForwardWasm(x, k);
    if (!value) throw new Error("neighbourhoodMax runs on the wasm backend only");
    save([x]);
    return {
      value,
      gradFunc: (dy: Tensor, [xs]: Tensor[]) => [neighbourhoodMaxBackwardWasm(dy, xs, k)!],
    };
  });

export function maxPoolConvnet(x: Tensor, pool: number, stride: number): Tensor {
  const [b, h, w, c] = x.shape;
  const oh = convnetPoolSize(h, pool, stride), ow = convnetPoolSize(w, pool, stride);
  const combine = (source: Tensor, offsets: number, step: number) => {
    let out: Tensor | null = null;
    for (let di = 0; di < offsets; di++) {
      for (let dj = 0; dj < offsets; dj++) {
        const view = step === 1 ? tf.slice(source, [0, di, dj, 0], [b, oh, ow, c]) : tf.reshape( // rows di, di + step, …: the first row of each step-sized block
          tf.slice(
            tf.reshape(tf.slice(source, [0, di, dj, 0], [b, oh * step, ow * step, c]), [
              b,
              oh,
              step,
              ow,
              step,
              c,
            ]),
            [0, 0, 0, 0, 0, 0],
            [b, oh, 1, ow, 1, c],
          ),
          [b, oh, ow, c],
        );
        out = out ? tf.maximum(out, view) : view;
      }
    }
    return out!;
  };
  if (pool % stride === 0) {
    const k = pool / stride;
    const hh = (oh - 1 + k) * stride, ww = (ow - 1 + k) * stride;
    const blocks = blockMaxPadded(x, stride, hh, ww);
    // one view, the whole of blocks: a slice would only copy it
    if (k === 1) return blocks;
    return wasmHeapActive() && poolingShapeOnHeap(blocks.shape)
      ? neighbourhoodMax(blocks, k)
      : combine(blocks, k, 1);
  }
  return combine(
    padWithMinusInfinity(x, pool - 1 + oh * stride, pool - 1 + ow * stride),
    pool,
    stride,
  );
}
