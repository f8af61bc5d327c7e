;; greet: func(name: string) -> string  — "Hello, <name>!"
;;
;; A core module following the canonical ABI by hand (its entry's `wit:` gives the
;; signature). The host copies the argument into memory it gets from cabi_realloc and
;; passes (ptr, len); the string result is returned through a return area holding
;; (ptr, len). With `transport: wasi-http` the argument is the request body and the
;; string result is a 200 text/plain response.
(module
  (memory (export "memory") 1)
  ;; 0x10: the return area (ptr, len); 0x20: "Hello, "; the heap from 0x100
  (data (i32.const 0x20) "Hello, ")
  (global $heap (mut i32) (i32.const 0x100))

  ;; A bump allocator: aligns, grows memory when needed, never frees (each request gets
  ;; a fresh instance). The host only allocates (old_ptr is 0), so nothing is copied.
  (func $alloc (export "cabi_realloc")
    (param $old_ptr i32) (param $old_size i32) (param $align i32) (param $size i32)
    (result i32)
    (local $ptr i32) (local $end i32)
    (local.set $ptr
      (i32.and
        (i32.add (global.get $heap) (i32.sub (local.get $align) (i32.const 1)))
        (i32.sub (i32.const 0) (local.get $align))))
    (local.set $end (i32.add (local.get $ptr) (local.get $size)))
    (if (i32.lt_u (local.get $end) (local.get $ptr)) (then unreachable))
    (if (i32.gt_u (local.get $end) (i32.shl (memory.size) (i32.const 16)))
      (then
        (if (i32.eq
              (memory.grow
                (i32.sub
                  (i32.shr_u (i32.add (local.get $end) (i32.const 0xffff)) (i32.const 16))
                  (memory.size)))
              (i32.const -1))
          (then unreachable))))
    (global.set $heap (local.get $end))
    (local.get $ptr))

  (func (export "greet") (param $name i32) (param $len i32) (result i32)
    (local $out i32) (local $total i32)
    (local.set $total (i32.add (local.get $len) (i32.const 8)))
    (local.set $out (call $alloc (i32.const 0) (i32.const 0) (i32.const 1) (local.get $total)))
    ;; "Hello, " + name + "!"
    (memory.copy (local.get $out) (i32.const 0x20) (i32.const 7))
    (memory.copy (i32.add (local.get $out) (i32.const 7)) (local.get $name) (local.get $len))
    (i32.store8 (i32.add (local.get $out) (i32.add (local.get $len) (i32.const 7)))
      (i32.const 0x21)) ;; '!'
    (i32.store (i32.const 0x10) (local.get $out))
    (i32.store (i32.const 0x14) (local.get $total))
    (i32.const 0x10)))
