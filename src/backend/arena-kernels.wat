;; Elementwise kernels over one KernelArena's memory (src/backend/arena-kernels.ts): the fused
;; MLP step keeps its activations, deltas and masks there. Each kernel computes exactly what the
;; JavaScript function it stands in for computes (src/train/steps/fused-mlp.ts), float32 operation
;; for float32 operation or, where that function rounds once after several float64 operations,
;; in float64 as it does, so the numbers do not change. Addresses are in bytes. Edit this file,
;; then `deno task wasm` regenerates src/backend/arena-kernels-wasm.ts from it.
(module
  (import "env" "memory" (memory 1))

  ;; dst[k] = src[k] · mask[k], k < n (multiplyInto)
  (func (export "multiply") (param $n i32) (param $dst i32) (param $src i32) (param $mask i32)
    (local $i i32) (local $at i32) (local $end4 i32)
    (local.set $end4 (i32.and (local.get $n) (i32.const -4)))
    (block $simd_done
      (loop $simd
        (br_if $simd_done (i32.ge_u (local.get $i) (local.get $end4)))
        (local.set $at (i32.shl (local.get $i) (i32.const 2)))
        (v128.store align=4 (i32.add (local.get $dst) (local.get $at))
          (f32x4.mul (v128.load align=4 (i32.add (local.get $src) (local.get $at)))
                     (v128.load align=4 (i32.add (local.get $mask) (local.get $at)))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $simd)))
    (block $done
      (loop $rest
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $at (i32.shl (local.get $i) (i32.const 2)))
        (f32.store (i32.add (local.get $dst) (local.get $at))
          (f32.mul (f32.load (i32.add (local.get $src) (local.get $at)))
                   (f32.load (i32.add (local.get $mask) (local.get $at)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $rest))))

  ;; x[k] = (x[k] + |x[k]|) · 0.5 in float64, rounded once (activate's ReLU), k < n
  (func (export "relu") (param $n i32) (param $x i32)
    (local $i i32) (local $at i32) (local $end4 i32) (local $v v128) (local $lo v128)
    (local $hi v128) (local $s f64)
    (local.set $end4 (i32.and (local.get $n) (i32.const -4)))
    (block $simd_done
      (loop $simd
        (br_if $simd_done (i32.ge_u (local.get $i) (local.get $end4)))
        (local.set $at (i32.add (local.get $x) (i32.shl (local.get $i) (i32.const 2))))
        (local.set $v (v128.load align=4 (local.get $at)))
        (local.set $lo (f64x2.promote_low_f32x4 (local.get $v)))
        (local.set $hi (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7
                                                   (local.get $v) (local.get $v))))
        (local.set $lo (f64x2.mul (f64x2.add (local.get $lo) (f64x2.abs (local.get $lo)))
                                  (f64x2.splat (f64.const 0.5))))
        (local.set $hi (f64x2.mul (f64x2.add (local.get $hi) (f64x2.abs (local.get $hi)))
                                  (f64x2.splat (f64.const 0.5))))
        (v128.store align=4 (local.get $at)
          (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
            (f32x4.demote_f64x2_zero (local.get $lo)) (f32x4.demote_f64x2_zero (local.get $hi))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $simd)))
    (block $done
      (loop $rest
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $at (i32.add (local.get $x) (i32.shl (local.get $i) (i32.const 2))))
        (local.set $s (f64.promote_f32 (f32.load (local.get $at))))
        (f32.store (local.get $at)
          (f32.demote_f64 (f64.mul (f64.add (local.get $s) (f64.abs (local.get $s))) (f64.const 0.5))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $rest))))

  ;; delta[k] = outDelta[k] · (out[k] > 0 ? 1 : 0), k < n (activationBackward's ReLU)
  (func (export "reluBackward") (param $n i32) (param $delta i32) (param $outDelta i32) (param $out i32)
    (local $i i32) (local $at i32) (local $end4 i32)
    (local.set $end4 (i32.and (local.get $n) (i32.const -4)))
    (block $simd_done
      (loop $simd
        (br_if $simd_done (i32.ge_u (local.get $i) (local.get $end4)))
        (local.set $at (i32.shl (local.get $i) (i32.const 2)))
        (v128.store align=4 (i32.add (local.get $delta) (local.get $at))
          (f32x4.mul
            (v128.load align=4 (i32.add (local.get $outDelta) (local.get $at)))
            (v128.and (f32x4.gt (v128.load align=4 (i32.add (local.get $out) (local.get $at)))
                                (f32x4.splat (f32.const 0)))
                      (f32x4.splat (f32.const 1)))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $simd)))
    (block $done
      (loop $rest
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $at (i32.shl (local.get $i) (i32.const 2)))
        (f32.store (i32.add (local.get $delta) (local.get $at))
          (f32.mul (f32.load (i32.add (local.get $outDelta) (local.get $at)))
                   (select (f32.const 1) (f32.const 0)
                     (f32.gt (f32.load (i32.add (local.get $out) (local.get $at))) (f32.const 0)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $rest)))))
