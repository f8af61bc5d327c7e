//! CLI arguments by WIT type: `weft run <command> args…` hands each argument to the
//! command's method as a string value (`weft_runtime::run_command`), lowered against
//! the method's WIT parameters. Arbitrary words against arbitrary parameter lists.

#![no_main]

use arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;
use weft_core::{ErrorKind, Value};
use weft_fuzz::{typed, value, wit};
use weft_wasm::fuzzing::lower_args;

/// Words a user might type: numbers, booleans, names, JSON-ish text, anything.
const WORDS: &[&str] = &[
    "",
    "0",
    "42",
    "-1",
    "255",
    "256",
    "1.5",
    "1e3",
    "true",
    "false",
    "nil",
    "a",
    "é",
    "ab",
    "{}",
    "[]",
    "{\"ok\": 1}",
    "--",
    "-v",
    "--verbose",
    "read,write",
    "0x10",
];

/// One CLI word.
fn word(u: &mut Unstructured) -> Result<String> {
    Ok(match u.int_in_range(0..=3)? {
        0 | 1 => (*u.choose(WORDS)?).to_owned(),
        2 => (*u.choose(value::NAMES)?).to_owned(),
        _ => u.arbitrary()?,
    })
}

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let Ok(shapes) = wit::arbitrary_params(&mut u, 4) else {
        return;
    };
    let params = wit::compile(&shapes);
    let count = match u.ratio(5, 6) {
        Ok(true) => params.len(),
        _ => u.int_in_range(0..=5).unwrap_or(0),
    };
    let Ok(argv) = (0..count).map(|_| word(&mut u)).collect::<Result<Vec<_>>>() else {
        return;
    };
    // As run_command passes them: each argument a string value.
    let args: Vec<Value> = argv.iter().map(|a| Value::str(a.as_str())).collect();
    match lower_args(&params, &args) {
        Ok(vals) => {
            assert_eq!(vals.len(), params.len());
            for ((shape, (_, ty)), val) in shapes.iter().zip(&params).zip(&vals) {
                if let Err(e) = typed::typecheck(ty, val) {
                    panic!("ill-typed argument from {argv:?}: {e}");
                }
                typed::check_lift(ty, shape, val);
            }
        }
        Err(e) => {
            assert_eq!(e.kind(), ErrorKind::Invalid);
            let text = e.to_string();
            if args.len() == params.len() {
                assert!(text.starts_with("argument "), "{text}");
            } else {
                assert!(text.starts_with("expected "), "{text}");
            }
        }
    }
});
