//! `test:spin@0.1.0`: CPU-bound exports for execution deadlines (epoch interruption).

use core::hint::black_box;

wit_bindgen::generate!({ world: "spin", path: "wit" });

struct Spin;

impl Guest for Spin {
    fn spin_forever() -> u32 {
        let mut counter: u32 = 0;
        loop {
            // A volatile store is an observable side effect, so LLVM must keep the loop
            // (an empty `loop {}` is also kept by Rust, but this makes it explicit).
            counter = counter.wrapping_add(1);
            unsafe { core::ptr::write_volatile(&raw mut counter, counter) };
        }
    }

    fn spin_for(iterations: u64) -> u64 {
        let mut state = black_box(0x9e37_79b9_7f4a_7c15u64);
        let mut done = 0u64;
        while done < iterations {
            // xorshift64: cheap work whose result goes through black_box each round, so
            // the loop cannot be folded into a closed form.
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state = black_box(state);
            done += 1;
        }
        done
    }
}

export!(Spin);
