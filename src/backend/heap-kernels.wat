;; Elementwise kernels on the wasm backend's own heap (src/backend/heap-kernels.ts): the module
;; imports TF.js's memory, so tensors and the fused step's heap arrays are read and written in
;; place, four floats per instruction. Each computes in float32 exactly what the JavaScript loop it
;; replaces computes (that loop's Math.fround after every operation, or its one rounding at the
;; store), so the numbers do not change. Edit this file, then `deno task wasm` regenerates
;; src/backend/heap-kernels-wasm.ts from it.
(module
  (import "env" "memory" (memory 1))

  ;; Adam (adamUpdateArrays in src/backend/wasm-kernels.ts), n values, byte addresses:
  ;;   m ← b1·m + a1·g;  v ← b2·v + a2·g²;  p ← p − (step·m) / (√(v / c2) + eps)
  ;; reading p, g, m, v and writing p1, m1, v1 (which may be p, m, v).
  (func (export "adam")
    (param $n i32) (param $p i32) (param $g i32) (param $m i32) (param $v i32)
    (param $p1 i32) (param $m1 i32) (param $v1 i32)
    (param $b1 f32) (param $a1 f32) (param $b2 f32) (param $a2 f32)
    (param $c2 f32) (param $step f32) (param $eps f32)
    (local $i i32) (local $at i32) (local $end4 i32)
    (local $gi v128) (local $mi v128) (local $vi v128)
    (local $gs f32) (local $ms f32) (local $vs f32)
    (local.set $end4 (i32.and (local.get $n) (i32.const -4)))
    (block $simd_done
      (loop $simd
        (br_if $simd_done (i32.ge_u (local.get $i) (local.get $end4)))
        (local.set $at (i32.shl (local.get $i) (i32.const 2)))
        (local.set $gi (v128.load align=4 (i32.add (local.get $g) (local.get $at))))
        (local.set $mi
          (f32x4.add
            (f32x4.mul (v128.load align=4 (i32.add (local.get $m) (local.get $at)))
                       (f32x4.splat (local.get $b1)))
            (f32x4.mul (local.get $gi) (f32x4.splat (local.get $a1)))))
        (local.set $vi
          (f32x4.add
            (f32x4.mul (v128.load align=4 (i32.add (local.get $v) (local.get $at)))
                       (f32x4.splat (local.get $b2)))
            (f32x4.mul (f32x4.mul (local.get $gi) (local.get $gi))
                       (f32x4.splat (local.get $a2)))))
        (v128.store align=4 (i32.add (local.get $p1) (local.get $at))
          (f32x4.sub
            (v128.load align=4 (i32.add (local.get $p) (local.get $at)))
            (f32x4.div
              (f32x4.mul (local.get $mi) (f32x4.splat (local.get $step)))
              (f32x4.add (f32x4.sqrt (f32x4.div (local.get $vi) (f32x4.splat (local.get $c2))))
                         (f32x4.splat (local.get $eps))))))
        (v128.store align=4 (i32.add (local.get $m1) (local.get $at)) (local.get $mi))
        (v128.store align=4 (i32.add (local.get $v1) (local.get $at)) (local.get $vi))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $simd)))
    (block $done
      (loop $rest
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $at (i32.shl (local.get $i) (i32.const 2)))
        (local.set $gs (f32.load (i32.add (local.get $g) (local.get $at))))
        (local.set $ms
          (f32.add (f32.mul (f32.load (i32.add (local.get $m) (local.get $at))) (local.get $b1))
                   (f32.mul (local.get $gs) (local.get $a1))))
        (local.set $vs
          (f32.add (f32.mul (f32.load (i32.add (local.get $v) (local.get $at))) (local.get $b2))
                   (f32.mul (f32.mul (local.get $gs) (local.get $gs)) (local.get $a2))))
        (f32.store (i32.add (local.get $p1) (local.get $at))
          (f32.sub
            (f32.load (i32.add (local.get $p) (local.get $at)))
            (f32.div
              (f32.mul (local.get $ms) (local.get $step))
              (f32.add (f32.sqrt (f32.div (local.get $vs) (local.get $c2))) (local.get $eps)))))
        (f32.store (i32.add (local.get $m1) (local.get $at)) (local.get $ms))
        (f32.store (i32.add (local.get $v1) (local.get $at)) (local.get $vs))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $rest))))

  ;; pylearn2's momentum increment (momentumIncrementArrays in src/backend/wasm-kernels.ts), n
  ;; values, byte addresses: inc ← v·mu − g·lr, reading v and g, writing inc (which may be v).
  (func (export "momentum")
    (param $n i32) (param $v i32) (param $g i32) (param $inc i32) (param $mu f32) (param $lr f32)
    (local $i i32) (local $at i32) (local $end4 i32)
    (local.set $end4 (i32.and (local.get $n) (i32.const -4)))
    (block $simd_done
      (loop $simd
        (br_if $simd_done (i32.ge_u (local.get $i) (local.get $end4)))
        (local.set $at (i32.shl (local.get $i) (i32.const 2)))
        (v128.store align=4 (i32.add (local.get $inc) (local.get $at))
          (f32x4.sub
            (f32x4.mul (v128.load align=4 (i32.add (local.get $v) (local.get $at)))
                       (f32x4.splat (local.get $mu)))
            (f32x4.mul (v128.load align=4 (i32.add (local.get $g) (local.get $at)))
                       (f32x4.splat (local.get $lr)))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $simd)))
    (block $done
      (loop $rest
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $at (i32.shl (local.get $i) (i32.const 2)))
        (f32.store (i32.add (local.get $inc) (local.get $at))
          (f32.sub
            (f32.mul (f32.load (i32.add (local.get $v) (local.get $at))) (local.get $mu))
            (f32.mul (f32.load (i32.add (local.get $g) (local.get $at))) (local.get $lr))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $rest)))))
