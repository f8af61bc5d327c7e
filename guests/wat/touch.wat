;; Memory that is really used: `touch(mb)` grows the memory to hold `mb` MiB more and
;; writes one byte into every 4 KiB page of it (every host page becomes resident), then
;; returns how many pages it wrote. A failed grow traps (`unreachable`).
;; WIT signature (touch.wit): touch: func(mb: u32) -> u32;
(module
  (memory 1)
  (func (export "touch") (param $mb i32) (result i32)
    (local $addr i32) (local $end i32) (local $pages i32)
    ;; the first new byte: the current size in bytes
    (local.set $addr (i32.mul (memory.size) (i32.const 65536)))
    ;; 16 wasm pages per MiB
    (if (i32.eq (memory.grow (i32.mul (local.get $mb) (i32.const 16))) (i32.const -1))
      (then unreachable))
    (local.set $end (i32.add (local.get $addr) (i32.mul (local.get $mb) (i32.const 1048576))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $addr) (local.get $end)))
        (i32.store8 (local.get $addr) (i32.const 1))
        (local.set $pages (i32.add (local.get $pages) (i32.const 1)))
        (local.set $addr (i32.add (local.get $addr) (i32.const 4096)))
        (br $next)))
    (local.get $pages)))
