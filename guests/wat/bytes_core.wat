;; A hand-written core module that follows the canonical ABI for (bytes_core.wit)
;;
;;     echo: func(b: list<u8>) -> list<u8>;
;;     echo-padded: func(b: list<u8>, pad: u32) -> list<u8>;
;;     echo-text: func(s: string) -> string;
;;     echo-text-padded: func(s: string, pad: u32) -> string;
;;
;; Each gives its first argument back unchanged (`pad` is ignored). `echo` and
;; `echo-text` are byte-shaped (one string or byte list in, one out), which weft calls
;; through wasmtime's typed API; the padded ones are not, and take the dynamic path. Both
;; paths must give the same results and errors (crates/weft/tests/wasm_payloads.rs).
;;
;; Calling convention (canonical ABI): a string and a list<u8> lower the same way. The
;; host calls cabi_realloc(0, 0, 1, len), copies the bytes there and passes (ptr, len[,
;; pad]); the result flattens to two i32s, more than the one flat result allowed, so each
;; function returns a pointer to a return area holding the (ptr: u32, len: u32) pair,
;; little-endian, 4-byte aligned.
;;
;; Linear memory layout (1 page to start, grows on demand):
;;   0x0000-0x000f  reserved, kept zero (so no allocation is ever at address 0)
;;   0x0010-0x0017  return area: [0x10] result ptr (u32), [0x14] result len (u32)
;;   0x0100-...     heap: a bump allocator (global $heap is the next free byte)
(module
  (memory (export "memory") 1)
  (global $heap (mut i32) (i32.const 0x100))

  ;; cabi_realloc(old_ptr, old_size, align, new_size) -> ptr: bump allocation, memory
  ;; grown as needed (a failed grow traps); nothing is freed, and the host only ever
  ;; asks for new blocks (old_ptr 0).
  (func $realloc (export "cabi_realloc")
    (param $old_ptr i32) (param $old_size i32) (param $align i32) (param $new_size i32)
    (result i32)
    (local $ptr i32) (local $end i32) (local $need i32)
    (local.set $ptr
      (i32.and
        (i32.sub (i32.add (global.get $heap) (local.get $align)) (i32.const 1))
        (i32.sub (i32.const 0) (local.get $align))))
    (local.set $end (i32.add (local.get $ptr) (local.get $new_size)))
    (if (i32.lt_u (local.get $end) (local.get $ptr)) (then unreachable))
    (if (i32.gt_u (local.get $end) (i32.shl (memory.size) (i32.const 16)))
      (then
        (local.set $need
          (i32.sub
            (i32.shr_u (i32.add (local.get $end) (i32.const 0xffff)) (i32.const 16))
            (memory.size)))
        (if (i32.eq (memory.grow (local.get $need)) (i32.const -1))
          (then unreachable))))
    (global.set $heap (local.get $end))
    (local.get $ptr))

  ;; The (ptr, len) pair in the return area, and its address.
  (func $give_back (param $ptr i32) (param $len i32) (result i32)
    (i32.store (i32.const 0x10) (local.get $ptr))
    (i32.store (i32.const 0x14) (local.get $len))
    (i32.const 0x10))

  (func (export "echo") (param $ptr i32) (param $len i32) (result i32)
    (call $give_back (local.get $ptr) (local.get $len)))

  (func (export "echo-padded") (param $ptr i32) (param $len i32) (param $pad i32) (result i32)
    (call $give_back (local.get $ptr) (local.get $len)))

  (func (export "echo-text") (param $ptr i32) (param $len i32) (result i32)
    (call $give_back (local.get $ptr) (local.get $len)))

  (func (export "echo-text-padded") (param $ptr i32) (param $len i32) (param $pad i32) (result i32)
    (call $give_back (local.get $ptr) (local.get $len))))
