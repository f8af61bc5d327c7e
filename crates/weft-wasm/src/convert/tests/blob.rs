//! Byte-shaped methods: which signatures take the typed path, and that its lowering
//! accepts and refuses exactly what the dynamic path does, with the same messages.

use super::*;

/// The parameters' and results' shapes of `name`, and its byte-shaped signature.
fn plan(name: &str) -> (Vec<(String, Shape)>, Option<BlobSig>) {
    let f = func(name);
    let params: Vec<(String, Shape)> = f
        .params()
        .map(|(n, t)| (n.to_owned(), Shape::of(&t)))
        .collect();
    let results: Vec<Shape> = f.results().map(|t| Shape::of(&t)).collect();
    let sig = BlobSig::of(&params, &results);
    (params, sig)
}

#[test]
fn one_string_or_byte_list_in_and_at_most_one_out_is_byte_shaped() {
    let sig = |param, result| Some(BlobSig { param, result });
    assert_eq!(plan("t-string").1, sig(Blob::Text, Some(Blob::Text)));
    assert_eq!(plan("t-bytes").1, sig(Blob::Bytes, Some(Blob::Bytes)));
    assert_eq!(plan("t-unit-ok").1, None, "a result<…> parameter");
    for name in ["t-strings", "t-blob-info", "t-u8", "two", "t-users"] {
        assert_eq!(plan(name).1, None, "{name}");
    }
}

#[test]
fn the_typed_lowering_accepts_and_refuses_what_the_dynamic_one_does() {
    let invalid_utf8 = Value::bytes(vec![b'a', 0xff, b'b']);
    let cases = [
        s("hello"),
        s(""),
        invalid_utf8,
        arr(vec![Value::Int(104), Value::Int(105)]),
        arr(vec![Value::Int(1), Value::Int(256)]),
        arr(vec![Value::Int(1), Value::Float(2.5)]),
        arr(vec![s("x")]),
        empty_map(),
        map([("a", Value::Int(1))]),
        Value::Int(7),
        Value::Bool(true),
        Value::Nil,
    ];
    for name in ["t-string", "t-bytes"] {
        let (params, sig) = plan(name);
        let sig = sig.expect("byte-shaped");
        for v in &cases {
            let args = std::slice::from_ref(v);
            let dynamic = lower_planned(&params, args);
            let typed = lower_blob(sig, &params, args);
            match (dynamic, typed) {
                (Ok(vals), Ok(arg)) => match (&vals[..], arg) {
                    ([Val::List(items)], BlobArg::Bytes(bytes)) => {
                        let items: Vec<u8> = items
                            .iter()
                            .map(|i| match i {
                                Val::U8(b) => *b,
                                other => panic!("{other:?}"),
                            })
                            .collect();
                        assert_eq!(items, &*bytes, "{name} {v:?}");
                    }
                    ([Val::String(text)], BlobArg::Text(t)) => assert_eq!(text, t, "{name} {v:?}"),
                    (vals, arg) => panic!("{name} {v:?}: {vals:?} against {arg:?}"),
                },
                (Err(d), Err(t)) => {
                    assert_eq!(d.kind(), t.kind(), "{name} {v:?}");
                    assert_eq!(d.to_string(), t.to_string(), "{name} {v:?}");
                }
                (d, t) => panic!("{name} {v:?}: dynamic {d:?}, typed {t:?}"),
            }
        }
        for args in [vec![], vec![s("a"), s("b")]] {
            let d = lower_planned(&params, &args).unwrap_err();
            let t = lower_blob(sig, &params, &args).unwrap_err();
            assert_eq!(d.to_string(), t.to_string());
        }
    }
}

#[test]
fn a_byte_shaped_result_becomes_its_value_uncopied() {
    let bytes = vec![0u8, 1, 2, 255];
    let ptr = bytes.as_ptr();
    let Value::Str(lifted) = lift_blob(Some(BlobOut::Bytes(bytes))) else {
        panic!("not a string value");
    };
    assert_eq!(&*lifted, &[0, 1, 2, 255]);
    assert_eq!(lifted.as_ptr(), ptr, "the result's buffer is the value's");
    assert_eq!(lift_blob(Some(BlobOut::Text("hé".into()))), s("hé"));
    assert_eq!(lift_blob(None), Value::Nil);
}
