//! Tests of the `convert` module.

use std::sync::LazyLock;

use wasmtime::component::types::{ComponentFunc, ComponentItem};
use wasmtime::component::{Component, Linker};
use wasmtime::{Config, Engine, Store};
use weft_core::ErrorKind;

use super::*;

/// A component importing one function per type under test (`t-<type>: func(x: T) -> T`)
/// and a few other signatures: importing needs no core code, only the types.
const WAT: &str = r#"
    (component
        (type $point' (record (field "x" s32) (field "y" s32)))
        (import "point" (type $point (eq $point')))
        (type $user' (record
            (field "name" string) (field "age" u8)
            (field "tags" (list string)) (field "email" (option string))))
        (import "user" (type $user (eq $user')))
        (type $opts' (record (field "a" (option u32)) (field "b" (option string))))
        (import "opts" (type $opts (eq $opts')))
        (type $blob-info' (record (field "id" u64) (field "data" (list u8))))
        (import "blob-info" (type $blob-info (eq $blob-info')))
        (type $shape' (variant (case "circle" f64) (case "rectangle" $point) (case "empty")))
        (import "shape" (type $shape (eq $shape')))
        (type $color' (enum "red" "green" "blue"))
        (import "color" (type $color (eq $color')))
        (type $perms' (flags "read" "write" "exec"))
        (import "perms" (type $perms (eq $perms')))
        (type $ident' (record (field "id" u64)))
        (import "ident" (type $ident (eq $ident')))
        (import "blob" (type $blob (sub resource)))

        (import "t-bool" (func (param "x" bool) (result bool)))
        (import "t-s8" (func (param "x" s8) (result s8)))
        (import "t-u8" (func (param "x" u8) (result u8)))
        (import "t-s16" (func (param "x" s16) (result s16)))
        (import "t-u16" (func (param "x" u16) (result u16)))
        (import "t-s32" (func (param "x" s32) (result s32)))
        (import "t-u32" (func (param "x" u32) (result u32)))
        (import "t-s64" (func (param "x" s64) (result s64)))
        (import "t-u64" (func (param "x" u64) (result u64)))
        (import "t-f32" (func (param "x" f32) (result f32)))
        (import "t-f64" (func (param "x" f64) (result f64)))
        (import "t-char" (func (param "x" char) (result char)))
        (import "t-string" (func (param "x" string) (result string)))
        (import "t-bytes" (func (param "x" (list u8)) (result (list u8))))
        (import "t-strings" (func (param "x" (list string)) (result (list string))))
        (import "t-point" (func (param "x" $point) (result $point)))
        (import "t-opts" (func (param "x" $opts) (result $opts)))
        (import "t-blob-info" (func (param "x" $blob-info) (result $blob-info)))
        (import "t-users" (func (param "users" (list $user)) (result (list $user))))
        (import "t-tuple" (func (param "x" (tuple string u32)) (result (tuple string u32))))
        (import "t-shape" (func (param "x" $shape) (result $shape)))
        (import "t-color" (func (param "x" $color) (result $color)))
        (import "t-perms" (func (param "x" $perms) (result $perms)))
        (import "t-option" (func (param "x" (option s32)) (result (option s32))))
        (import "t-option2" (func (param "x" (option (option s32)))))
        (import "t-result" (func (param "x" (result s32 (error $point)))))
        (import "t-unit-ok" (func (param "x" (result (error string)))))
        (import "t-unit" (func (param "x" (result))))
        (import "t-map" (func (param "x" (map string u32)) (result (map string u32))))
        (import "t-idmap" (func (param "x" (map u32 string)) (result (map u32 string))))
        (import "t-idents" (func (param "x" (list $ident)) (result (list $ident))))
        (import "two" (func (param "a" s32) (param "b" (option string))))
        (import "take" (func (param "b" (own $blob))))
        (import "peek" (func (param "b" (borrow $blob))))
    )
"#;

/// The compiled test component and its engine.
static FIXTURE: LazyLock<(Engine, Component)> = LazyLock::new(|| {
    let bytes = wat::parse_str(WAT).expect("parse WAT");
    let mut config = Config::new();
    config.wasm_component_model_map(true);
    let engine = Engine::new(&config).expect("engine");
    let component = Component::new(&engine, &bytes).expect("compile component");
    (engine, component)
});

/// The type of an imported function.
fn func(name: &str) -> ComponentFunc {
    let (engine, component) = &*FIXTURE;
    match component
        .component_type()
        .get_import(engine, name)
        .map(|e| e.ty)
    {
        Some(ComponentItem::ComponentFunc(f)) => f,
        _ => panic!("no function {name}"),
    }
}

/// The `(name, type)` parameters of an exported function.
fn params(name: &str) -> Vec<(String, Type)> {
    func(name)
        .params()
        .map(|(n, t)| (n.to_owned(), t))
        .collect()
}

/// The type of `t-<ty>`'s single parameter.
fn ty(ty: &str) -> Type {
    params(&format!("t-{ty}")).remove(0).1
}

/// Lowers `v` as argument 1 of `t-<t>`.
fn low(t: &str, v: Value) -> Result<Val, Error> {
    let ps = params(&format!("t-{t}"));
    lower_args(&ps, &[v]).map(|mut vals| vals.remove(0))
}

/// Lowers `v` for `t-<t>`, then lifts it back through the same type.
fn round(t: &str, v: Value) -> Value {
    let val = low(t, v).expect("lower");
    lift_as(&ty(t), &val).expect("lift")
}

/// The message of an Invalid lowering error.
fn bad(t: &str, v: Value) -> String {
    let err = low(t, v).expect_err("should fail");
    assert_eq!(err.kind(), ErrorKind::Invalid, "{err}");
    err.to_string()
}

fn s(text: &str) -> Value {
    Value::str(text)
}

fn arr(items: Vec<Value>) -> Value {
    Value::array(items)
}

fn map<const N: usize>(pairs: [(&str, Value); N]) -> Value {
    Value::from_pairs(pairs)
}

fn empty_map() -> Value {
    Value::map(Map::new())
}

#[test]
fn scalars_round_trip() {
    assert_eq!(round("bool", Value::Bool(true)), Value::Bool(true));
    for (t, min, max) in [
        ("s8", i8::MIN.into(), i8::MAX.into()),
        ("u8", 0, u8::MAX.into()),
        ("s16", i16::MIN.into(), i16::MAX.into()),
        ("u16", 0, u16::MAX.into()),
        ("s32", i32::MIN.into(), i32::MAX.into()),
        ("u32", 0, u32::MAX.into()),
        ("s64", i64::MIN, i64::MAX),
        ("u64", 0, i64::MAX),
    ] {
        assert_eq!(round(t, Value::Int(min)), Value::Int(min), "{t} min");
        assert_eq!(round(t, Value::Int(max)), Value::Int(max), "{t} max");
    }
    assert_eq!(low("u8", Value::Int(255)).unwrap(), Val::U8(255));
    assert_eq!(low("s8", Value::Int(-128)).unwrap(), Val::S8(-128));
    assert_eq!(round("f64", Value::Float(2.5)), Value::Float(2.5));
    assert_eq!(round("f32", Value::Float(0.5)), Value::Float(0.5));
    assert_eq!(round("string", s("héllo")), s("héllo"));
    assert_eq!(round("char", s("é")), s("é"));
}

#[test]
fn numbers_convert_between_integer_and_float() {
    assert_eq!(low("s32", Value::Float(3.0)).unwrap(), Val::S32(3));
    assert_eq!(
        low("u64", Value::Float(9223372036854775808.0)).unwrap(),
        Val::U64(1 << 63)
    );
    assert_eq!(low("f64", Value::Int(7)).unwrap(), Val::Float64(7.0));
    assert_eq!(low("f32", Value::Int(-7)).unwrap(), Val::Float32(-7.0));
    assert_eq!(
        low("f32", Value::Float(f64::INFINITY)).unwrap(),
        Val::Float32(f32::INFINITY)
    );
    let Val::Float64(nan) = low("f64", Value::Float(-f64::NAN)).unwrap() else {
        panic!()
    };
    assert_eq!(nan.to_bits(), f64::NAN.to_bits(), "NaN is canonical");
    let Val::Float32(nan) = low("f32", Value::Float(f64::NAN)).unwrap() else {
        panic!()
    };
    assert_eq!(nan.to_bits(), f32::NAN.to_bits());
    let Value::Float(f) = lift_as(&ty("f32"), &Val::Float32(f32::NAN)).unwrap() else {
        panic!()
    };
    assert!(f.is_nan());
    assert_eq!(
        lift_as(&ty("f32"), &Val::Float32(0.1)).unwrap(),
        Value::Float(0.1f32.into())
    );
}

#[test]
fn integers_out_of_range_are_invalid_for_every_width() {
    for (t, below, above) in [
        ("s8", -129, 128),
        ("u8", -1, 256),
        ("s16", -32769, 32768),
        ("u16", -1, 65536),
        ("s32", i64::from(i32::MIN) - 1, i64::from(i32::MAX) + 1),
        ("u32", -1, i64::from(u32::MAX) + 1),
    ] {
        assert!(bad(t, Value::Int(below)).contains(&format!("{below} is out of range for {t}")));
        assert!(bad(t, Value::Int(above)).contains(&format!("{above} is out of range for {t}")));
    }
    assert_eq!(
        bad("u8", Value::Int(256)),
        "argument 1 (x): 256 is out of range for u8 (0 to 255)"
    );
    assert_eq!(
        bad("s8", Value::Int(-129)),
        "argument 1 (x): -129 is out of range for s8 (-128 to 127)"
    );
    assert!(bad("u64", Value::Int(-1)).contains("-1 is out of range for u64"));
    assert!(bad("u64", Value::Float(18446744073709551616.0)).contains("out of range for u64"));
    assert!(bad("s64", Value::Float(9223372036854775808.0)).contains("out of range for s64"));
    assert!(bad("u8", Value::Float(1e300)).contains("out of range for u8"));
    assert!(bad("f32", Value::Float(1e39)).contains("1e39 is out of range for f32"));
}

#[test]
fn wrong_scalar_types_are_invalid() {
    assert_eq!(
        bad("bool", Value::Int(1)),
        "argument 1 (x): expected boolean, got integer"
    );
    assert_eq!(
        bad("bool", Value::Nil),
        "argument 1 (x): expected boolean, got nil"
    );
    assert_eq!(
        bad("s32", s("1")),
        "argument 1 (x): expected integer, got string"
    );
    assert_eq!(
        bad("s32", Value::Float(1.5)),
        "argument 1 (x): expected integer, got float 1.5"
    );
    assert_eq!(
        bad("u32", Value::Float(f64::NAN)),
        "argument 1 (x): expected integer, got float NaN"
    );
    assert_eq!(
        bad("f64", Value::Bool(true)),
        "argument 1 (x): expected number, got boolean"
    );
    assert_eq!(
        bad("string", Value::Int(3)),
        "argument 1 (x): expected string, got integer"
    );
    assert_eq!(
        bad("string", Value::bytes(vec![b'a', 0xff])),
        "argument 1 (x): string is not valid UTF-8 (at byte 1)"
    );
}

#[test]
fn chars_accept_one_code_point_or_an_integer() {
    assert_eq!(low("char", s("😀")).unwrap(), Val::Char('😀'));
    assert_eq!(low("char", Value::Int(0x1F600)).unwrap(), Val::Char('😀'));
    assert_eq!(low("char", Value::Float(65.0)).unwrap(), Val::Char('A'));
    assert_eq!(lift_as(&ty("char"), &Val::Char('😀')).unwrap(), s("😀"));
    assert!(
        bad("char", s("ab")).ends_with("expected a single character, got a string of 2 characters")
    );
    assert!(bad("char", s("")).ends_with("got a string of 0 characters"));
    assert!(bad("char", Value::Int(0xD800)).ends_with("55296 is not a Unicode scalar value"));
    assert!(bad("char", Value::Int(-1)).ends_with("-1 is not a Unicode scalar value"));
    assert!(bad("char", Value::Int(0x110000)).ends_with("is not a Unicode scalar value"));
    assert!(bad("char", Value::bytes(vec![0xc3])).ends_with("not valid UTF-8 (at byte 0)"));
    assert!(bad("char", Value::Bool(true)).contains("expected character"));
}

#[test]
fn byte_lists_are_strings() {
    let bytes = Value::bytes(vec![0u8, 1, 255]);
    let vals = Val::List(vec![Val::U8(0), Val::U8(1), Val::U8(255)]);
    assert_eq!(low("bytes", bytes.clone()).unwrap(), vals);
    let ints = arr(vec![Value::Int(0), Value::Float(1.0), Value::Int(255)]);
    assert_eq!(low("bytes", ints).unwrap(), vals);
    assert_eq!(low("bytes", empty_map()).unwrap(), Val::List(vec![]));
    assert_eq!(lift_as(&ty("bytes"), &vals).unwrap(), bytes);
    assert_eq!(
        lift_as(&ty("bytes"), &Val::List(vec![])).unwrap(),
        Value::bytes(vec![])
    );
    assert_eq!(
        bad("bytes", arr(vec![Value::Int(1), Value::Int(256)])),
        "argument 1 (x)[2]: 256 is out of range for u8 (0 to 255)"
    );
    assert_eq!(
        bad("bytes", arr(vec![s("a")])),
        "argument 1 (x)[1]: expected integer, got string"
    );
    assert_eq!(
        bad("bytes", Value::Int(1)),
        "argument 1 (x): expected string or array of bytes, got integer"
    );
    // Nested, through the record's type: an empty `data` stays a byte string.
    let info = Val::Record(vec![
        ("id".into(), Val::U64(1)),
        ("data".into(), Val::List(vec![])),
    ]);
    let lifted = lift_as(&ty("blob-info"), &info).unwrap();
    assert_eq!(lifted.get("data"), Some(&Value::bytes(vec![])));
}

#[test]
fn lists_are_arrays_and_empty_tables_are_empty_lists() {
    let words = arr(vec![s("a"), s("b")]);
    assert_eq!(
        low("strings", words.clone()).unwrap(),
        Val::List(vec![Val::String("a".into()), Val::String("b".into())])
    );
    assert_eq!(round("strings", words.clone()), words);
    assert_eq!(low("strings", empty_map()).unwrap(), Val::List(vec![]));
    assert_eq!(low("strings", arr(vec![])).unwrap(), Val::List(vec![]));
    assert_eq!(
        lift_as(&ty("users"), &Val::List(vec![])).unwrap(),
        arr(vec![]),
        "never nil"
    );
    assert_eq!(
        lift_as(&ty("strings"), &Val::List(vec![])).unwrap(),
        arr(vec![])
    );
    assert_eq!(
        bad("strings", map([("a", s("b"))])),
        "argument 1 (x): expected array, got map"
    );
    assert_eq!(
        bad("strings", s("ab")),
        "argument 1 (x): expected array, got string"
    );
}

#[test]
fn nested_errors_name_the_path() {
    let user = |tags: Vec<Value>| {
        map([
            ("name", s("ann")),
            ("age", Value::Int(30)),
            ("tags", arr(tags)),
        ])
    };
    let users = arr(vec![user(vec![s("x")]), user(vec![Value::Int(1)])]);
    let err = lower_args(&params("t-users"), &[users]).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Invalid);
    assert_eq!(
        err.to_string(),
        "argument 1 (users)[2].tags[1]: expected string, got integer"
    );
    let users = arr(vec![map([("name", s("bo"))])]);
    assert_eq!(
        lower_args(&params("t-users"), &[users])
            .unwrap_err()
            .to_string(),
        "argument 1 (users)[1]: missing required field \"age\""
    );
    let mut path = ValuePath::new();
    let err = lower(&ty("point"), &map([("x", s("1"))]), &mut path).unwrap_err();
    assert_eq!(err.to_string(), ".x: expected integer, got string");
    assert_eq!(path.as_str(), "", "the path is restored after an error");
}

#[test]
fn records_follow_declaration_order_and_optional_fields() {
    let point = map([
        ("y", Value::Int(2)),
        ("x", Value::Int(1)),
        ("z", s("extra")),
    ]);
    let val = low("point", point).unwrap();
    assert_eq!(
        val,
        Val::Record(vec![("x".into(), Val::S32(1)), ("y".into(), Val::S32(2))])
    );
    let lifted = lift_as(&ty("point"), &val).unwrap();
    assert_eq!(
        lifted.as_map().unwrap().keys().collect::<Vec<_>>(),
        ["x", "y"]
    );
    assert_eq!(lifted, map([("x", Value::Int(1)), ("y", Value::Int(2))]));

    let user = map([
        ("name", s("ann")),
        ("age", Value::Int(30)),
        ("tags", empty_map()),
    ]);
    let Val::Record(fields) = low("users", arr(vec![user]))
        .map(|v| match v {
            Val::List(mut items) => items.remove(0),
            other => other,
        })
        .unwrap()
    else {
        panic!("not a record")
    };
    assert_eq!(fields[2], ("tags".into(), Val::List(vec![])));
    assert_eq!(
        fields[3],
        ("email".into(), Val::Option(None)),
        "absent option field"
    );

    let none = Val::Record(vec![
        ("a".into(), Val::Option(None)),
        ("b".into(), Val::Option(None)),
    ]);
    assert_eq!(low("opts", empty_map()).unwrap(), none);
    assert_eq!(
        low("opts", arr(vec![])).unwrap(),
        none,
        "an empty array is an empty table"
    );
    assert_eq!(low("opts", map([("a", Value::Nil)])).unwrap(), none);
    assert_eq!(
        lift_as(&ty("opts"), &none).unwrap(),
        map([("a", Value::Nil), ("b", Value::Nil)])
    );
    assert_eq!(
        bad("point", map([("x", Value::Int(1))])),
        "argument 1 (x): missing required field \"y\""
    );
    assert_eq!(
        bad("point", arr(vec![Value::Int(1)])),
        "argument 1 (x): expected map, got array"
    );
}

#[test]
fn tuples_are_arrays_of_exact_length() {
    let pair = arr(vec![s("a"), Value::Int(2)]);
    assert_eq!(
        low("tuple", pair.clone()).unwrap(),
        Val::Tuple(vec![Val::String("a".into()), Val::U32(2)])
    );
    assert_eq!(round("tuple", pair), arr(vec![s("a"), Value::Int(2)]));
    assert_eq!(
        bad("tuple", arr(vec![s("a")])),
        "argument 1 (x): expected an array of 2 elements, got 1 elements"
    );
    assert_eq!(
        bad("tuple", arr(vec![s("a"), Value::Int(-2)])),
        "argument 1 (x)[2]: -2 is out of range for u32 (0 to 4294967295)"
    );
}

#[test]
fn variants_are_single_key_maps() {
    let circle = low("shape", map([("circle", Value::Int(2))])).unwrap();
    assert_eq!(
        circle,
        Val::Variant("circle".into(), Some(Box::new(Val::Float64(2.0))))
    );
    assert_eq!(
        lift_as(&ty("shape"), &circle).unwrap(),
        map([("circle", Value::Float(2.0))])
    );
    let empty = low("shape", map([("empty", s("ignored"))])).unwrap();
    assert_eq!(empty, Val::Variant("empty".into(), None));
    assert_eq!(
        lift_as(&ty("shape"), &empty).unwrap(),
        map([("empty", Value::Bool(true))])
    );
    assert_eq!(
        round("shape", map([("empty", Value::Bool(true))])),
        map([("empty", Value::Bool(true))])
    );
    // The first case in WIT order wins, whatever the map's order.
    let both = map([("empty", Value::Bool(true)), ("circle", Value::Int(1))]);
    assert!(matches!(low("shape", both).unwrap(), Val::Variant(c, _) if c == "circle"));
    assert_eq!(
        bad("shape", map([("square", Value::Int(1))])),
        "argument 1 (x): expected a map with one of the keys circle, rectangle, empty, got a map with keys square"
    );
    assert_eq!(
        bad("shape", empty_map()),
        "argument 1 (x): expected a map with one of the keys circle, rectangle, empty, got an empty map"
    );
    assert_eq!(
        bad("shape", map([("rectangle", map([("x", Value::Int(0))]))])),
        "argument 1 (x).rectangle: missing required field \"y\""
    );
    assert_eq!(
        bad("shape", s("empty")),
        "argument 1 (x): expected map, got string"
    );
}

#[test]
fn enums_take_names_or_indices_and_lift_to_names() {
    assert_eq!(low("color", s("green")).unwrap(), Val::Enum("green".into()));
    assert_eq!(
        low("color", Value::Int(2)).unwrap(),
        Val::Enum("blue".into())
    );
    assert_eq!(
        low("color", Value::Float(0.0)).unwrap(),
        Val::Enum("red".into())
    );
    assert_eq!(
        lift_as(&ty("color"), &Val::Enum("blue".into())).unwrap(),
        s("blue")
    );
    assert_eq!(
        bad("color", s("purple")),
        "argument 1 (x): unknown enum case \"purple\", expected one of red, green, blue"
    );
    assert_eq!(
        bad("color", Value::Int(3)),
        "argument 1 (x): enum index 3 is out of range (0 to 2)"
    );
    assert_eq!(
        bad("color", Value::Int(-1)),
        "argument 1 (x): enum index -1 is out of range (0 to 2)"
    );
    assert_eq!(
        bad("color", Value::Float(0.5)),
        "argument 1 (x): expected integer, got float 0.5"
    );
    assert_eq!(
        bad("color", Value::Bool(true)),
        "argument 1 (x): expected enum case name or index, got boolean"
    );
}

#[test]
fn flags_take_names_sets_or_bitmasks_and_lift_to_names() {
    let rx = Val::Flags(vec!["read".into(), "exec".into()]);
    assert_eq!(
        low("perms", arr(vec![s("exec"), s("read"), s("exec")])).unwrap(),
        rx
    );
    let set = map([
        ("exec", Value::Bool(true)),
        ("write", Value::Bool(false)),
        ("read", Value::Bool(true)),
    ]);
    assert_eq!(low("perms", set).unwrap(), rx);
    assert_eq!(low("perms", Value::Int(0b101)).unwrap(), rx);
    assert_eq!(low("perms", Value::Int(0)).unwrap(), Val::Flags(vec![]));
    assert_eq!(low("perms", empty_map()).unwrap(), Val::Flags(vec![]));
    assert_eq!(low("perms", arr(vec![])).unwrap(), Val::Flags(vec![]));
    assert_eq!(
        lift_as(&ty("perms"), &rx).unwrap(),
        arr(vec![s("read"), s("exec")])
    );
    assert_eq!(
        lift_as(&ty("perms"), &Val::Flags(vec![])).unwrap(),
        arr(vec![])
    );
    assert_eq!(
        bad("perms", arr(vec![s("read"), s("fly")])),
        "argument 1 (x)[2]: unknown flag \"fly\", expected one of read, write, exec"
    );
    assert_eq!(
        bad("perms", map([("fly", Value::Bool(true))])),
        "argument 1 (x).fly: unknown flag \"fly\", expected one of read, write, exec"
    );
    assert_eq!(
        bad("perms", map([("read", Value::Int(1))])),
        "argument 1 (x).read: expected boolean, got integer"
    );
    assert_eq!(
        bad("perms", arr(vec![Value::Int(1)])),
        "argument 1 (x)[1]: expected flag name (string), got integer"
    );
    assert_eq!(
        bad("perms", Value::Int(8)),
        "argument 1 (x): flags bitmask 8 is not a set of the 3 flags (0 to 7)"
    );
    assert!(bad("perms", Value::Int(-1)).contains("flags bitmask -1 is not a set"));
    assert!(bad("perms", s("read")).contains("expected flags (an array of names"));
}

#[test]
fn options_are_nil_or_the_value() {
    assert_eq!(low("option", Value::Nil).unwrap(), Val::Option(None));
    let five = low("option", Value::Int(5)).unwrap();
    assert_eq!(five, Val::Option(Some(Box::new(Val::S32(5)))));
    assert_eq!(lift_as(&ty("option"), &five).unwrap(), Value::Int(5));
    assert_eq!(
        lift_as(&ty("option"), &Val::Option(None)).unwrap(),
        Value::Nil
    );
    assert_eq!(
        low("option2", Value::Int(5)).unwrap(),
        Val::Option(Some(Box::new(Val::Option(Some(Box::new(Val::S32(5)))))))
    );
    assert_eq!(low("option2", Value::Nil).unwrap(), Val::Option(None));
    assert_eq!(
        bad("option", s("5")),
        "argument 1 (x): expected integer, got string"
    );
}

#[test]
fn results_are_ok_or_err_maps() {
    let ok = low("result", map([("ok", Value::Int(4))])).unwrap();
    assert_eq!(ok, Val::Result(Ok(Some(Box::new(Val::S32(4))))));
    assert_eq!(
        lift_as(&ty("result"), &ok).unwrap(),
        map([("ok", Value::Int(4))])
    );
    let point = map([("x", Value::Int(1)), ("y", Value::Int(2))]);
    assert_eq!(
        round("result", map([("err", point.clone())])),
        map([("err", point)])
    );
    // `ok` wins when both keys are present.
    let both = map([("err", Value::Int(1)), ("ok", Value::Int(2))]);
    assert!(matches!(low("result", both).unwrap(), Val::Result(Ok(_))));
    assert_eq!(
        bad("result", map([("err", map([("x", Value::Int(1))]))])),
        "argument 1 (x).err: missing required field \"y\""
    );
    assert_eq!(
        bad("result", map([("ok", s("4"))])),
        "argument 1 (x).ok: expected integer, got string"
    );
    assert_eq!(
        bad("result", map([("value", Value::Int(1))])),
        "argument 1 (x): expected a map with an \"ok\" or \"err\" key, got a map with keys value"
    );
    assert_eq!(
        bad("result", empty_map()),
        "argument 1 (x): expected a map with an \"ok\" or \"err\" key, got an empty map"
    );
    assert_eq!(
        bad("result", Value::Int(1)),
        "argument 1 (x): expected map, got integer"
    );
}

#[test]
fn payload_less_result_arms_are_true() {
    let ok = low("unit-ok", map([("ok", Value::Bool(true))])).unwrap();
    assert_eq!(ok, Val::Result(Ok(None)));
    assert_eq!(
        lift_as(&ty("unit-ok"), &ok).unwrap(),
        map([("ok", Value::Bool(true))])
    );
    assert_eq!(
        low("unit-ok", map([("ok", Value::Int(0))])).unwrap(),
        ok,
        "payload ignored"
    );
    let err = low("unit-ok", map([("err", s("no"))])).unwrap();
    assert_eq!(
        lift_as(&ty("unit-ok"), &err).unwrap(),
        map([("err", s("no"))])
    );
    assert_eq!(
        round("unit", map([("err", Value::Bool(false))])),
        map([("err", Value::Bool(true))])
    );
    assert_eq!(
        round("unit", map([("ok", s("x"))])),
        map([("ok", Value::Bool(true))])
    );
}

#[test]
fn string_keyed_maps_are_maps() {
    let m = map([("a", Value::Int(1)), ("b", Value::Int(2))]);
    let val = low("map", m.clone()).unwrap();
    assert_eq!(
        val,
        Val::Map(vec![
            (Val::String("a".into()), Val::U32(1)),
            (Val::String("b".into()), Val::U32(2)),
        ])
    );
    assert_eq!(lift_as(&ty("map"), &val).unwrap(), m);
    assert_eq!(low("map", arr(vec![])).unwrap(), Val::Map(vec![]));
    assert_eq!(
        bad("map", map([("a", Value::Int(-1))])),
        "argument 1 (x).a: -1 is out of range for u32 (0 to 4294967295)"
    );
    let pairs = Val::Map(vec![(Val::U32(1), Val::String("one".into()))]);
    assert_eq!(
        lift_as(&ty("idmap"), &pairs).unwrap(),
        arr(vec![arr(vec![Value::Int(1), s("one")])])
    );
}

#[test]
fn resources_are_not_supported_from_lua() {
    let take = params("take");
    let err = lower_args(&take, &[Value::Int(1)]).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Invalid);
    assert_eq!(
        err.to_string(),
        "argument 1 (b): type own is not supported from Lua"
    );
    let peek = params("peek");
    assert_eq!(
        lower_args(&peek, &[Value::Nil]).unwrap_err().to_string(),
        "argument 1 (b): type borrow is not supported from Lua"
    );
}

#[test]
fn argument_count_must_match_exactly() {
    let two = params("two");
    let err = lower_args(&two, &[Value::Int(1), Value::Nil, Value::Nil]).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Invalid);
    assert_eq!(err.to_string(), "expected 2 arguments, got 3");
    assert_eq!(
        lower_args(&two, &[Value::Int(1)]).unwrap_err().to_string(),
        "expected 2 arguments, got 1"
    );
    assert_eq!(
        lower_args(&params("t-bool"), &[]).unwrap_err().to_string(),
        "expected 1 argument, got 0"
    );
    let vals = lower_args(&two, &[Value::Int(1), Value::Nil]).unwrap();
    assert_eq!(vals, [Val::S32(1), Val::Option(None)]);
    assert_eq!(
        lower_args(&two, &[Value::Int(1), Value::Int(2)])
            .unwrap_err()
            .to_string(),
        "argument 2 (b): expected string, got integer"
    );
}

#[test]
fn u64_beyond_i64_is_an_internal_error() {
    let err = lift_as(&ty("u64"), &Val::U64(u64::MAX)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Internal);
    assert_eq!(
        err.to_string(),
        "u64 value 18446744073709551615 does not fit a Lua integer"
    );
    assert_eq!(
        lift_as(&ty("u64"), &Val::U64(i64::MAX as u64)).unwrap(),
        Value::Int(i64::MAX)
    );
    let nested = Val::List(vec![
        Val::Record(vec![("id".into(), Val::U64(1))]),
        Val::Record(vec![("id".into(), Val::U64(1 << 63))]),
    ]);
    assert_eq!(
        lift_as(&ty("idents"), &nested).unwrap_err().to_string(),
        "result[2].id: u64 value 9223372036854775808 does not fit a Lua integer"
    );
}

#[test]
fn placeholders_fill_result_slots() {
    let results = result_slots(&func("t-users").results().collect::<Vec<_>>());
    assert_eq!(results.len(), 1);
    assert!(func("two").results().next().is_none());
}

/// The `types` guest, if another build produced it (`guests/dist/types.wasm`).
fn types_guest() -> Option<Vec<u8>> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../guests/dist/types.wasm");
    std::fs::read(path).ok()
}

#[tokio::test]
async fn round_trips_through_the_types_guest() {
    let Some(bytes) = types_guest() else {
        eprintln!("guests/dist/types.wasm not built; skipping");
        return;
    };
    let engine = Engine::default();
    let component = Component::new(&engine, &bytes).expect("compile types.wasm");
    let mut linker = Linker::<()>::new(&engine);
    linker
        .define_unknown_imports_as_traps(&component)
        .expect("trap imports");
    let mut store = Store::new(&engine, ());
    let instance = linker
        .instantiate_async(&mut store, &component)
        .await
        .expect("instantiate");

    let user = map([
        ("name", s("ann")),
        ("age", Value::Int(41)),
        ("tags", arr(vec![s("a"), s("b")])),
        ("email", s("a@x")),
    ]);
    let no_email = map([
        ("name", s("bo")),
        ("age", Value::Int(9)),
        ("tags", empty_map()),
    ]);
    let mut no_email_out = no_email.as_map().unwrap().clone();
    no_email_out.insert("tags".into(), arr(vec![]));
    no_email_out.insert("email".into(), Value::Nil);
    let cases: Vec<(&str, Vec<Value>, Value)> = vec![
        ("echo-bool", vec![Value::Bool(true)], Value::Bool(true)),
        ("echo-s8", vec![Value::Int(-128)], Value::Int(-128)),
        ("inc-u8", vec![Value::Int(255)], Value::Int(0)),
        ("echo-s64", vec![Value::Int(i64::MIN)], Value::Int(i64::MIN)),
        ("echo-f32", vec![Value::Float(1.5)], Value::Float(1.5)),
        ("double-f64", vec![Value::Int(2)], Value::Float(4.0)),
        ("next-char", vec![s("a")], s("b")),
        ("to-upper", vec![s("hé")], s("HÉ")),
        (
            "reverse-bytes",
            vec![Value::bytes(vec![1u8, 2])],
            Value::bytes(vec![2u8, 1]),
        ),
        ("echo-bytes", vec![empty_map()], Value::bytes(vec![])),
        ("range", vec![Value::Int(0)], arr(vec![])),
        (
            "range",
            vec![Value::Int(2)],
            arr(vec![Value::Int(0), Value::Int(1)]),
        ),
        ("echo-user", vec![user.clone()], user),
        (
            "echo-users",
            vec![arr(vec![no_email])],
            arr(vec![Value::map(no_email_out)]),
        ),
        ("maybe-double", vec![Value::Nil], Value::Nil),
        ("maybe-double", vec![Value::Int(4)], Value::Int(8)),
        (
            "check-positive",
            vec![Value::Int(1)],
            map([("ok", Value::Bool(true))]),
        ),
        (
            "check-positive",
            vec![Value::Int(0)],
            map([("err", s("0 is not positive"))]),
        ),
        (
            "echo-result",
            vec![map([("err", Value::Int(7))])],
            map([("err", Value::Int(7))]),
        ),
        (
            "make-shape",
            vec![s("other")],
            map([("empty", Value::Bool(true))]),
        ),
        (
            "echo-shape",
            vec![map([("circle", Value::Int(1))])],
            map([("circle", Value::Float(1.0))]),
        ),
        ("next-color", vec![Value::Int(2)], s("red")),
        (
            "toggle-exec",
            vec![arr(vec![s("read")])],
            arr(vec![s("read"), s("exec")]),
        ),
        (
            "echo-perms",
            vec![Value::Int(7)],
            arr(vec![s("read"), s("write"), s("exec")]),
        ),
        (
            "swap",
            vec![arr(vec![s("a"), Value::Int(1)])],
            arr(vec![Value::Int(1), s("a")]),
        ),
        ("noop", vec![], Value::Nil),
    ];
    for (name, args, want) in cases {
        let f = instance
            .get_func(&mut store, name)
            .unwrap_or_else(|| panic!("no {name}"));
        let ty = f.ty(&store);
        let params: Vec<(String, Type)> = ty.params().map(|(n, t)| (n.to_owned(), t)).collect();
        let result_ty: Vec<Type> = ty.results().collect();
        let vals = lower_args(&params, &args).unwrap_or_else(|e| panic!("{name}: {e}"));
        let mut results = result_slots(&result_ty);
        f.call_async(&mut store, &vals, &mut results)
            .await
            .expect(name);
        let got = match (result_ty.first(), results.first()) {
            (Some(t), Some(v)) => lift_as(t, v).unwrap_or_else(|e| panic!("{name}: {e}")),
            _ => Value::Nil,
        };
        assert_eq!(got, want, "{name}");
    }
}
