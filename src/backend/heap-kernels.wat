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
              (then (call $zeroBytes (local.get $o) (local.get $rowBytes)))
              (else
                (call $zeroBytes (local.get $o) (local.get $lead))
                (call $copyBytes
                  (i32.add (local.get $o) (local.get $lead))
                  (call $inputAt (local.get $x) (local.get $b) (local.get $iy)
                    (i32.add (local.get $ix0) (local.get $kx0)) (local.get $H) (local.get $W)
                    (local.get $C))
                  (local.get $inside))
                (call $zeroBytes (i32.add (i32.add (local.get $o) (local.get $lead)) (local.get $inside))
                  (i32.sub (local.get $rowBytes) (i32.add (local.get $lead) (local.get $inside))))))
            (local.set $o (i32.add (local.get $o) (local.get $rowBytes)))
            (local.set $ky (i32.add (local.get $ky) (i32.const 1)))
            (br $window_rows)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $rows))))

  ;; im2col's copies and fills are mostly short (a window row of a 3-channel image is 96 bytes),
  ;; where a call to memory.copy or memory.fill costs more than the bytes it moves: below
  ;; 512 bytes they are four-lane loads and stores, then single entries; all are whole entries.
  (func $copyBytes (param $dst i32) (param $src i32) (param $n i32)
    (local $end i32) (local $end16 i32)
    (if (i32.ge_u (local.get $n) (i32.const 512))
      (then (memory.copy (local.get $dst) (local.get $src) (local.get $n)) (return)))
    (local.set $end (i32.add (local.get $dst) (local.get $n)))
    (local.set $end16 (i32.add (local.get $dst) (i32.and (local.get $n) (i32.const -16))))
    (block $simd_done
      (loop $simd
        (br_if $simd_done (i32.ge_u (local.get $dst) (local.get $end16)))
        (v128.store align=4 (local.get $dst) (v128.load align=4 (local.get $src)))
        (local.set $src (i32.add (local.get $src) (i32.const 16)))
        (local.set $dst (i32.add (local.get $dst) (i32.const 16)))
        (br $simd)))
    (block $rest_done
      (loop $rest
        (br_if $rest_done (i32.ge_u (local.get $dst) (local.get $end)))
        (i32.store (local.get $dst) (i32.load (local.get $src)))
        (local.set $src (i32.add (local.get $src) (i32.const 4)))
        (local.set $dst (i32.add (local.get $dst) (i32.const 4)))
        (br $rest))))

  (func $zeroBytes (param $dst i32) (param $n i32)
    (local $end i32) (local $end16 i32)
    (if (i32.ge_u (local.get $n) (i32.const 512))
      (then (memory.fill (local.get $dst) (i32.const 0) (local.get $n)) (return)))
    (local.set $end (i32.add (local.get $dst) (local.get $n)))
    (local.set $end16 (i32.add (local.get $dst) (i32.and (local.get $n) (i32.const -16))))
    (block $simd_done
      (loop $simd
        (br_if $simd_done (i32.ge_u (local.get $dst) (local.get $end16)))
        (v128.store align=4 (local.get $dst) (v128.const i32x4 0 0 0 0))
        (local.set $dst (i32.add (local.get $dst) (i32.const 16)))
        (br $simd)))
    (block $rest_done
      (loop $rest
        (br_if $rest_done (i32.ge_u (local.get $dst) (local.get $end)))
        (i32.store (local.get $dst) (i32.const 0))
        (local.set $dst (i32.add (local.get $dst) (i32.const 4)))
        (br $rest))))

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
        (br $rows))))

  ;; cuda-convnet pooling's block max (blockMaxForwardWasm in src/backend/wasm-kernels.ts): the max
  ;; of each s × s block of x [B, H, W, C] padded with −∞ to [B, Hp, Wp, C] → [B, Hp/s, Wp/s, C],
  ;; the block's first entry first, a later one taking over when greater or NaN (the padding's −∞
  ;; never does, so it is not read: a block wholly in it is −∞); C four lanes at a time.
  (func (export "blockMaxForward")
    (param $x i32) (param $out i32) (param $B i32) (param $Hp i32) (param $Wp i32) (param $C i32)
    (param $s i32) (param $H i32) (param $W i32)
    (local $b i32) (local $i i32) (local $j i32) (local $c i32) (local $di i32) (local $dj i32)
    (local $corner i32) (local $o i32) (local $c4 i32) (local $rowBytes i32)
    (local $rows i32) (local $cols i32) (local $at i32)
    (local $best v128) (local $v v128) (local $bs f32) (local $vs f32)
    (local.set $c4 (i32.and (local.get $C) (i32.const -4)))
    (local.set $rowBytes (i32.shl (i32.mul (local.get $W) (local.get $C)) (i32.const 2)))
    (local.set $o (local.get $out))
    (loop $images
      (local.set $i (i32.const 0))
      (loop $block_rows_of_image
        (local.set $j (i32.const 0))
        (loop $block_cols_of_image
          ;; the block's rows and columns inside x (0 when it lies wholly in the padding)
          (local.set $rows (call $inside (i32.mul (local.get $i) (local.get $s)) (local.get $s)
            (local.get $H)))
          (local.set $cols (call $inside (i32.mul (local.get $j) (local.get $s)) (local.get $s)
            (local.get $W)))
          (if (i32.or (i32.eqz (local.get $rows)) (i32.eqz (local.get $cols)))
            (then
              (local.set $c (i32.const 0))
              (block $pad_done
                (loop $pad
                  (br_if $pad_done (i32.ge_u (local.get $c) (local.get $C)))
                  (f32.store (i32.add (local.get $o) (i32.shl (local.get $c) (i32.const 2)))
                    (f32.const -inf))
                  (local.set $c (i32.add (local.get $c) (i32.const 1)))
                  (br $pad))))
            (else
              (local.set $corner (call $inputAt (local.get $x) (local.get $b)
                (i32.mul (local.get $i) (local.get $s)) (i32.mul (local.get $j) (local.get $s))
                (local.get $H) (local.get $W) (local.get $C)))
              (local.set $c (i32.const 0))
              (block $simd_done
                (loop $simd
                  (br_if $simd_done (i32.ge_u (local.get $c) (local.get $c4)))
                  (local.set $best (v128.load align=4
                    (i32.add (local.get $corner) (i32.shl (local.get $c) (i32.const 2)))))
                  (local.set $di (i32.const 0))
                  (loop $block_rows
                    (local.set $dj (i32.const 0))
                    (loop $block_cols
                      (local.set $v (v128.load align=4 (i32.add
                        (i32.add (local.get $corner) (i32.mul (local.get $di) (local.get $rowBytes)))
                        (i32.shl (i32.add (i32.mul (local.get $dj) (local.get $C)) (local.get $c))
                                 (i32.const 2)))))
                      (local.set $best (v128.bitselect (local.get $v) (local.get $best)
                        (v128.or (f32x4.gt (local.get $v) (local.get $best))
                                 (f32x4.ne (local.get $v) (local.get $v)))))
                      (local.set $dj (i32.add (local.get $dj) (i32.const 1)))
                      (br_if $block_cols (i32.lt_u (local.get $dj) (local.get $cols))))
                    (local.set $di (i32.add (local.get $di) (i32.const 1)))
                    (br_if $block_rows (i32.lt_u (local.get $di) (local.get $rows))))
                  (v128.store align=4 (i32.add (local.get $o) (i32.shl (local.get $c) (i32.const 2)))
                    (local.get $best))
                  (local.set $c (i32.add (local.get $c) (i32.const 4)))
                  (br $simd)))
              (block $rest_done
                (loop $rest
                  (br_if $rest_done (i32.ge_u (local.get $c) (local.get $C)))
                  (local.set $bs (f32.load
                    (i32.add (local.get $corner) (i32.shl (local.get $c) (i32.const 2)))))
                  (local.set $di (i32.const 0))
                  (loop $block_rows1
                    (local.set $dj (i32.const 0))
                    (loop $block_cols1
                      (local.set $vs (f32.load (i32.add
                        (i32.add (local.get $corner) (i32.mul (local.get $di) (local.get $rowBytes)))
                        (i32.shl (i32.add (i32.mul (local.get $dj) (local.get $C)) (local.get $c))
                                 (i32.const 2)))))
                      (local.set $bs (select (local.get $vs) (local.get $bs)
                        (i32.or (f32.gt (local.get $vs) (local.get $bs))
                                (f32.ne (local.get $vs) (local.get $vs)))))
                      (local.set $dj (i32.add (local.get $dj) (i32.const 1)))
                      (br_if $block_cols1 (i32.lt_u (local.get $dj) (local.get $cols))))
                    (local.set $di (i32.add (local.get $di) (i32.const 1)))
                    (br_if $block_rows1 (i32.lt_u (local.get $di) (local.get $rows))))
                  (f32.store (i32.add (local.get $o) (i32.shl (local.get $c) (i32.const 2)))
                    (local.get $bs))
                  (local.set $c (i32.add (local.get $c) (i32.const 1)))
                  (br $rest)))))
          (local.set $o (i32.add (local.get $o) (i32.shl (local.get $C) (i32.const 2))))
          (local.set $j (i32.add (local.get $j) (i32.const 1)))
          (br_if $block_cols_of_image (i32.lt_u (local.get $j) (i32.div_u (local.get $Wp) (local.get $s)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br_if $block_rows_of_image (i32.lt_u (local.get $i) (i32.div_u (local.get $Hp) (local.get $s)))))
      (local.set $b (i32.add (local.get $b) (i32.const 1)))
      (br_if $images (i32.lt_u (local.get $b) (local.get $B)))))

  ;; How many of the s rows (or columns) from `from` lie inside a size of n: 0 … s.
  (func $inside (param $from i32) (param $s i32) (param $n i32) (result i32)
    (if (result i32) (i32.ge_s (local.get $from) (local.get $n))
      (then (i32.const 0))
      (else (select (local.get $s) (i32.sub (local.get $n) (local.get $from))
        (i32.le_s (i32.add (local.get $from) (local.get $s)) (local.get $n))))))

  ;; Its gradient (blockMaxBackwardWasm): for every entry of x [B, H, W, C] in order (the padding
  ;; gets none), dx = dy of its block · (x == the block's max ? 1 : 0), the blocks those of x
  ;; padded to [B, Hp, Wp, C]; four lanes at a time (a block's C entries are contiguous).
  (func (export "blockMaxBackward")
    (param $dy i32) (param $x i32) (param $max i32) (param $dx i32)
    (param $B i32) (param $Hp i32) (param $Wp i32) (param $C i32) (param $s i32)
    (param $H i32) (param $W i32)
    (local $b i32) (local $r i32) (local $col i32) (local $c i32) (local $c4 i32)
    (local $block i32) (local $at i32) (local $e i32)
    (local.set $c4 (i32.and (local.get $C) (i32.const -4)))
    (local.set $e (i32.const 0))
    (loop $images
      (local.set $r (i32.const 0))
      (loop $rows
        (local.set $col (i32.const 0))
        (loop $cols
          ;; the block's entry offset, in bytes
          (local.set $block (i32.shl (i32.mul
            (i32.add (i32.mul (i32.add (i32.mul (local.get $b) (i32.div_u (local.get $Hp) (local.get $s)))
                                       (i32.div_u (local.get $r) (local.get $s)))
                              (i32.div_u (local.get $Wp) (local.get $s)))
                     (i32.div_u (local.get $col) (local.get $s)))
            (local.get $C)) (i32.const 2)))
          (local.set $c (i32.const 0))
          (block $simd_done
            (loop $simd
              (br_if $simd_done (i32.ge_u (local.get $c) (local.get $c4)))
              (local.set $at (i32.shl (local.get $c) (i32.const 2)))
              (v128.store align=4 (i32.add (local.get $dx) (i32.add (local.get $e) (local.get $at)))
                (f32x4.mul
                  (v128.load align=4
                    (i32.add (local.get $dy) (i32.add (local.get $block) (local.get $at))))
                  (v128.bitselect (f32x4.splat (f32.const 1)) (f32x4.splat (f32.const 0))
                    (f32x4.eq
                      (v128.load align=4
                        (i32.add (local.get $x) (i32.add (local.get $e) (local.get $at))))
                      (v128.load align=4
                        (i32.add (local.get $max) (i32.add (local.get $block) (local.get $at))))))))
              (local.set $c (i32.add (local.get $c) (i32.const 4)))
              (br $simd)))
          (block $rest_done
            (loop $rest
              (br_if $rest_done (i32.ge_u (local.get $c) (local.get $C)))
              (local.set $at (i32.shl (local.get $c) (i32.const 2)))
              (f32.store (i32.add (local.get $dx) (i32.add (local.get $e) (local.get $at)))
                (f32.mul
                  (f32.load (i32.add (local.get $dy) (i32.add (local.get $block) (local.get $at))))
                  (select (f32.const 1) (f32.const 0)
                    (f32.eq
                      (f32.load (i32.add (local.get $x) (i32.add (local.get $e) (local.get $at))))
                      (f32.load
                        (i32.add (local.get $max) (i32.add (local.get $block) (local.get $at))))))))
              (local.set $c (i32.add (local.get $c) (i32.const 1)))
              (br $rest)))
          (local.set $e (i32.add (local.get $e) (i32.shl (local.get $C) (i32.const 2))))
          (local.set $col (i32.add (local.get $col) (i32.const 1)))
          (br_if $cols (i32.lt_u (local.get $col) (local.get $W))))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br_if $rows (i32.lt_u (local.get $r) (local.get $H))))
      (local.set $b (i32.add (local.get $b) (i32.const 1)))
      (br_if $images (i32.lt_u (local.get $b) (local.get $B)))))


  ;; The max over each k × k neighbourhood (neighbourhoodMaxForwardWasm): x [B, H, W, C] →
  ;; [B, H − k + 1, W − k + 1, C], views t = di·k + dj in order, m ← v > m ? v : m. C a multiple
  ;; of 4.
  (func (export "neighbourhoodMaxForward")
    (param $x i32) (param $out i32) (param $B i32) (param $H i32) (param $W i32) (param $C i32)
    (param $k i32)
    (local $b i32) (local $i i32) (local $j i32) (local $c i32) (local $t i32) (local $views i32)
    (local $corner i32) (local $o i32) (local $m v128) (local $v v128)
    (local.set $views (i32.mul (local.get $k) (local.get $k)))
    (local.set $o (local.get $out))
    (loop $images
      (local.set $i (i32.const 0))
      (loop $rows
        (local.set $j (i32.const 0))
        (loop $cols
          (local.set $corner (call $inputAt (local.get $x) (local.get $b) (local.get $i)
            (local.get $j) (local.get $H) (local.get $W) (local.get $C)))
          (local.set $c (i32.const 0))
          (loop $lanes
            (local.set $m (v128.load align=4 (i32.add (local.get $corner) (local.get $c))))
            (local.set $t (i32.const 1))
            (block $views_done
              (loop $each_view
                (br_if $views_done (i32.ge_u (local.get $t) (local.get $views)))
                (local.set $v (v128.load align=4 (i32.add (i32.add (local.get $corner) (local.get $c))
                  (call $viewOffset (local.get $t) (local.get $k) (local.get $W) (local.get $C)))))
                (local.set $m (v128.bitselect (local.get $v) (local.get $m)
                  (f32x4.gt (local.get $v) (local.get $m))))
                (local.set $t (i32.add (local.get $t) (i32.const 1)))
                (br $each_view)))
            (v128.store align=4 (i32.add (local.get $o) (local.get $c)) (local.get $m))
            (local.set $c (i32.add (local.get $c) (i32.const 16)))
            (br_if $lanes (i32.lt_u (local.get $c) (i32.shl (local.get $C) (i32.const 2)))))
          (local.set $o (i32.add (local.get $o) (i32.shl (local.get $C) (i32.const 2))))
          (local.set $j (i32.add (local.get $j) (i32.const 1)))
          (br_if $cols (i32.lt_u (local.get $j)
            (i32.add (i32.sub (local.get $W) (local.get $k)) (i32.const 1)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br_if $rows (i32.lt_u (local.get $i)
          (i32.add (i32.sub (local.get $H) (local.get $k)) (i32.const 1)))))
      (local.set $b (i32.add (local.get $b) (i32.const 1)))
      (br_if $images (i32.lt_u (local.get $b) (local.get $B)))))

  ;; Its gradient (neighbourhoodMaxBackwardWasm): backwards along each chain, view t gets
  ;; g·[m < v_t] and the running max before it g·[m ≥ v_t], into got (k² arrays the size of dy,
  ;; view t's at t · its bytes); then each entry of x sums its views' parts, the last view's
  ;; first, +0 for a view that does not reach it. chain: scratch for k² vectors. C a multiple of 4.
  (func (export "neighbourhoodMaxBackward")
    (param $dy i32) (param $x i32) (param $dx i32) (param $got i32) (param $chain i32)
    (param $B i32) (param $H i32) (param $W i32) (param $C i32) (param $k i32)
    (local $b i32) (local $i i32) (local $j i32) (local $c i32) (local $t i32) (local $views i32)
    (local $oh i32) (local $ow i32) (local $bytes i32) (local $rowBytes i32) (local $corner i32)
    (local $o i32) (local $r i32) (local $col i32) (local $e i32)
    (local $m v128) (local $v v128) (local $carried v128) (local $before v128) (local $sum v128)
    (local $part v128)
    (local.set $views (i32.mul (local.get $k) (local.get $k)))
    (local.set $oh (i32.add (i32.sub (local.get $H) (local.get $k)) (i32.const 1)))
    (local.set $ow (i32.add (i32.sub (local.get $W) (local.get $k)) (i32.const 1)))
    (local.set $rowBytes (i32.shl (local.get $C) (i32.const 2)))
    (local.set $bytes (i32.mul (i32.mul (i32.mul (local.get $B) (local.get $oh)) (local.get $ow))
                               (local.get $rowBytes)))
    ;; pass 1: what each view of each output entry got
    (local.set $o (i32.const 0))
    (loop $images
      (local.set $i (i32.const 0))
      (loop $rows
        (local.set $j (i32.const 0))
        (loop $cols
          (local.set $corner (call $inputAt (local.get $x) (local.get $b) (local.get $i)
            (local.get $j) (local.get $H) (local.get $W) (local.get $C)))
          (local.set $c (i32.const 0))
          (loop $lanes
            (local.set $m (v128.load align=4 (i32.add (local.get $corner) (local.get $c))))
            (v128.store (local.get $chain) (local.get $m))
            (local.set $t (i32.const 1))
            (block $views_done
              (loop $each_view
                (br_if $views_done (i32.ge_u (local.get $t) (local.get $views)))
                (local.set $v (v128.load align=4 (i32.add (i32.add (local.get $corner) (local.get $c))
                  (call $viewOffset (local.get $t) (local.get $k) (local.get $W) (local.get $C)))))
                (local.set $m (v128.bitselect (local.get $v) (local.get $m)
                  (f32x4.gt (local.get $v) (local.get $m))))
                (v128.store (i32.add (local.get $chain) (i32.shl (local.get $t) (i32.const 4)))
                  (local.get $m))
                (local.set $t (i32.add (local.get $t) (i32.const 1)))
                (br $each_view)))
            (local.set $carried (v128.load align=4
              (i32.add (local.get $dy) (i32.add (local.get $o) (local.get $c)))))
            (local.set $t (i32.sub (local.get $views) (i32.const 1)))
            (block $back_done
              (loop $back
                (br_if $back_done (i32.eqz (local.get $t)))
                (local.set $before (v128.load
                  (i32.add (local.get $chain) (i32.shl (i32.sub (local.get $t) (i32.const 1)) (i32.const 4)))))
                (local.set $v (v128.load align=4 (i32.add (i32.add (local.get $corner) (local.get $c))
                  (call $viewOffset (local.get $t) (local.get $k) (local.get $W) (local.get $C)))))
                (v128.store align=4
                  (i32.add (local.get $got) (i32.add (i32.mul (local.get $t) (local.get $bytes))
                                                     (i32.add (local.get $o) (local.get $c))))
                  (f32x4.mul (local.get $carried)
                    (v128.bitselect (f32x4.splat (f32.const 1)) (f32x4.splat (f32.const 0))
                      (f32x4.lt (local.get $before) (local.get $v)))))
                (local.set $carried (f32x4.mul (local.get $carried)
                  (v128.bitselect (f32x4.splat (f32.const 1)) (f32x4.splat (f32.const 0))
                    (f32x4.ge (local.get $before) (local.get $v)))))
                (local.set $t (i32.sub (local.get $t) (i32.const 1)))
                (br $back)))
            (v128.store align=4 (i32.add (local.get $got) (i32.add (local.get $o) (local.get $c)))
              (local.get $carried))
            (local.set $c (i32.add (local.get $c) (i32.const 16)))
            (br_if $lanes (i32.lt_u (local.get $c) (local.get $rowBytes))))
          (local.set $o (i32.add (local.get $o) (local.get $rowBytes)))
          (local.set $j (i32.add (local.get $j) (i32.const 1)))
          (br_if $cols (i32.lt_u (local.get $j) (local.get $ow))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br_if $rows (i32.lt_u (local.get $i) (local.get $oh))))
      (local.set $b (i32.add (local.get $b) (i32.const 1)))
      (br_if $images (i32.lt_u (local.get $b) (local.get $B))))
    ;; pass 2: each entry of x sums its views' parts
    (local.set $e (local.get $dx))
    (local.set $b (i32.const 0))
    (loop $images2
      (local.set $r (i32.const 0))
      (loop $rows2
        (local.set $col (i32.const 0))
        (loop $cols2
          (local.set $c (i32.const 0))
          (loop $lanes2
            (local.set $t (local.get $views))
            (loop $parts
              (local.set $t (i32.sub (local.get $t) (i32.const 1)))
              (local.set $i (i32.sub (local.get $r) (i32.div_u (local.get $t) (local.get $k))))
              (local.set $j (i32.sub (local.get $col) (i32.rem_u (local.get $t) (local.get $k))))
              (local.set $part
                (if (result v128)
                  (i32.and
                    (i32.and (i32.ge_s (local.get $i) (i32.const 0))
                             (i32.lt_s (local.get $i) (local.get $oh)))
                    (i32.and (i32.ge_s (local.get $j) (i32.const 0))
                             (i32.lt_s (local.get $j) (local.get $ow))))
                  (then (v128.load align=4 (i32.add (local.get $got)
                    (i32.add (i32.mul (local.get $t) (local.get $bytes))
                      (i32.add (i32.mul (i32.add (i32.mul (i32.add (i32.mul (local.get $b) (local.get $oh))
                                                                   (local.get $i))
                                                          (local.get $ow))
                                                 (local.get $j))
                                        (local.get $rowBytes))
                               (local.get $c))))))
                  (else (f32x4.splat (f32.const 0)))))
              (local.set $sum
                (select (result v128) (local.get $part) (f32x4.add (local.get $sum) (local.get $part))
                  (i32.eq (local.get $t) (i32.sub (local.get $views) (i32.const 1)))))
              (br_if $parts (local.get $t)))
            (v128.store align=4 (i32.add (local.get $e) (local.get $c)) (local.get $sum))
            (local.set $c (i32.add (local.get $c) (i32.const 16)))
            (br_if $lanes2 (i32.lt_u (local.get $c) (local.get $rowBytes))))
          (local.set $e (i32.add (local.get $e) (local.get $rowBytes)))
          (local.set $col (i32.add (local.get $col) (i32.const 1)))
          (br_if $cols2 (i32.lt_u (local.get $col) (local.get $W))))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br_if $rows2 (i32.lt_u (local.get $r) (local.get $H))))
      (local.set $b (i32.add (local.get $b) (i32.const 1)))
      (br_if $images2 (i32.lt_u (local.get $b) (local.get $B)))))

  ;; Where view t = di·k + dj of a neighbourhood starts, in bytes from its corner.
  (func $viewOffset (param $t i32) (param $k i32) (param $W i32) (param $C i32) (result i32)
    (i32.shl
      (i32.mul
        (i32.add (i32.mul (i32.div_u (local.get $t) (local.get $k)) (local.get $W))
                 (i32.rem_u (local.get $t) (local.get $k)))
        (local.get $C))
      (i32.const 2)))

  ;; Maxout over pairs (maxoutForwardWasm with 2 pieces): value[g] = z[2g + 1] > z[2g] ? z[2g + 1]
  ;; : z[2g], winner[g] the piece taken (0 or 1, int32); n groups, four at a time.
  (func (export "maxout2Forward") (param $n i32) (param $z i32) (param $value i32) (param $winner i32)
    (local $g i32) (local $n4 i32) (local $lo v128) (local $hi v128) (local $even v128)
    (local $odd v128) (local $wins v128) (local $a f32) (local $b f32)
    (local.set $n4 (i32.and (local.get $n) (i32.const -4)))
    (block $simd_done
      (loop $simd
        (br_if $simd_done (i32.ge_u (local.get $g) (local.get $n4)))
        (local.set $lo (v128.load align=4 (i32.add (local.get $z) (i32.shl (local.get $g) (i32.const 3)))))
        (local.set $hi (v128.load align=4
          (i32.add (local.get $z) (i32.add (i32.shl (local.get $g) (i32.const 3)) (i32.const 16)))))
        (local.set $even (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27
          (local.get $lo) (local.get $hi)))
        (local.set $odd (i8x16.shuffle 4 5 6 7 12 13 14 15 20 21 22 23 28 29 30 31
          (local.get $lo) (local.get $hi)))
        (local.set $wins (f32x4.gt (local.get $odd) (local.get $even)))
        (v128.store align=4 (i32.add (local.get $value) (i32.shl (local.get $g) (i32.const 2)))
          (v128.bitselect (local.get $odd) (local.get $even) (local.get $wins)))
        (v128.store align=4 (i32.add (local.get $winner) (i32.shl (local.get $g) (i32.const 2)))
          (v128.and (local.get $wins) (i32x4.splat (i32.const 1))))
        (local.set $g (i32.add (local.get $g) (i32.const 4)))
        (br $simd)))
    (block $done
      (loop $rest
        (br_if $done (i32.ge_u (local.get $g) (local.get $n)))
        (local.set $a (f32.load (i32.add (local.get $z) (i32.shl (local.get $g) (i32.const 3)))))
        (local.set $b (f32.load (i32.add (local.get $z) (i32.add (i32.shl (local.get $g) (i32.const 3)) (i32.const 4)))))
        (f32.store (i32.add (local.get $value) (i32.shl (local.get $g) (i32.const 2)))
          (select (local.get $b) (local.get $a) (f32.gt (local.get $b) (local.get $a))))
        (i32.store (i32.add (local.get $winner) (i32.shl (local.get $g) (i32.const 2)))
          (f32.gt (local.get $b) (local.get $a)))
        (local.set $g (i32.add (local.get $g) (i32.const 1)))
        (br $rest))))

  ;; Its gradient (maxoutBackwardWasm with 2 pieces): dy of each group to its winning piece, +0
  ;; to the other; n groups, four at a time.
  (func (export "maxout2Backward") (param $n i32) (param $dy i32) (param $winner i32) (param $dz i32)
    (local $g i32) (local $n4 i32) (local $gv v128) (local $second v128) (local $even v128)
    (local $odd v128) (local $zero v128) (local $w i32) (local $d f32)
    (local.set $n4 (i32.and (local.get $n) (i32.const -4)))
    (block $simd_done
      (loop $simd
        (br_if $simd_done (i32.ge_u (local.get $g) (local.get $n4)))
        (local.set $gv (v128.load align=4 (i32.add (local.get $dy) (i32.shl (local.get $g) (i32.const 2)))))
        (local.set $second (i32x4.ne
          (v128.load align=4 (i32.add (local.get $winner) (i32.shl (local.get $g) (i32.const 2))))
          (local.get $zero)))
        (local.set $even (v128.bitselect (local.get $zero) (local.get $gv) (local.get $second)))
        (local.set $odd (v128.bitselect (local.get $gv) (local.get $zero) (local.get $second)))
        (v128.store align=4 (i32.add (local.get $dz) (i32.shl (local.get $g) (i32.const 3)))
          (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $even) (local.get $odd)))
        (v128.store align=4
          (i32.add (local.get $dz) (i32.add (i32.shl (local.get $g) (i32.const 3)) (i32.const 16)))
          (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $even) (local.get $odd)))
        (local.set $g (i32.add (local.get $g) (i32.const 4)))
        (br $simd)))
    (block $done
      (loop $rest
        (br_if $done (i32.ge_u (local.get $g) (local.get $n)))
        (local.set $d (f32.load (i32.add (local.get $dy) (i32.shl (local.get $g) (i32.const 2)))))
        (local.set $w (i32.load (i32.add (local.get $winner) (i32.shl (local.get $g) (i32.const 2)))))
        (f32.store (i32.add (local.get $dz) (i32.shl (local.get $g) (i32.const 3)))
          (select (f32.const 0) (local.get $d) (local.get $w)))
        (f32.store (i32.add (local.get $dz) (i32.add (i32.shl (local.get $g) (i32.const 3)) (i32.const 4)))
          (select (local.get $d) (f32.const 0) (local.get $w)))
        (local.set $g (i32.add (local.get $g) (i32.const 1)))
        (br $rest))))


  ;; dst ← dst + src over n floats (a parameter's update in place, as TF.js's Add computes it).
  (func (export "addTo") (param $n i32) (param $dst i32) (param $src i32)
    (local $i i32) (local $at i32) (local $end4 i32)
    (local.set $end4 (i32.and (local.get $n) (i32.const -4)))
    (block $simd_done
      (loop $simd
        (br_if $simd_done (i32.ge_u (local.get $i) (local.get $end4)))
        (local.set $at (i32.shl (local.get $i) (i32.const 2)))
        (v128.store align=4 (i32.add (local.get $dst) (local.get $at))
          (f32x4.add (v128.load align=4 (i32.add (local.get $dst) (local.get $at)))
                     (v128.load align=4 (i32.add (local.get $src) (local.get $at)))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $simd)))
    (block $done
      (loop $rest
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $at (i32.shl (local.get $i) (i32.const 2)))
        (f32.store (i32.add (local.get $dst) (local.get $at))
          (f32.add (f32.load (i32.add (local.get $dst) (local.get $at)))
                   (f32.load (i32.add (local.get $src) (local.get $at)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $rest)))))

