import assert from "node:assert/strict";
import { KernelArena } from "../src/backend/arena-kernels.ts";
import { Rng } from "../src/rng/streams.ts";

/** Values that test the rounding and the special cases: ±0, ±∞, NaN, subnormals, extremes. */
function awkward(seed: number, n: number): Float32Array {
  const d = new Rng(seed).stream("arena-kernels").at(0);
  const out = d.normal(n);
  const special = [0, -0, Infinity, -Infinity, NaN, 1e-45, -1e-42, 3.4e38, -3.4e38, 1, -1];
  for (let i = 0; i < n; i++) {
    const scale = 10 ** Math.floor(d.nextFloat24() * 20 - 10);
    out[i] = i % 29 < special.length ? special[(i * 7) % special.length] : out[i] * scale;
  }
  return out;
}

const sameBits = (a: Float32Array, b: Float32Array, what: string) => {
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < a.length; i++) {
    if (x[i] !== y[i]) assert.fail(`${what}[${i}]: arena ${a[i]}, JavaScript ${b[i]}`);
  }
};

const SIZES = [1, 3, 4, 7, 1001];

Deno.test("the arena's multiply, ReLU and ReLU backward give the JavaScript loops' bits", () => {
  for (const n of SIZES) {
    const arena = new KernelArena([n, n, n, n]);
    const [a, b, c] = [1, 2, 3].map((s) => awkward(s * 100 + n, n));
    // multiply: dst = src · mask, the mask copied in from outside (where there is room)
    const src = new KernelArena([n, n]), x = src.f32(n), dst = src.f32(n);
    x.set(a);
    assert.equal(src.multiplyInto(dst, 0, x, b, n), false, "no room to copy the mask in");
    const withRoom = new KernelArena([n, n], n);
    const x2 = withRoom.f32(n), dst2 = withRoom.f32(n);
    x2.set(a);
    assert.equal(withRoom.multiplyInto(dst2, 0, x2, b, n), true);
    const ref = new Float32Array(n);
    for (let k = 0; k < n; k++) ref[k] = a[k] * b[k];
    sameBits(dst2, ref, `multiply n ${n}`);
    // ReLU in place, (v + |v|)·0.5 in float64 rounded once
    const r = arena.f32(n);
    r.set(c);
    assert.equal(arena.relu(r, n), true);
    const reluRef = new Float32Array(n);
    for (let k = 0; k < n; k++) reluRef[k] = (c[k] + Math.abs(c[k])) * 0.5;
    sameBits(r, reluRef, `relu n ${n}`);
    // ReLU backward: δ = δ_out · (out > 0)
    const delta = arena.f32(n), outDelta = arena.f32(n), out = arena.f32(n);
    outDelta.set(a);
    out.set(c);
    assert.equal(arena.reluBackward(delta, outDelta, out, 0, 0, n), true);
    const backRef = new Float32Array(n);
    for (let k = 0; k < n; k++) backRef[k] = a[k] * +(c[k] > 0);
    sameBits(delta, backRef, `reluBackward n ${n}`);
  }
});

Deno.test("the arena's kernels work at an offset and decline arrays outside it", () => {
  const arena = new KernelArena([12, 12, 12], 12);
  const dst = arena.f32(12), src = arena.f32(12), out = arena.f32(12);
  src.set(awkward(9, 12));
  out.set(awkward(10, 12));
  const mask = awkward(11, 5);
  dst.fill(42);
  assert.equal(arena.multiplyInto(dst, 6, src, mask, 5), true);
  for (let k = 0; k < 12; k++) {
    const want = k >= 6 && k < 11 ? Math.fround(src[k] * mask[k - 6]) : 42;
    assert.ok(Object.is(dst[k], want), `dst[${k}] ${dst[k]}, want ${want}`);
  }
  // rows 3.. of δ_out against rows 5.. of the forward values, as activationBackward's row maps do
  dst.fill(7);
  assert.equal(arena.reluBackward(dst, src, out, 3, 5, 6), true);
  for (let k = 0; k < 12; k++) {
    const want = k >= 3 && k < 9 ? Math.fround(src[k] * +(out[k + 2] > 0)) : 7;
    assert.ok(Object.is(dst[k], want), `δ[${k}] ${dst[k]}, want ${want}`);
  }
  const plain = new Float32Array(12);
  assert.equal(arena.relu(plain, 12), false);
  assert.equal(arena.multiplyInto(plain, 0, src, mask, 5), false);
  assert.equal(arena.reluBackward(dst, plain, out, 0, 0, 5), false);
  assert.equal(arena.multiplyInto(dst, 8, src, mask, 5), false, "past the end");
  assert.equal(KernelArena.of(dst), arena);
  assert.equal(KernelArena.of(plain), null);
  assert.throws(() => arena.f32(1), /the arena has no room for 1 more values/);
});
