//! WIT ⇄ `Value`: arbitrary values against arbitrary WIT types, lowered (one by one and
//! as a call's arguments) and lifted back; well-typed component values lifted and
//! lowered back (`weft_fuzz::typed` says what is checked).

#![no_main]

use arbitrary::Unstructured;
use libfuzzer_sys::fuzz_target;
use weft_core::ErrorKind;
use weft_fuzz::{typed, wit};
use weft_wasm::fuzzing::lower_args;

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let Ok(shapes) = wit::arbitrary_params(&mut u, 3) else {
        return;
    };
    let params = wit::compile(&shapes);
    let mut args = Vec::new();
    let mut lowered = Vec::new();
    for (shape, (_, ty)) in shapes.iter().zip(&params) {
        let Ok(v) = typed::value_for(&mut u, ty, 0) else {
            return;
        };
        let val = typed::check_lower(ty, &v);
        if let Some(val) = &val {
            typed::check_lift(ty, shape, val);
        }
        lowered.push(val);
        args.push(v);
        if let Ok(Some(val)) = typed::val_for(&mut u, ty) {
            typed::check_lift(ty, shape, &val);
        }
    }
    // A call lowers exactly what lowering each argument gives, and names the first bad one.
    match lower_args(&params, &args) {
        Ok(vals) => {
            let each: Vec<_> = lowered.into_iter().map(Option::unwrap).collect();
            assert_eq!(vals, each);
        }
        Err(e) => {
            assert_eq!(e.kind(), ErrorKind::Invalid);
            let first = lowered
                .iter()
                .position(Option::is_none)
                .expect("a failed argument");
            let prefix = format!("argument {} (p{first})", first + 1);
            assert!(
                e.to_string().starts_with(&prefix),
                "{e} (expected {prefix})"
            );
        }
    }
});
