//! Compound types: lists, records, tuples, variants, enums, flags, options, results, maps.

use super::*;

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
    assert_eq!(path.to_string(), "", "the path is restored after an error");
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
