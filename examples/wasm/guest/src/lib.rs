//! The component behind examples/wasm: three world-level exports, called from Lua with
//! `funcs.call("app:greet", "World")` and friends.

wit_bindgen::generate!({ world: "hello-wasm", path: "wit" });

struct HelloWasm;

impl Guest for HelloWasm {
    fn greet(name: String) -> String {
        format!("Hello, {name}!")
    }

    fn add(a: i32, b: i32) -> i32 {
        a.wrapping_add(b)
    }

    fn fibonacci(n: u32) -> u64 {
        let (mut a, mut b) = (0u64, 1u64);
        for _ in 0..n {
            (a, b) = (b, a.wrapping_add(b));
        }
        a
    }
}

export!(HelloWasm);
