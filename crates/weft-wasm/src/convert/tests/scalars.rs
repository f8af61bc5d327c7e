//! Scalars: numbers and their ranges, wrong types, chars, byte lists.

use super::*;

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
