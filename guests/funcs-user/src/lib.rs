//! `test:funcs-user@0.1.0`: imports weft's `wippy:runtime/funcs@0.1.0` from the shipped
//! WIT in `/wit/wippy-runtime` (one copy, referenced by path).

wit_bindgen::generate!({
    world: "test:funcs-user/funcs-user",
    path: ["../../wit/wippy-runtime", "wit"],
    with: { "wippy:runtime/funcs@0.1.0": generate },
});

use wippy::runtime::funcs;

struct FuncsUser;

impl Guest for FuncsUser {
    fn call_string(target: String, input: String) -> Result<String, String> {
        funcs::call_string(&target, &input)
    }

    fn call_bytes(target: String, input: Vec<u8>) -> Result<Vec<u8>, String> {
        funcs::call_bytes(&target, &input)
    }

    fn compute(a: i32, b: i32) -> i32 {
        a.wrapping_mul(b)
    }

    fn exit_with(code: u32) {
        std::process::exit(code as i32)
    }
}

export!(FuncsUser);
