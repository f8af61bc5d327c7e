//! Tests of the `json` module.

use super::*;

fn lua() -> Lua {
    let lua = Lua::new();
    errors::install(&lua).unwrap();
    lua.globals().set("json", module(&lua).unwrap()).unwrap();
    lua.globals()
        .set("time", time::module(&lua).unwrap())
        .unwrap();
    lua
}

fn enc(lua: &Lua, expr: &str) -> String {
    lua.load(format!("return json.encode({expr})"))
        .eval()
        .unwrap()
}

fn enc_err(lua: &Lua, expr: &str) -> Error {
    let err = lua
        .load(format!("return json.encode({expr})"))
        .exec()
        .unwrap_err();
    errors::from_mlua(&err)
}

#[test]
fn encodes_scalars_arrays_and_sorted_objects() {
    let lua = lua();
    for (expr, want) in [
        ("nil", "null"),
        ("'hello'", "\"hello\""),
        ("42", "42"),
        ("-7", "-7"),
        ("true", "true"),
        ("{}", "[]"),
        ("{1, 2, 3}", "[1,2,3]"),
        ("{'a', 'b'}", "[\"a\",\"b\"]"),
        (
            "{name = 'Alice', age = 30}",
            "{\"age\":30,\"name\":\"Alice\"}",
        ),
        (
            "{id = 'o', items = {{sku = 'A', qty = 2}}, total = 99.5}",
            "{\"id\":\"o\",\"items\":[{\"qty\":2,\"sku\":\"A\"}],\"total\":99.5}",
        ),
        (
            "{b = {}, a = {z = 1, y = {true, false}}}",
            "{\"a\":{\"y\":[true,false],\"z\":1},\"b\":[]}",
        ),
        ("'q\"\\\\\\n\\t\\1é'", "\"q\\\"\\\\\\n\\t\\u0001é\""),
        ("{[1] = 'x', [2] = 'y'}", "[\"x\",\"y\"]"),
    ] {
        assert_eq!(enc(&lua, expr), want, "{expr}");
    }
}

#[test]
fn floats_print_like_go() {
    let lua = lua();
    for (expr, want) in [
        ("1.0", "1"),
        ("10 / 2", "5"),
        ("1.5", "1.5"),
        ("0.1", "0.1"),
        ("-0.0", "-0"),
        ("1e20", "100000000000000000000"),
        ("1e21", "1e+21"),
        ("1.5e300", "1.5e+300"),
        ("1e-7", "1e-7"),
        ("0.000001", "0.000001"),
        ("1/0", "null"),
        ("-1/0", "null"),
        ("0/0", "null"),
        ("{1/0}", "[null]"),
        ("math.maxinteger", "9223372036854775807"),
        ("math.mininteger", "-9223372036854775808"),
    ] {
        assert_eq!(enc(&lua, expr), want, "{expr}");
    }
}

#[test]
fn encodes_error_objects_times_and_durations() {
    let lua = lua();
    assert_eq!(
        enc(
            &lua,
            "{e = errors.new({message = 'boom', kind = 'Invalid'})}"
        ),
        "{\"e\":\"boom\"}"
    );
    assert_eq!(
        enc(&lua, "errors.wrap(errors.new('inner'), 'outer')"),
        "\"outer: inner\""
    );
    assert_eq!(
        enc(
            &lua,
            "{time.date(2024, 1, 2, 3, 4, 5, 600, time.utc), time.parse_duration('1s')}"
        ),
        "[\"2024-01-02T03:04:05.0000006Z\",1000000000]"
    );
}

#[test]
fn unencodable_tables_raise_internal() {
    let lua = lua();
    for (expr, msg) in [
        ("{1, 2, x = 3}", "mixed integer and string keys"),
        ("{[1] = 1, [3] = 3}", "sparse array"),
        ("{[0] = 1}", "sparse array"),
        ("{[-1] = 1, [1] = 2}", "sparse array"),
        ("{[1.5] = 1}", "non-integer number keys"),
        ("{[true] = 1}", "boolean keys"),
        (
            "(function() local t = {} t.self = t return t end)()",
            "recursive table",
        ),
        ("(function() local t = {} return {t, {t}} end)()", ""),
        ("print", "cannot encode function"),
        ("{f = print}", "cannot encode function"),
        ("time.utc", "cannot encode userdata"),
    ] {
        if msg.is_empty() {
            // shared (not recursive) tables are fine
            assert_eq!(enc(&lua, expr), "[[],[[]]]");
            continue;
        }
        let err = enc_err(&lua, expr);
        assert_eq!(err.kind(), weft_core::ErrorKind::Internal, "{expr}");
        assert!(err.message().contains(msg), "{expr}: {err}");
    }
}

#[test]
fn nesting_limit_is_128() {
    let lua = lua();
    let nest = |n: usize| format!("{}{}", "{".repeat(n), "}".repeat(n));
    let want = format!(
        "{}[]{}",
        "[".repeat(MAX_DEPTH - 1),
        "]".repeat(MAX_DEPTH - 1)
    );
    assert_eq!(enc(&lua, &nest(MAX_DEPTH)), want);
    let err = enc_err(&lua, &nest(MAX_DEPTH + 1));
    assert_eq!(err.kind(), weft_core::ErrorKind::Internal);
    assert!(err.message().contains("nested deeper than 128"), "{err}");
}

#[test]
fn decodes_to_lua_values() {
    let lua = lua();
    let (name, active, first, len, nested, null): (String, bool, i64, i64, String, bool) = lua
        .load(
            r#"local v = json.decode('{"name":"Bob","active":true,"items":[10,20,30],"d":{"u":[{"n":"A"}]},"x":null}')
               return v.name, v.active, v.items[1], #v.items, v.d.u[1].n, v.x == nil"#,
        )
        .eval()
        .unwrap();
    assert_eq!(
        (name.as_str(), active, first, len, nested.as_str(), null),
        ("Bob", true, 10, 3, "A", true)
    );
    let (i, f, big, exp, types): (i64, f64, f64, i64, String) = lua
        .load(
            "local v = json.decode('[1, 2.5, 1e300, 1.0e3, 3.0]')
             return v[1], v[2], v[3], v[4], math.type(v[1]) .. math.type(v[2]) .. math.type(v[5])",
        )
        .eval()
        .unwrap();
    assert_eq!((i, f, big, exp), (1, 2.5, 1e300, 1000));
    assert_eq!(types, "integerfloatinteger");
    let (s, n, top_null): (String, i64, bool) = lua
        .load(r#"return json.decode('"h\\u00e9"'), json.decode('18446744073709551615') > 0 and 1 or 0, json.decode('null') == nil"#)
        .eval()
        .unwrap();
    assert_eq!((s.as_str(), n, top_null), ("hé", 1, true));
    let round: String = lua
        .load("return json.encode(json.decode('{\"b\":[1,2.5,\"x\"],\"a\":{\"c\":false}}'))")
        .eval()
        .unwrap();
    assert_eq!(round, "{\"a\":{\"c\":false},\"b\":[1,2.5,\"x\"]}");
}

#[test]
fn decode_failures() {
    let lua = lua();
    for (arg, kind, msg) in [
        ("''", "Invalid", "empty string"),
        ("42", "Invalid", "expects a string, got integer"),
        ("nil", "Invalid", "expects a string, got nil"),
        ("{}", "Invalid", "expects a string, got table"),
        (
            "'not valid json'",
            "Internal",
            "expected ident at line 1 column 2",
        ),
        (
            "'{\"a\":1,}'",
            "Internal",
            "trailing comma at line 1 column 8",
        ),
        (
            "'[1, 2'",
            "Internal",
            "EOF while parsing a list at line 1 column 5",
        ),
        (
            "'[1] x'",
            "Internal",
            "trailing characters at line 1 column 5",
        ),
        (
            "string.rep('[', 200)",
            "Internal",
            "recursion limit exceeded",
        ),
    ] {
        let (is_nil, k, m): (bool, String, String) = lua
            .load(format!(
                "local v, err = json.decode({arg}) return v == nil, err:kind(), err:message()"
            ))
            .eval()
            .unwrap();
        assert!(is_nil, "{arg}");
        assert_eq!(k, kind, "{arg}");
        assert!(m.contains(msg), "{arg}: {m}");
    }
}

#[test]
fn validates_against_schemas() {
    let lua = lua();
    lua.load(
        "schema = {
            type = 'object',
            properties = {
                name = {type = 'string', minLength = 1},
                email = {type = 'string', format = 'email'},
                age = {type = 'integer', minimum = 0, maximum = 150},
                tags = {type = 'array', items = {type = 'string', pattern = '^[a-z]+$'}},
                role = {enum = {'admin', 'user'}},
            },
            required = {'name', 'email'},
        }",
    )
    .exec()
    .unwrap();
    let (ok, err_nil): (bool, bool) = lua
        .load(
            "local ok, err = json.validate(schema, {name = 'Alice', email = 'alice@example.com', age = 30, tags = {'a'}, role = 'user'})
             return ok, err == nil",
        )
        .eval()
        .unwrap();
    assert!(ok && err_nil);
    for (data, path) in [
        ("{name = '', email = 'a@b.co'}", "/name"),
        ("{name = 'A', email = 'not-an-email'}", "/email"),
        ("{name = 'A', email = 'a@b.co', age = 200}", "/age"),
        ("{name = 'A', email = 'a@b.co', age = 1.5}", "/age"),
        (
            "{name = 'A', email = 'a@b.co', tags = {'ok', 'NO'}}",
            "/tags/1",
        ),
        ("{name = 'A', email = 'a@b.co', role = 'root'}", "/role"),
        ("{name = 'A'}", "at /: \"email\" is a required property"),
        ("'text'", "at /:"),
    ] {
        let (ok, kind, msg, first_path): (bool, String, String, String) = lua
            .load(format!(
                "local ok, err = json.validate(schema, {data})
                 return ok, err:kind(), err:message(), err:details()[1].path"
            ))
            .eval()
            .unwrap();
        assert!(!ok, "{data}");
        assert_eq!(kind, "Invalid");
        assert!(msg.starts_with("validation failed at "), "{msg}");
        assert!(msg.contains(path), "{data}: {msg}");
        assert!(
            path.starts_with(&first_path) || path.starts_with("at /"),
            "{first_path}"
        );
    }
}

#[test]
fn validate_string_and_json_schemas() {
    let lua = lua();
    let (a, b, c, d): (bool, bool, bool, bool) = lua
        .load(
            r#"local s = '{"type":"number","minimum":0}'
               return json.validate(s, 42), (json.validate(s, -1)),
                      json.validate_string({type = 'object', required = {'action'}}, '{"action":"create"}'),
                      (json.validate_string(s, '"x"'))"#,
        )
        .eval()
        .unwrap();
    assert!(a && !b && c && !d);
    for (call, msg) in [
        ("json.validate('{bad', 1)", "invalid schema JSON"),
        ("json.validate({type = 'nonsense'}, 1)", "invalid schema"),
        (
            "json.validate(42, 1)",
            "schema must be a table or a JSON string",
        ),
        (
            "json.validate({['$ref'] = 'http://example.com/s.json'}, 1)",
            "invalid schema",
        ),
        (
            "json.validate_string({type = 'number'}, '{bad')",
            "invalid JSON",
        ),
        (
            "json.validate_string({type = 'number'}, 5)",
            "expects a JSON string",
        ),
    ] {
        let (ok, kind, m): (bool, String, String) = lua
            .load(format!(
                "local ok, err = {call} return ok, err:kind(), err:message()"
            ))
            .eval()
            .unwrap();
        assert!(!ok, "{call}");
        assert_eq!(kind, "Invalid", "{call}");
        assert!(m.contains(msg), "{call}: {m}");
    }
    // data that cannot become JSON keeps the encoder's kind
    let kind: String = lua
        .load("local ok, err = json.validate({}, {print}) return err:kind()")
        .eval()
        .unwrap();
    assert_eq!(kind, "Internal");
}

#[test]
fn empty_tables_in_schemas_mean_empty_objects() {
    let lua = lua();
    let (ok, bad, kept): (bool, bool, bool) = lua
        .load(
            "local s = {type = 'object', properties = {a = {}, b = {properties = {}}},
                        required = {}, items = {}, default = {}}
             return json.validate(s, {a = 1, b = {x = 2}}),
                    (json.validate({type = 'object', properties = {n = {type = 'number'}}}, {n = 'x'})),
                    (json.validate({const = {}}, {}))",
        )
        .eval()
        .unwrap();
    assert!(ok && !bad && kept);
    let mut schema = serde_json::json!({
        "properties": {"p": [], "q": {"items": []}},
        "required": [], "enum": [[]], "anyOf": [{"not": []}], "$defs": {"d": []}
    });
    empty_tables_as_objects(&mut schema);
    assert_eq!(
        schema,
        serde_json::json!({
            "properties": {"p": {}, "q": {"items": {}}},
            "required": [], "enum": [[]], "anyOf": [{"not": {}}], "$defs": {"d": {}}
        })
    );
}

#[test]
fn schemas_are_cached_by_text() {
    let lua = lua();
    let s = LuaValue::String(lua.create_string("{\"type\":\"string\"}").unwrap());
    let a = compiled(&s).unwrap();
    let b = compiled(&s).unwrap();
    assert!(Arc::ptr_eq(&a, &b));
    let t: LuaValue = lua.load("return {type = 'string'}").eval().unwrap();
    let c = compiled(&t).unwrap();
    assert!(
        Arc::ptr_eq(&a, &c),
        "a table schema shares the entry of its JSON text"
    );
}
