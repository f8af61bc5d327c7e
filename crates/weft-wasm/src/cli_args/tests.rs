//! Tests of `cli_args`: each WIT type with good and bad text, and the messages.

use std::sync::{Arc, LazyLock};

use wasmtime::component::Component;
use wasmtime::component::types::ComponentItem;
use wasmtime::{Config, Engine};

use super::*;

/// A component importing `t-<type>: func(x: T)` per type under test (only the types
/// matter, so no core code is needed).
const WAT: &str = r#"
    (component
        (type $point' (record (field "x" s32) (field "y" s32)))
        (import "point" (type $point (eq $point')))
        (type $shape' (variant (case "circle" f64) (case "rectangle" $point) (case "empty")))
        (import "shape" (type $shape (eq $shape')))
        (type $color' (enum "red" "green" "blue"))
        (import "color" (type $color (eq $color')))
        (type $perms' (flags "read" "write" "exec"))
        (import "perms" (type $perms (eq $perms')))
        (import "blob" (type $blob (sub resource)))
        (type $wide' (record (field "field-number-0" u32) (field "field-number-1" u32) (field "field-number-2" u32) (field "field-number-3" u32) (field "field-number-4" u32) (field "field-number-5" u32) (field "field-number-6" u32) (field "field-number-7" u32) (field "field-number-8" u32) (field "field-number-9" u32) (field "field-number-10" u32) (field "field-number-11" u32)))
        (import "wide" (type $wide (eq $wide')))

        (import "t-bool" (func (param "x" bool)))
        (import "t-s8" (func (param "x" s8)))
        (import "t-u8" (func (param "x" u8)))
        (import "t-s16" (func (param "x" s16)))
        (import "t-u16" (func (param "x" u16)))
        (import "t-s32" (func (param "x" s32)))
        (import "t-u32" (func (param "x" u32)))
        (import "t-s64" (func (param "x" s64)))
        (import "t-u64" (func (param "x" u64)))
        (import "t-f32" (func (param "x" f32)))
        (import "t-f64" (func (param "x" f64)))
        (import "t-char" (func (param "x" char)))
        (import "t-string" (func (param "x" string)))
        (import "t-bytes" (func (param "x" (list u8))))
        (import "t-strings" (func (param "x" (list string))))
        (import "t-point" (func (param "x" $point)))
        (import "t-tuple" (func (param "x" (tuple string u32))))
        (import "t-shape" (func (param "x" $shape)))
        (import "t-color" (func (param "x" $color)))
        (import "t-perms" (func (param "x" $perms)))
        (import "t-option" (func (param "x" (option s32))))
        (import "t-option-string" (func (param "x" (option string))))
        (import "t-option-point" (func (param "x" (option $point))))
        (import "t-result" (func (param "x" (result s32 (error $point)))))
        (import "t-unit-ok" (func (param "x" (result (error string)))))
        (import "t-map" (func (param "x" (map string u32))))
        (import "t-own" (func (param "x" (own $blob))))
        (import "two" (func (param "code" u8) (param "name" (option string))))
        (import "none" (func))
        (import "t-wide" (func (param "x" $wide)))
    )
"#;

/// The compiled fixture and its engine.
static FIXTURE: LazyLock<(Engine, Component)> = LazyLock::new(|| {
    let bytes = wat::parse_str(WAT).expect("parse WAT");
    let mut config = Config::new();
    config.wasm_component_model_map(true);
    let engine = Engine::new(&config).expect("engine");
    let component = Component::new(&engine, &bytes).expect("compile component");
    (engine, component)
});

/// The `(name, type)` parameters of the imported function `name`.
fn params(name: &str) -> Vec<(String, Type)> {
    let (engine, component) = &*FIXTURE;
    match component
        .component_type()
        .get_import(engine, name)
        .map(|e| e.ty)
    {
        Some(ComponentItem::ComponentFunc(f)) => {
            f.params().map(|(n, t)| (n.to_owned(), t)).collect()
        }
        _ => panic!("no function {name}"),
    }
}

/// Parses `text` as the one argument of `t-<ty>`; checks that the value lowers again
/// (as the call will) to what WAVE or the plain rules gave.
fn parse(ty: &str, text: &str) -> Result<Value, String> {
    let ps = params(&format!("t-{ty}"));
    let mut values = parse_args(&ps, &[text.to_owned()]).map_err(|e| e.to_string())?;
    let lowered = convert::lower_args(&ps, &values).expect("a parsed argument lowers");
    let direct = parse_arg(&ps[0].1, text).expect("parsed once, parses again");
    assert_eq!(
        sorted_flags(lowered[0].clone()),
        sorted_flags(direct),
        "{ty} {text:?}: lift then lower keeps the value"
    );
    Ok(values.remove(0))
}

/// `v` with its set flags sorted (WAVE keeps the text's order, lowering the type's).
fn sorted_flags(v: Val) -> Val {
    match v {
        Val::Flags(mut names) => {
            names.sort();
            Val::Flags(names)
        }
        v => v,
    }
}

/// The error of parsing `text` for `t-<ty>`.
fn error(ty: &str, text: &str) -> String {
    parse(ty, text).expect_err(text)
}

#[test]
fn strings_are_taken_as_they_are() {
    assert_eq!(parse("string", "hello"), Ok(Value::str("hello")));
    assert_eq!(parse("string", "two words"), Ok(Value::str("two words")));
    assert_eq!(parse("string", "\"quoted\""), Ok(Value::str("\"quoted\"")));
    assert_eq!(parse("string", ""), Ok(Value::str("")));
    assert_eq!(parse("string", "none"), Ok(Value::str("none")));
}

#[test]
fn bools_are_true_or_false() {
    assert_eq!(parse("bool", "true"), Ok(Value::Bool(true)));
    assert_eq!(parse("bool", "false"), Ok(Value::Bool(false)));
    assert_eq!(
        error("bool", "yes"),
        r#"argument 1 (x: bool): "yes" is not a bool (true or false)"#
    );
}

#[test]
fn integers_are_decimal_and_in_range() {
    assert_eq!(parse("u8", "3"), Ok(Value::Int(3)));
    assert_eq!(parse("u8", "255"), Ok(Value::Int(255)));
    assert_eq!(parse("s8", "-128"), Ok(Value::Int(-128)));
    assert_eq!(parse("s16", "+7"), Ok(Value::Int(7)));
    assert_eq!(parse("u16", "65535"), Ok(Value::Int(65535)));
    assert_eq!(parse("s32", "-5"), Ok(Value::Int(-5)));
    assert_eq!(parse("u32", "4294967295"), Ok(Value::Int(4294967295)));
    assert_eq!(
        parse("s64", &i64::MIN.to_string()),
        Ok(Value::Int(i64::MIN))
    );
    assert_eq!(
        parse("u64", &i64::MAX.to_string()),
        Ok(Value::Int(i64::MAX))
    );
    assert_eq!(
        error("u8", "abc"),
        r#"argument 1 (x: u8): "abc" is not a u8"#
    );
    assert_eq!(
        error("u8", "300"),
        r#"argument 1 (x: u8): "300" is not a u8 (0 to 255)"#
    );
    assert_eq!(
        error("u8", "-1"),
        r#"argument 1 (x: u8): "-1" is not a u8 (0 to 255)"#
    );
    assert_eq!(
        error("s32", "1.5"),
        r#"argument 1 (x: s32): "1.5" is not an s32"#
    );
    assert_eq!(
        error("s8", " 1"),
        r#"argument 1 (x: s8): " 1" is not an s8"#
    );
    assert_eq!(
        error("u64", "18446744073709551615"),
        r#"argument 1 (x: u64): "18446744073709551615" is not a u64 (0 to 9223372036854775807)"#
    );
}

#[test]
fn floats_take_decimals_and_the_special_values() {
    assert_eq!(parse("f64", "1.5"), Ok(Value::Float(1.5)));
    assert_eq!(parse("f64", "-2e3"), Ok(Value::Float(-2000.0)));
    assert_eq!(parse("f64", "inf"), Ok(Value::Float(f64::INFINITY)));
    assert_eq!(parse("f32", "0.5"), Ok(Value::Float(0.5)));
    assert!(matches!(parse("f64", "nan"), Ok(Value::Float(f)) if f.is_nan()));
    assert_eq!(
        error("f64", "one"),
        r#"argument 1 (x: f64): "one" is not an f64"#
    );
    assert_eq!(
        error("f32", "1e39"),
        r#"argument 1 (x: f32): "1e39" is out of range for f32"#
    );
}

#[test]
fn chars_are_one_character_or_wave() {
    assert_eq!(parse("char", "é"), Ok(Value::str("é")));
    assert_eq!(parse("char", "'"), Ok(Value::str("'")));
    assert_eq!(parse("char", r"'\n'"), Ok(Value::str("\n")));
    assert_eq!(parse("char", r"'\u{1F600}'"), Ok(Value::str("😀")));
    assert_eq!(
        error("char", "ab"),
        r#"argument 1 (x: char): "ab" is not a char (one character, or a WAVE char like '\n')"#
    );
}

#[test]
fn enums_take_a_case_name() {
    assert_eq!(parse("color", "green"), Ok(Value::str("green")));
    assert_eq!(
        error("color", "mauve"),
        r#"argument 1 (x: enum { red, green, blue }): "mauve" is not one of red, green, blue"#
    );
    // Not an index: the CLI takes names only.
    assert!(error("color", "1").contains("is not one of"));
}

#[test]
fn options_take_none_some_or_the_value() {
    assert_eq!(parse("option", "none"), Ok(Value::Nil));
    assert_eq!(parse("option", "5"), Ok(Value::Int(5)));
    assert_eq!(parse("option", "some(5)"), Ok(Value::Int(5)));
    assert_eq!(parse("option-string", "hello"), Ok(Value::str("hello")));
    assert_eq!(parse("option-string", "none"), Ok(Value::Nil));
    assert_eq!(
        parse("option-point", "{x: 1, y: 2}"),
        Ok(Value::from_pairs([
            ("x", Value::Int(1)),
            ("y", Value::Int(2))
        ]))
    );
    assert_eq!(
        error("option", "five"),
        r#"argument 1 (x: option<s32>): "five" is not an s32"#
    );
    let e = error("option", "some(x)");
    assert!(
        e.starts_with(
            r#"argument 1 (x: option<s32>): "some(x)" is not a WAVE option value (e.g. some(0)): "#
        ),
        "{e}"
    );
}

#[test]
fn records_and_lists_are_wave() {
    let point = Value::from_pairs([("x", Value::Int(1)), ("y", Value::Int(-2))]);
    assert_eq!(parse("point", "{x: 1, y: -2}"), Ok(point.clone()));
    assert_eq!(parse("point", "{y: -2, x: 1}"), Ok(point));
    assert_eq!(
        parse("strings", r#"["a", "b c"]"#),
        Ok(Value::array(vec![Value::str("a"), Value::str("b c")]))
    );
    assert_eq!(parse("strings", "[]"), Ok(Value::array(vec![])));
    assert_eq!(
        parse("bytes", "[104, 105]"),
        Ok(Value::bytes(b"hi".to_vec()))
    );
    assert_eq!(
        parse("tuple", r#"("a", 1)"#),
        Ok(Value::array(vec![Value::str("a"), Value::Int(1)]))
    );
    let e = error("point", "{x: 1");
    assert!(
        e.starts_with(
            r#"argument 1 (x: record { x: s32, y: s32 }): "{x: 1" is not a WAVE record value (e.g. {x: 0, y: 0}): "#
        ),
        "{e}"
    );
    let e = error("point", "{x: 1}");
    assert!(e.contains("is not a WAVE record value"), "{e}");
    let e = error("strings", "a,b");
    assert!(
        e.starts_with(
            r#"argument 1 (x: list<string>): "a,b" is not a WAVE list value (e.g. [""]): "#
        ),
        "{e}"
    );
    let e = error("bytes", "[256]");
    assert!(e.contains("is not a WAVE list value (e.g. [0])"), "{e}");
}

#[test]
fn variants_results_and_flags_are_wave() {
    assert_eq!(
        parse("shape", "circle(1.5)"),
        Ok(Value::from_pairs([("circle", Value::Float(1.5))]))
    );
    assert_eq!(
        parse("shape", "rectangle({x: 2, y: 3})"),
        Ok(Value::from_pairs([(
            "rectangle",
            Value::from_pairs([("x", Value::Int(2)), ("y", Value::Int(3))])
        )]))
    );
    assert_eq!(
        parse("shape", "empty"),
        Ok(Value::from_pairs([("empty", Value::Bool(true))]))
    );
    assert_eq!(
        parse("result", "ok(3)"),
        Ok(Value::from_pairs([("ok", Value::Int(3))]))
    );
    assert_eq!(
        parse("result", "err({x: 0, y: 1})"),
        Ok(Value::from_pairs([(
            "err",
            Value::from_pairs([("x", Value::Int(0)), ("y", Value::Int(1))])
        )]))
    );
    assert_eq!(
        parse("unit-ok", "ok"),
        Ok(Value::from_pairs([("ok", Value::Bool(true))]))
    );
    // The set flags, in any order (lowering puts them in the type's order).
    let Ok(Value::Array(mut set)) = parse("perms", "{read, exec}") else {
        panic!("flags lift to an array");
    };
    Arc::make_mut(&mut set).sort_by_key(|v| v.to_display_string());
    assert_eq!(*set, vec![Value::str("exec"), Value::str("read")]);
    assert_eq!(parse("perms", "{}"), Ok(Value::array(vec![])));
    let e = error("shape", "square(2)");
    assert!(
        e.starts_with(
            r#"argument 1 (x: variant { circle(f64), rectangle(record { x: s32, y: s32 }), empty }): "square(2)" is not a WAVE variant value (e.g. circle(0)): "#
        ),
        "{e}"
    );
    let e = error("perms", "{read, run}");
    assert!(e.contains("is not a WAVE flags value (e.g. {read})"), "{e}");
    // WAVE takes a bare ok value too.
    assert_eq!(
        parse("result", "3"),
        Ok(Value::from_pairs([("ok", Value::Int(3))]))
    );
    let e = error("result", "oops");
    assert!(e.contains("is not a WAVE result value (e.g. ok(0))"), "{e}");
}

#[test]
fn types_without_a_text_form_are_refused() {
    assert_eq!(
        error("map", "{}"),
        "argument 1 (x: map<string, u32>): a map cannot be given on the command line"
    );
    assert_eq!(
        error("own", "1"),
        "argument 1 (x: own<resource>): a resource cannot be given on the command line"
    );
}

#[test]
fn a_wrong_count_names_the_parameters() {
    let two = params("two");
    let e = parse_args(&two, &[]).unwrap_err();
    assert_eq!(e.kind(), weft_core::ErrorKind::Invalid);
    assert_eq!(
        e.to_string(),
        "expected 2 arguments (code: u8, name: option<string>), got 0"
    );
    let e = parse_args(&params("t-u8"), &["1".into(), "2".into()]).unwrap_err();
    assert_eq!(e.to_string(), "expected 1 argument (x: u8), got 2");
    let e = parse_args(&params("none"), &["1".into()]).unwrap_err();
    assert_eq!(e.to_string(), "expected no arguments, got 1");
    assert_eq!(parse_args(&params("none"), &[]).unwrap(), vec![]);
    // Each argument by its own parameter's type; the first bad one is named.
    let values = parse_args(&two, &["7".into(), "ann".into()]).unwrap();
    assert_eq!(values, vec![Value::Int(7), Value::str("ann")]);
    let e = parse_args(&two, &["7".into(), "none".into()]).unwrap();
    assert_eq!(e, vec![Value::Int(7), Value::Nil]);
    let e = parse_args(&two, &["x".into(), "ann".into()]).unwrap_err();
    assert_eq!(e.to_string(), r#"argument 1 (code: u8): "x" is not a u8"#);
}

#[test]
fn messages_quote_control_characters() {
    assert_eq!(
        error("u8", "1\u{1b}[2J"),
        r#"argument 1 (x: u8): "1\u{1b}[2J" is not a u8"#
    );
}

#[test]
fn long_types_are_cut() {
    let text = type_text(&params("t-wide")[0].1);
    assert_eq!(text.chars().count(), MAX_TYPE_TEXT + 1, "{text}");
    assert!(text.starts_with("record { field-number-0: u32, ") && text.ends_with('…'));
}
