//! `test:hog@0.1.0`: memory-hungry exports for memory limits (`ResourceLimiter`).
//!
//! Allocation failure is handled here, not by std: std's out-of-memory path would print
//! to stderr first (importing wasi:cli) and then abort. Here a failed `memory.grow` (the
//! limiter said no) becomes an immediate `unreachable` trap, and the component imports
//! nothing.

use core::hint::black_box;

wit_bindgen::generate!({ world: "hog", path: "wit" });

const MIB: usize = 1 << 20;
const PAGE: usize = 64 * 1024;

/// A 1 MiB chunk with a non-zero byte written into every wasm page, so the memory is
/// really used and the allocation cannot be elided.
fn chunk(seed: u32) -> Vec<u8> {
    let mut v = Vec::new();
    if v.try_reserve_exact(MIB).is_err() {
        core::arch::wasm32::unreachable()
    }
    v.resize(MIB, 0);
    for (i, page) in v.chunks_mut(PAGE).enumerate() {
        page[0] = (seed as u8 ^ i as u8) | 1;
    }
    black_box(v)
}

/// Pushes without ever letting `Vec` grow through its infallible (printing) path.
fn push(chunks: &mut Vec<Vec<u8>>, chunk: Vec<u8>) {
    if chunks.len() == chunks.capacity() && chunks.try_reserve(1).is_err() {
        core::arch::wasm32::unreachable()
    }
    chunks.push(chunk);
}

struct Hog;

impl Guest for Hog {
    fn grow_forever() -> u32 {
        let mut chunks = Vec::new();
        let mut n: u32 = 0;
        loop {
            push(&mut chunks, chunk(n));
            n = n.wrapping_add(1);
            black_box(&chunks);
        }
    }

    fn grow_mb(mb: u32) -> u32 {
        let mut chunks = Vec::new();
        for n in 0..mb {
            push(&mut chunks, chunk(n));
        }
        black_box(&chunks);
        chunks.len() as u32
    }
}

export!(Hog);
