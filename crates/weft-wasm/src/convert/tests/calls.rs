//! Whole calls: argument counts, wide results, result slots, the `types` guest.

use super::*;

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
