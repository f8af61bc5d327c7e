;; Core-module traps that the Rust `trap` component cannot produce exactly: a bare
;; i32.div_s, so a zero divisor is wasm's own "integer divide by zero" trap (and
;; s32::MIN / -1 its "integer overflow" trap), plus an `unreachable`.
;; WIT signatures (trap_core.wit):
;;   divide: func(a: s32, b: s32) -> s32;
;;   unreachable-trap: func() -> s32;
(module
  (func (export "divide") (param $a i32) (param $b i32) (result i32)
    (i32.div_s (local.get $a) (local.get $b)))
  (func (export "unreachable-trap") (result i32)
    unreachable))
