//! `test:trap@0.1.0`: exports that trap, each in a different way, without printing.

use core::hint::black_box;

wit_bindgen::generate!({ world: "trap", path: "wit" });

struct Trap;

impl Guest for Trap {
    fn unreachable_trap() -> u32 {
        core::arch::wasm32::unreachable()
    }

    fn divide(a: i32, b: i32) -> i32 {
        if b == 0 {
            // Stable Rust cannot emit a bare `i32.div_s` (its `/` checks for zero and
            // panics, and a panic would first print to stderr). So a zero divisor traps
            // here with `unreachable`, explicitly. For the real "integer divide by zero"
            // trap use the core module guests/wat/trap_core.wat.
            core::arch::wasm32::unreachable()
        }
        a.wrapping_div(b)
    }

    fn out_of_bounds() -> u32 {
        // Linear memory is far smaller than 4 GiB; black_box keeps the address opaque.
        let addr = black_box(u32::MAX as usize - 15);
        unsafe { core::ptr::read_volatile(addr as *const u32) }
    }
}

export!(Trap);
