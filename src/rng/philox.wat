;; Philox4x32-10 in bulk (src/rng/philox.ts's philox4x32Blocks): `count` consecutive blocks
;; with counters (block, blockHi, c2, c3), block = (hi·2^32 + lo) … + count − 1, written as four
;; little-endian words each from address 0 of the exported memory. The same integer arithmetic
;; as the JavaScript reference, philox4x32, so the same words; JavaScript has no 32 × 32 → 64-bit
;; multiply and spends most of a block computing the high words exactly, wasm does each in one
;; i64.mul. Edit this file, then `deno task wasm` regenerates src/rng/philox-wasm.ts from it.
(module
  ;; 4 pages = 256 KiB = 16,384 blocks per call
  (memory (export "memory") 4)
  (func (export "blocks")
    (param $lo i32) (param $hi i32) (param $count i32)
    (param $c2 i32) (param $c3 i32) (param $k0 i32) (param $k1 i32)
    (local $block i64) (local $i i32) (local $round i32) (local $at i32)
    (local $x0 i32) (local $x1 i32) (local $x2 i32) (local $x3 i32)
    (local $key0 i32) (local $key1 i32) (local $p0 i64) (local $p1 i64)
    (local.set $block
      (i64.or (i64.extend_i32_u (local.get $lo))
              (i64.shl (i64.extend_i32_u (local.get $hi)) (i64.const 32))))
    (block $done
      (loop $blocks
        (br_if $done (i32.ge_u (local.get $i) (local.get $count)))
        (local.set $x0 (i32.wrap_i64 (local.get $block)))
        (local.set $x1 (i32.wrap_i64 (i64.shr_u (local.get $block) (i64.const 32))))
        (local.set $x2 (local.get $c2))
        (local.set $x3 (local.get $c3))
        (local.set $key0 (local.get $k0))
        (local.set $key1 (local.get $k1))
        (local.set $round (i32.const 0))
        (loop $rounds
          ;; the products M0·x0 and M1·x2, both halves
          (local.set $p0 (i64.mul (i64.extend_i32_u (local.get $x0)) (i64.const 0xd2511f53)))
          (local.set $p1 (i64.mul (i64.extend_i32_u (local.get $x2)) (i64.const 0xcd9e8d57)))
          (local.set $x0
            (i32.xor (i32.xor (i32.wrap_i64 (i64.shr_u (local.get $p1) (i64.const 32)))
                              (local.get $x1))
                     (local.get $key0)))
          (local.set $x1 (i32.wrap_i64 (local.get $p1)))
          (local.set $x2
            (i32.xor (i32.xor (i32.wrap_i64 (i64.shr_u (local.get $p0) (i64.const 32)))
                              (local.get $x3))
                     (local.get $key1)))
          (local.set $x3 (i32.wrap_i64 (local.get $p0)))
          ;; the Weyl key schedule
          (local.set $key0 (i32.add (local.get $key0) (i32.const 0x9e3779b9)))
          (local.set $key1 (i32.add (local.get $key1) (i32.const 0xbb67ae85)))
          (local.set $round (i32.add (local.get $round) (i32.const 1)))
          (br_if $rounds (i32.lt_u (local.get $round) (i32.const 10))))
        (i32.store offset=0 (local.get $at) (local.get $x0))
        (i32.store offset=4 (local.get $at) (local.get $x1))
        (i32.store offset=8 (local.get $at) (local.get $x2))
        (i32.store offset=12 (local.get $at) (local.get $x3))
        (local.set $at (i32.add (local.get $at) (i32.const 16)))
        (local.set $block (i64.add (local.get $block) (i64.const 1)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $blocks)))))
