//! `test:minimal@0.1.0`: imports `test:minimal/host@0.1.0`, which nobody provides.

wit_bindgen::generate!({ world: "unprovided", path: "wit" });

use test::minimal::host;

struct Unprovided;

impl Guest for Unprovided {
    fn call_host(x: u32) -> u32 {
        host::ping(x)
    }

    fn no_host(x: u32) -> u32 {
        x.wrapping_add(1)
    }
}

export!(Unprovided);
