import assert from "node:assert/strict";
import { philox4x32, philox4x32Blocks } from "../src/rng/philox.ts";
import { Rng } from "../src/rng/streams.ts";

const hex = (o: Uint32Array) => [...o].map((x) => x.toString(16).padStart(8, "0"));

Deno.test("philox4x32-10 matches the Random123 known-answer vectors", () => {
  const out = new Uint32Array(4);
  philox4x32(0, 0, 0, 0, 0, 0, out);
  assert.deepEqual(hex(out), ["6627e8d5", "e169c58d", "bc57ac4c", "9b00dbd8"]);
  const f = 0xffffffff;
  philox4x32(f, f, f, f, f, f, out);
  assert.deepEqual(hex(out), ["408f276d", "41c83b0e", "a20bc7c6", "6d5451fd"]);
  philox4x32(0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344, 0xa4093822, 0x299f31d0, out);
  assert.deepEqual(hex(out), ["d16cfe09", "94fdcceb", "5001e420", "24126ea1"]);
});

Deno.test("a (seed, stream, step) always gives the same numbers; any change gives others", () => {
  const a = new Rng(7).stream("train/z").at(12).uniform(16);
  assert.deepEqual(new Rng(7).stream("train/z").at(12).uniform(16), a);
  assert.notDeepEqual(new Rng(8).stream("train/z").at(12).uniform(16), a);
  assert.notDeepEqual(new Rng(7).stream("train/z2").at(12).uniform(16), a);
  assert.notDeepEqual(new Rng(7).stream("train/z").at(13).uniform(16), a);
});

Deno.test("successive draws from one cursor continue the sequence", () => {
  const whole = new Rng(1).stream("s").at(0).uniform(10);
  const cursor = new Rng(1).stream("s").at(0);
  const parts = [...cursor.uniform(3), ...cursor.uniform(7)];
  assert.deepEqual(Float32Array.from(parts), whole);
});

Deno.test("steps beyond 2^32 are distinct counters", () => {
  const s = new Rng(1).stream("s");
  assert.notDeepEqual(s.at(2 ** 32).uniform(4), s.at(0).uniform(4));
  assert.throws(() => s.at(-1), /non-negative integer/);
  assert.throws(() => s.at(1.5), /non-negative integer/);
});

Deno.test("uniform, normal and bernoulli have the right moments", () => {
  const n = 200_000;
  const d = new Rng(3).stream("moments").at(0);
  const u = d.uniform(n, -2, 6);
  const mean = (x: Float32Array) => x.reduce((a, b) => a + b, 0) / x.length;
  const variance = (x: Float32Array) => {
    const m = mean(x);
    return x.reduce((a, b) => a + (b - m) ** 2, 0) / x.length;
  };
  // U(-2, 6): mean 2, variance 64/12; tolerances ≈ 5 standard errors
  assert.ok(Math.abs(mean(u) - 2) < 5 * Math.sqrt(64 / 12 / n));
  assert.ok(Math.abs(variance(u) - 64 / 12) < 0.05);
  assert.ok(u.every((x) => x >= -2 && x < 6));
  const z = d.normal(n, 4, 1.25);
  assert.ok(Math.abs(mean(z) - 4) < 5 * 1.25 / Math.sqrt(n));
  assert.ok(Math.abs(Math.sqrt(variance(z)) - 1.25) < 0.01);
  const b = d.bernoulli(n, 0.8);
  assert.ok(Math.abs(mean(b) - 0.8) < 5 * Math.sqrt(0.16 / n));
});

Deno.test("permutation is a permutation and is seeded", () => {
  const p = new Rng(5).stream("shuffle").at(2).permutation(1000);
  assert.deepEqual([...p].sort((a, b) => a - b), Array.from({ length: 1000 }, (_, i) => i));
  assert.deepEqual(new Rng(5).stream("shuffle").at(2).permutation(1000), p);
  assert.notDeepEqual(new Rng(5).stream("shuffle").at(3).permutation(1000), p);
});

Deno.test("nextBelow is unbiased on a small bound", () => {
  const d = new Rng(9).stream("ints").at(0);
  const counts = [0, 0, 0];
  for (let i = 0; i < 30_000; i++) counts[d.nextBelow(3)]++;
  for (const c of counts) assert.ok(Math.abs(c - 10_000) < 500, `counts ${counts}`);
});

Deno.test("the bulk block generator equals philox4x32 block for block", () => {
  const keys: [number, number][] = [[0, 0], [0xffffffff, 0xffffffff], [0xa4093822, 0x299f31d0]];
  const firsts = [0, 2 ** 32 - 2, 2 ** 40 + 5];
  for (const [k0, k1] of keys) {
    for (const first of firsts) {
      const bulk = new Uint32Array(4 * 6 + 2);
      philox4x32Blocks(first, 6, 0x13198a2e, 0xffffffff, k0, k1, bulk, 2);
      const one = new Uint32Array(4);
      for (let i = 0; i < 6; i++) {
        const b = first + i;
        philox4x32(b >>> 0, Math.floor(b / 2 ** 32) >>> 0, 0x13198a2e, 0xffffffff, k0, k1, one);
        assert.deepEqual([...bulk.subarray(2 + 4 * i, 6 + 4 * i)], [...one], `block ${b}`);
      }
      assert.deepEqual([bulk[0], bulk[1]], [0, 0], "nothing written before the offset");
    }
  }
  // more blocks than one call of the wasm module takes (16,384), across the 2^32 block boundary
  const first = 2 ** 32 - 20_000, count = 2 * 16384 + 3;
  const bulk = new Uint32Array(4 * count + 1);
  philox4x32Blocks(first, count, 7, 9, 0x9e3779b9, 0x01234567, bulk, 1);
  const one = new Uint32Array(4);
  for (let i = 0; i < count; i++) {
    const b = first + i;
    philox4x32(b >>> 0, Math.floor(b / 2 ** 32) >>> 0, 7, 9, 0x9e3779b9, 0x01234567, one);
    for (let w = 0; w < 4; w++) {
      if (bulk[1 + 4 * i + w] !== one[w]) assert.fail(`block ${b}, word ${w}`);
    }
  }
});

/** Box–Muller as Draw.normal defines it, one word at a time from the cursor (the reference). */
function normalWordByWord(d: ReturnType<ReturnType<Rng["stream"]>["at"]>, n: number) {
  const out = new Float32Array(n);
  const float53 = () => {
    const a = d.nextUint32() >>> 5, b = d.nextUint32() >>> 6;
    return (a * 67108864 + b) / 2 ** 53;
  };
  for (let i = 0; i < n; i += 2) {
    const u1 = 1 - float53(), u2 = float53();
    const r = Math.sqrt(-2 * Math.log(u1));
    out[i] = 0.5 + 1.5 * r * Math.cos(2 * Math.PI * u2);
    if (i + 1 < n) out[i + 1] = 0.5 + 1.5 * r * Math.sin(2 * Math.PI * u2);
  }
  return out;
}

Deno.test("normal draws its words in bulk exactly as four nextUint32 per pair would", () => {
  const bits = (x: Float32Array) => [...new Uint32Array(x.buffer)];
  // odd and even n, across the 4,096-word chunks (2,048 outputs), from any position in a block
  for (const n of [0, 1, 2, 3, 2047, 2048, 2049, 4097, 6000]) {
    for (const skip of [0, 1, 3]) {
      const a = new Rng(4).stream("z").at(9), b = new Rng(4).stream("z").at(9);
      for (let i = 0; i < skip; i++) assert.equal(a.nextUint32(), b.nextUint32());
      assert.deepEqual(bits(a.normal(n, 0.5, 1.5)), bits(normalWordByWord(b, n)), `n ${n}`);
      // the cursor stops where the word-by-word draw does
      assert.deepEqual([...a.uint32s(6)], [...b.uint32s(6)], `after n ${n}, skip ${skip}`);
    }
  }
  // pinned: the numbers every earlier run drew (the float32 bits of N(0, 1) after one word)
  const d = new Rng(11).stream("train/z").at(5);
  d.nextUint32();
  const hexBits = bits(d.normal(5, 0, 1)).map((x) => x.toString(16).padStart(8, "0"));
  assert.deepEqual(hexBits, ["bff81377", "bef35f33", "3f13d9e5", "be39fb14", "be740a37"]);
});

type Draw = ReturnType<ReturnType<Rng["stream"]>["at"]>;

/** uniform and bernoulli as they were before the draw-into variants: all n words, then map. */
function uniformFromWords(d: Draw, n: number, low: number, high: number) {
  const bits = d.uint32s(n);
  return Float32Array.from(bits, (w) => low + (high - low) * ((w >>> 8) / 2 ** 24));
}
function bernoulliFromWords(d: Draw, n: number, p: number, one: number) {
  const bits = d.uint32s(n);
  return Float32Array.from(bits, (w) => one * +((w >>> 8) / 2 ** 24 < p));
}

Deno.test("the draw-into variants give the allocating draws' numbers and stop where they do", () => {
  const bits = (x: Float32Array) => [...new Uint32Array(x.buffer, x.byteOffset, x.length)];
  // across the 4,096-word chunks, odd and even, from any position in a block, at counters
  // below and above 2^32
  const ns = [0, 1, 2, 3, 4, 5, 2047, 2049, 4095, 4096, 4097, 8193, 78400];
  for (const step of [0, 7, 2 ** 32 + 3]) {
    for (const n of ns) {
      for (const skip of [0, 1, 3]) {
        const cursors = () => {
          const a = new Rng(6).stream("D/dropout/real/h0").at(step);
          const b = new Rng(6).stream("D/dropout/real/h0").at(step);
          for (let i = 0; i < skip; i++) assert.equal(a.nextUint32(), b.nextUint32());
          return [a, b];
        };
        const at = `n ${n}, skip ${skip}, step ${step}`;
        // an array holding earlier values, as a reused one does
        const dirty = () => new Float32Array(n).fill(Number.NaN);
        let [a, b] = cursors();
        let out = dirty();
        assert.equal(a.uniformInto(out, -1.5, 2), out, "fills the array it is given");
        assert.deepEqual(bits(out), bits(uniformFromWords(b, n, -1.5, 2)), `uniform, ${at}`);
        assert.deepEqual([...a.uint32s(6)], [...b.uint32s(6)], `after uniform, ${at}`);
        [a, b] = cursors();
        assert.deepEqual(bits(a.uniform(n, -1.5, 2)), bits(uniformFromWords(b, n, -1.5, 2)));
        [a, b] = cursors();
        out = dirty();
        a.normalInto(out, 0.5, 1.5);
        assert.deepEqual(bits(out), bits(normalWordByWord(b, n)), `normal, ${at}`);
        assert.deepEqual([...a.uint32s(6)], [...b.uint32s(6)], `after normal, ${at}`);
        [a, b] = cursors();
        out = dirty();
        a.bernoulliInto(out, 0.8, 1.25);
        assert.deepEqual(bits(out), bits(bernoulliFromWords(b, n, 0.8, 1.25)), `bernoulli, ${at}`);
        assert.deepEqual([...a.uint32s(6)], [...b.uint32s(6)], `after bernoulli, ${at}`);
        [a, b] = cursors();
        assert.deepEqual(
          bits(a.bernoulli(n, 0.8, 1.25)),
          bits(bernoulliFromWords(b, n, 0.8, 1.25)),
        );
      }
    }
  }
});

Deno.test("uniform, normal and bernoulli draw the numbers of the base commit (pinned)", () => {
  const hexBits = (x: Float32Array) =>
    [...new Uint32Array(x.buffer)].map((v) => v.toString(16).padStart(8, "0"));
  // from b5dc7d2's Draw, which drew all n words into a new array first
  const d = new Rng(11).stream("train/z").at(5);
  d.nextUint32();
  assert.deepEqual(hexBits(d.uniform(5, -1.5, 2)), [
    "3fc2d38a",
    "be94864a",
    "3ec49867",
    "3fbeaf18",
    "bf69f52e",
  ]);
  assert.deepEqual(hexBits(d.bernoulli(6, 0.5, 2)), [
    "40000000",
    "00000000",
    "00000000",
    "40000000",
    "40000000",
    "00000000",
  ]);
  // long draws, one after another on a cursor two words into a block: an FNV-1a hash of the bits
  for (const [n, hash] of [[4097, "f5e0faab"], [78400, "f9156dce"]] as const) {
    const e = new Rng(3).stream("D/dropout/real/h0").at(2 ** 32 + 7);
    e.nextUint32();
    e.nextUint32();
    const out = new Float32Array(n);
    const drawn = [e.uniformInto(out, -1, 1).slice(), e.normal(n + 1, 0, 1)];
    drawn.push(e.bernoulliInto(out, 0.8, 1.25));
    let h = 0x811c9dc5;
    for (const a of drawn) {
      for (const w of new Uint32Array(a.buffer)) h = Math.imul(h ^ w, 0x01000193);
    }
    assert.equal((h >>> 0).toString(16), hash, `n ${n}`);
  }
});
