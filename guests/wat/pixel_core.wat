;; A hand-written core module that follows the canonical ABI for the named types of
;; pixel_core.wit (an enum, a type alias, a record, flags and a variant defined before
;; the functions that use them), so that wit-component can wrap it into a component.
;;
;; How each type crosses (canonical ABI):
;;   - enum color: its case index as one i32 (red 0, green 1, blue 2); in memory a u8.
;;   - type offset = s32: an i32.
;;   - record pixel { x: s32, y: s32, color: color }: flattened into its fields as
;;     parameters (x, y, color); in memory x at +0, y at +4, color at +8 (size 12,
;;     alignment 4).
;;   - flags perms { read, write, exec }: one i32 bit set (read 1, write 2, exec 4).
;;   - variant shape { circle(s32), square(s32), none }: two i32s, the case index and
;;     the payload (0 for none).
;;   - A pixel result flattens to three values, more than the one flat result allowed,
;;     so `shift` writes it to a return area and returns its address.
;;
;; Linear memory layout (1 page):
;;   0x0000-0x000f  reserved, kept zero
;;   0x0010-0x001b  return area of `shift` (a pixel)
;; No strings or lists cross, so no cabi_realloc is needed.
(module
  (memory (export "memory") 1)

  ;; shift(p: pixel, dx: offset) -> pixel
  (func (export "shift") (param $x i32) (param $y i32) (param $color i32) (param $dx i32)
    (result i32)
    (i32.store (i32.const 0x10) (i32.add (local.get $x) (local.get $dx)))
    (i32.store (i32.const 0x14) (local.get $y))
    (i32.store8 (i32.const 0x18) (call $next_color (local.get $color)))
    (i32.const 0x10))

  ;; next(c: color) -> color
  (func (export "next") (param $c i32) (result i32)
    (call $next_color (local.get $c)))

  ;; invert(p: perms) -> perms
  (func (export "invert") (param $p i32) (result i32)
    (i32.xor (local.get $p) (i32.const 7)))

  ;; area(s: shape) -> s32
  (func (export "area") (param $case i32) (param $n i32) (result i32)
    (if (result i32) (i32.eq (local.get $case) (i32.const 0))
      (then (i32.mul (i32.const 3) (i32.mul (local.get $n) (local.get $n))))
      (else
        (if (result i32) (i32.eq (local.get $case) (i32.const 1))
          (then (i32.mul (local.get $n) (local.get $n)))
          (else (i32.const 0))))))

  ;; The colour after $c: (c + 1) mod 3.
  (func $next_color (param $c i32) (result i32)
    (i32.rem_u (i32.add (local.get $c) (i32.const 1)) (i32.const 3)))
)
