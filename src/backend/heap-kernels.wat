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
        (br $rest))))

  ;; The convolutions' im2col (src/backend/conv-blas.ts): rows [r0, r1) of the im2col matrix of
  ;; x (NHWC) into cols from its start, row r holding the window of output position r in
  ;; (ky, kx, c) order, zeros where the window leaves the input. A window row's part inside the
  ;; input is contiguous in NHWC, so each is one copy. Byte addresses; the geometry in entries.
  (func (export "im2col")
    (param $x i32) (param $cols i32) (param $r0 i32) (param $r1 i32)
    (param $H i32) (param $W i32) (param $C i32) (param $Ho i32) (param $Wo i32)
    (param $kh i32) (param $kw i32) (param $sh i32) (param $sw i32)
    (param $padTop i32) (param $padLeft i32)
    (local $r i32) (local $o i32) (local $rowBytes i32) (local $ky i32) (local $iy i32)
    (local $b i32) (local $ix0 i32) (local $iy0 i32) (local $kx0 i32) (local $lead i32)
    (local $inside i32)
    (local.set $rowBytes (i32.shl (i32.mul (local.get $kw) (local.get $C)) (i32.const 2)))
    (local.set $o (local.get $cols))
    (local.set $r (local.get $r0))
    (block $done
      (loop $rows
        (br_if $done (i32.ge_u (local.get $r) (local.get $r1)))
        (call $window (local.get $r) (local.get $H) (local.get $W) (local.get $C)
          (local.get $Ho) (local.get $Wo) (local.get $kw) (local.get $sh) (local.get $sw)
          (local.get $padTop) (local.get $padLeft))
        (local.set $inside) (local.set $lead) (local.set $kx0) (local.set $iy0)
        (local.set $ix0) (local.set $b)
        (local.set $ky (i32.const 0))
        (block $window_done
          (loop $window_rows
            (br_if $window_done (i32.ge_u (local.get $ky) (local.get $kh)))
            (local.set $iy (i32.add (local.get $iy0) (local.get $ky)))
            (if (i32.or (i32.or (i32.lt_s (local.get $iy) (i32.const 0))
                                (i32.ge_s (local.get $iy) (local.get $H)))
                        (i32.eqz (local.get $inside)))
              (then (memory.fill (local.get $o) (i32.const 0) (local.get $rowBytes)))
              (else
                (memory.fill (local.get $o) (i32.const 0) (local.get $lead))
                (memory.copy
                  (i32.add (local.get $o) (local.get $lead))
                  (call $inputAt (local.get $x) (local.get $b) (local.get $iy)
                    (i32.add (local.get $ix0) (local.get $kx0)) (local.get $H) (local.get $W)
                    (local.get $C))
                  (local.get $inside))
                (memory.fill (i32.add (i32.add (local.get $o) (local.get $lead)) (local.get $inside))
                  (i32.const 0)
                  (i32.sub (local.get $rowBytes) (i32.add (local.get $lead) (local.get $inside))))))
            (local.set $o (i32.add (local.get $o) (local.get $rowBytes)))
            (local.set $ky (i32.add (local.get $ky) (i32.const 1)))
            (br $window_rows)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $rows))))

  ;; The reverse of im2col for the input gradient: adds rows [r0, r1) of cols (the gradient with
  ;; respect to the im2col matrix) into dx, row by row, window row by window row, in the order the
  ;; JavaScript loop it replaced did, so every sum is the same (four lanes at a time: each lane
  ;; is its own entry of dx).
  (func (export "col2imAdd")
    (param $cols i32) (param $dx i32) (param $r0 i32) (param $r1 i32)
    (param $H i32) (param $W i32) (param $C i32) (param $Ho i32) (param $Wo i32)
    (param $kh i32) (param $kw i32) (param $sh i32) (param $sw i32)
    (param $padTop i32) (param $padLeft i32)
    (local $r i32) (local $o i32) (local $rowBytes i32) (local $ky i32) (local $iy i32)
    (local $b i32) (local $ix0 i32) (local $iy0 i32) (local $kx0 i32) (local $lead i32)
    (local $inside i32) (local $src i32) (local $dst i32) (local $end i32) (local $end4 i32)
    (local.set $rowBytes (i32.shl (i32.mul (local.get $kw) (local.get $C)) (i32.const 2)))
    (local.set $o (local.get $cols))
    (local.set $r (local.get $r0))
    (block $done
      (loop $rows
        (br_if $done (i32.ge_u (local.get $r) (local.get $r1)))
        (call $window (local.get $r) (local.get $H) (local.get $W) (local.get $C)
          (local.get $Ho) (local.get $Wo) (local.get $kw) (local.get $sh) (local.get $sw)
          (local.get $padTop) (local.get $padLeft))
        (local.set $inside) (local.set $lead) (local.set $kx0) (local.set $iy0)
        (local.set $ix0) (local.set $b)
        (local.set $ky (i32.const 0))
        (block $window_done
          (loop $window_rows
            (br_if $window_done (i32.ge_u (local.get $ky) (local.get $kh)))
            (local.set $iy (i32.add (local.get $iy0) (local.get $ky)))
            (if (i32.eqz (i32.or (i32.or (i32.lt_s (local.get $iy) (i32.const 0))
                                         (i32.ge_s (local.get $iy) (local.get $H)))
                                 (i32.eqz (local.get $inside))))
              (then
                (local.set $src (i32.add (local.get $o) (local.get $lead)))
                (local.set $dst
                  (call $inputAt (local.get $dx) (local.get $b) (local.get $iy)
                    (i32.add (local.get $ix0) (local.get $kx0)) (local.get $H) (local.get $W)
                    (local.get $C)))
                (local.set $end (i32.add (local.get $src) (local.get $inside)))
                (local.set $end4
                  (i32.add (local.get $src) (i32.and (local.get $inside) (i32.const -16))))
                (block $simd_done
                  (loop $simd
                    (br_if $simd_done (i32.ge_u (local.get $src) (local.get $end4)))
                    (v128.store align=4 (local.get $dst)
                      (f32x4.add (v128.load align=4 (local.get $dst))
                                 (v128.load align=4 (local.get $src))))
                    (local.set $src (i32.add (local.get $src) (i32.const 16)))
                    (local.set $dst (i32.add (local.get $dst) (i32.const 16)))
                    (br $simd)))
                (block $rest_done
                  (loop $rest
                    (br_if $rest_done (i32.ge_u (local.get $src) (local.get $end)))
                    (f32.store (local.get $dst)
                      (f32.add (f32.load (local.get $dst)) (f32.load (local.get $src))))
                    (local.set $src (i32.add (local.get $src) (i32.const 4)))
                    (local.set $dst (i32.add (local.get $dst) (i32.const 4)))
                    (br $rest)))))
            (local.set $o (i32.add (local.get $o) (local.get $rowBytes)))
            (local.set $ky (i32.add (local.get $ky) (i32.const 1)))
            (br $window_rows)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $rows))))

  ;; Where output position r's window lies: its image b, its top-left corner (ix0, iy0) in the
  ;; input (padding makes them negative), the first filter column inside the input kx0, and the
  ;; bytes of a window row before that column (lead) and inside the input (inside, 0 if none).
  (func $window
    (param $r i32) (param $H i32) (param $W i32) (param $C i32) (param $Ho i32) (param $Wo i32)
    (param $kw i32) (param $sh i32) (param $sw i32) (param $padTop i32) (param $padLeft i32)
    (result i32 i32 i32 i32 i32 i32)
    (local $rest i32) (local $ix0 i32) (local $kx0 i32) (local $kx1 i32)
    (local.set $rest (i32.div_u (local.get $r) (local.get $Wo)))
    (local.set $ix0
      (i32.sub (i32.mul (i32.rem_u (local.get $r) (local.get $Wo)) (local.get $sw))
               (local.get $padLeft)))
    ;; kx0 = max(0, −ix0), kx1 = min(kw, W − ix0)
    (local.set $kx0 (select (i32.sub (i32.const 0) (local.get $ix0)) (i32.const 0)
                            (i32.lt_s (local.get $ix0) (i32.const 0))))
    (local.set $kx1 (select (local.get $kw) (i32.sub (local.get $W) (local.get $ix0))
                            (i32.lt_s (local.get $kw) (i32.sub (local.get $W) (local.get $ix0)))))
    (i32.div_u (local.get $rest) (local.get $Ho))
    (local.get $ix0)
    (i32.sub (i32.mul (i32.rem_u (local.get $rest) (local.get $Ho)) (local.get $sh))
             (local.get $padTop))
    (local.get $kx0)
    (i32.shl (i32.mul (local.get $kx0) (local.get $C)) (i32.const 2))
    (select (i32.shl (i32.mul (i32.sub (local.get $kx1) (local.get $kx0)) (local.get $C))
                     (i32.const 2))
            (i32.const 0)
            (i32.gt_s (local.get $kx1) (local.get $kx0))))

  ;; The byte address of entry (b, iy, ix, 0) of an NHWC array at byte address base.
  (func $inputAt
    (param $base i32) (param $b i32) (param $iy i32) (param $ix i32)
    (param $H i32) (param $W i32) (param $C i32) (result i32)
    (i32.add (local.get $base)
      (i32.shl
        (i32.mul
          (i32.add (i32.mul (i32.add (i32.mul (local.get $b) (local.get $H)) (local.get $iy))
                            (local.get $W))
                   (local.get $ix))
          (local.get $C))
        (i32.const 2))))

  ;; A sum over the leading axes (a bias gradient): out[j] = Σ_p x[p·c + j] for p = 0 … n − 1, in
  ;; that order from +0, as TF.js's wasm Sum computes it after transposing x to [c, n] (each of
  ;; its sums runs over a contiguous row, one addition at a time). Here every column runs at once,
  ;; four lanes at a time, one pass over x. Byte addresses.
  (func (export "sumLeading") (param $n i32) (param $c i32) (param $x i32) (param $out i32)
    (local $p i32) (local $j i32) (local $row i32) (local $c4 i32) (local $at i32)
    (memory.fill (local.get $out) (i32.const 0) (i32.shl (local.get $c) (i32.const 2)))
    (local.set $c4 (i32.and (local.get $c) (i32.const -4)))
    (local.set $row (local.get $x))
    (block $done
      (loop $rows
        (br_if $done (i32.ge_u (local.get $p) (local.get $n)))
        (local.set $j (i32.const 0))
        (block $simd_done
          (loop $simd
            (br_if $simd_done (i32.ge_u (local.get $j) (local.get $c4)))
            (local.set $at (i32.shl (local.get $j) (i32.const 2)))
            (v128.store align=4 (i32.add (local.get $out) (local.get $at))
              (f32x4.add (v128.load align=4 (i32.add (local.get $out) (local.get $at)))
                         (v128.load align=4 (i32.add (local.get $row) (local.get $at)))))
            (local.set $j (i32.add (local.get $j) (i32.const 4)))
            (br $simd)))
        (block $rest_done
          (loop $rest
            (br_if $rest_done (i32.ge_u (local.get $j) (local.get $c)))
            (local.set $at (i32.shl (local.get $j) (i32.const 2)))
            (f32.store (i32.add (local.get $out) (local.get $at))
              (f32.add (f32.load (i32.add (local.get $out) (local.get $at)))
                       (f32.load (i32.add (local.get $row) (local.get $at)))))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br $rest)))
        (local.set $row (i32.add (local.get $row) (i32.shl (local.get $c) (i32.const 2))))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $rows)))))

