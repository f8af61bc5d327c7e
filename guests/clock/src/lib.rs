//! `test:clock@0.1.0`: the clocks through Rust's std, nothing else.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

wit_bindgen::generate!({ world: "clock", path: "wit" });

struct Clock;

impl Guest for Clock {
    fn now_ms() -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64)
    }

    fn sleep_ms(ms: u64) -> u64 {
        let start = Instant::now();
        std::thread::sleep(Duration::from_millis(ms));
        start.elapsed().as_millis() as u64
    }
}

export!(Clock);
