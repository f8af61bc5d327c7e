;; A hand-written core module that follows the canonical ABI for
;;
;;     greet: func(name: string) -> string;        (greet_core.wit)
;;
;; so that wit-component can wrap it into a component (string encoding utf8).
;;
;; Calling convention (canonical ABI, core signature (i32 i32) -> i32):
;;   - The argument string is lowered by the host: it calls cabi_realloc(0, 0, 1, len),
;;     copies the UTF-8 bytes there, and passes (ptr, len).
;;   - A string result flattens to two i32s, more than the one flat result allowed, so the
;;     function returns a pointer to a return area holding the (ptr: u32, len: u32) pair,
;;     little-endian, 4-byte aligned. The host lifts the string from there.
;;   - cabi_post_greet (post-return, optional in the ABI) runs after the host has copied
;;     the result out; it frees everything by resetting the bump allocator.
;;
;; Linear memory layout (1 page to start, grows on demand):
;;   0x0000-0x000f  reserved, kept zero (so no allocation is ever at address 0)
;;   0x0010-0x0017  return area: [0x10] result ptr (u32), [0x14] result len (u32)
;;   0x0020-0x0026  "Hello, " (7 bytes)
;;   0x0027         "!"
;;   0x0100-...     heap: a bump allocator (global $heap is the next free byte)
(module
  (memory (export "memory") 1)
  (global $heap (mut i32) (i32.const 0x100))
  (data (i32.const 0x20) "Hello, !")

  ;; cabi_realloc(old_ptr, old_size, align, new_size) -> ptr
  ;; Bump allocation: align up, hand out new_size bytes, copy the old contents on a
  ;; realloc. Memory grows as needed; a failed grow traps. Nothing is ever freed here.
  (func $realloc (export "cabi_realloc")
    (param $old_ptr i32) (param $old_size i32) (param $align i32) (param $new_size i32)
    (result i32)
    (local $ptr i32) (local $end i32) (local $need i32)
    ;; ptr = (heap + align - 1) & -align   (align is a power of two, at least 1)
    (local.set $ptr
      (i32.and
        (i32.sub (i32.add (global.get $heap) (local.get $align)) (i32.const 1))
        (i32.sub (i32.const 0) (local.get $align))))
    (local.set $end (i32.add (local.get $ptr) (local.get $new_size)))
    ;; wrapped around 4 GiB: cannot be satisfied
    (if (i32.lt_u (local.get $end) (local.get $ptr)) (then unreachable))
    ;; grow memory when end is past its current size (pages of 64 KiB)
    (if (i32.gt_u (local.get $end) (i32.shl (memory.size) (i32.const 16)))
      (then
        (local.set $need
          (i32.sub
            (i32.shr_u (i32.add (local.get $end) (i32.const 0xffff)) (i32.const 16))
            (memory.size)))
        (if (i32.eq (memory.grow (local.get $need)) (i32.const -1))
          (then unreachable))))
    (global.set $heap (local.get $end))
    ;; realloc: keep min(old_size, new_size) bytes of the old block
    (if (local.get $old_ptr)
      (then
        (memory.copy
          (local.get $ptr)
          (local.get $old_ptr)
          (select (local.get $old_size) (local.get $new_size)
            (i32.lt_u (local.get $old_size) (local.get $new_size))))))
    (local.get $ptr))

  ;; greet(name_ptr, name_len) -> retptr; the result is "Hello, " + name + "!"
  (func (export "greet") (param $name i32) (param $len i32) (result i32)
    (local $out i32) (local $total i32)
    (local.set $total (i32.add (local.get $len) (i32.const 8)))
    (local.set $out
      (call $realloc (i32.const 0) (i32.const 0) (i32.const 1) (local.get $total)))
    (memory.copy (local.get $out) (i32.const 0x20) (i32.const 7))
    (memory.copy
      (i32.add (local.get $out) (i32.const 7)) (local.get $name) (local.get $len))
    (i32.store8
      (i32.add (local.get $out) (i32.add (local.get $len) (i32.const 7)))
      (i32.load8_u (i32.const 0x27)))
    (i32.store (i32.const 0x10) (local.get $out))
    (i32.store (i32.const 0x14) (local.get $total))
    (i32.const 0x10))

  ;; post-return for greet: gets greet's return value; frees all heap memory.
  (func (export "cabi_post_greet") (param $retptr i32)
    (global.set $heap (i32.const 0x100))))
