//! Tests of `describe`: worlds, call shapes and import grants, from the committed
//! `types` guest and from WIT text.

use super::*;

/// The committed `types` guest (guests/dist), decoded as `describe` decodes it.
fn types_guest() -> (Resolve, WorldId) {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../guests/dist/types.wasm");
    let bytes = std::fs::read(path).expect("guests/dist/types.wasm");
    match wit_parser::decoding::decode(&bytes).expect("decode") {
        wit_parser::decoding::DecodedWasm::Component(resolve, world) => (resolve, world),
        _ => panic!("not a component"),
    }
}

/// A world parsed from WIT text (package `test:shapes`, world `w`).
fn world(wit: &str) -> (Resolve, WorldId) {
    let mut resolve = Resolve::default();
    let pkg = resolve
        .push_str("test.wit", &format!("package test:shapes;\n{wit}"))
        .expect("valid WIT");
    let world = resolve.select_world(&[pkg], Some("w")).expect("world w");
    (resolve, world)
}

/// How Lua calls `method` of `world` as the function `t:f`.
fn shape(resolve: &Resolve, world: WorldId, method: &str) -> FunctionShape {
    let f = find_method(resolve, world, method).expect("method");
    let call = CallOf {
        id: "t:f",
        process_host: None,
        http: None,
    };
    shape_of(resolve, f, &call)
}

#[test]
fn a_component_world_has_its_named_types_exports_and_imports() {
    let (resolve, world) = types_guest();
    let w = world_of(&resolve, world, Grants::of(&[Profile::Cli]));
    let names: Vec<&str> = w.types.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "point",
            "rect",
            "user",
            "div-error",
            "shape",
            "color",
            "perms"
        ]
    );
    assert_eq!(
        w.types[1].wit,
        "record rect { top-left: point, bottom-right: point }"
    );
    assert_eq!(
        w.types[2].wit,
        "record user { name: string, age: u8, tags: list<string>, email: option<string> }"
    );
    let area = w.exports.iter().find(|e| e.name == "area").expect("area");
    assert_eq!(
        (area.kind, area.wit.as_str()),
        ("function", "area: func(s: shape) -> f64")
    );
    let math = w
        .exports
        .iter()
        .find(|e| e.name == "test:types/math@0.1.0")
        .expect("math");
    assert_eq!(math.kind, "interface");
    assert!(
        math.wit.contains("    gcd: func(a: u64, b: u64) -> u64;\n"),
        "{}",
        math.wit
    );
    let env = w
        .imports
        .iter()
        .find(|i| i.name.starts_with("wasi:cli/environment@"))
        .expect("wasi:cli/environment");
    assert!(env.granted);
    assert_eq!(env.import, Some("wasi:cli"));
    assert!(
        w.wit.starts_with("world root {\n    import wasi:io/poll@"),
        "{}",
        w.wit
    );
    assert!(w.wit.contains("\n    export noop: func();\n"), "{}", w.wit);
}

#[test]
fn methods_are_found_as_world_exports_or_interface_functions() {
    let (resolve, world) = types_guest();
    for method in ["area", "test:types/math@0.1.0#gcd", "test:types/math#gcd"] {
        assert!(find_method(&resolve, world, method).is_some(), "{method}");
    }
    for method in [
        "nope",
        "test:types/math@0.1.0#nope",
        "test:types/other#gcd",
        "gcd",
    ] {
        assert!(find_method(&resolve, world, method).is_none(), "{method}");
    }
}

#[test]
fn lua_examples_and_result_shapes_follow_the_conversion_rules() {
    let (resolve, world) = world(
        r#"world w {
            record point { x: s32, y: s32 }
            record odd { top-left: point, end: bool, %type: string }
            variant shape { empty, circle(f64) }
            enum color { red, green }
            flags perms { read, write }
            export a: func(p: point, o: odd) -> odd;
            export b: func(s: shape, c: color, f: perms) -> shape;
            export c: func(b: list<u8>, l: list<point>, t: tuple<string, u32>, o: option<u8>) -> option<list<u8>>;
            export d: func(c: char) -> result<_, string>;
            export e: func() -> result<tuple<u32, string>>;
            export f: func() -> perms;
        }"#,
    );
    let s = shape(&resolve, world, "a");
    assert_eq!(
        s.lua_call.as_deref(),
        Some(
            r#"funcs.call("t:f", {x = 0, y = 0}, {["top-left"] = {x = 0, y = 0}, ["end"] = true, type = "text"})"#
        )
    );
    assert_eq!(
        s.lua_result,
        r#"{["top-left"] = {x = integer, y = integer}, ["end"] = boolean, type = string}"#
    );
    assert_eq!(
        s.params[1].cli,
        r#"{top-left: {x: 0, y: 0}, end: false, type: "text"}"#
    );
    let s = shape(&resolve, world, "b");
    assert_eq!(
        s.lua_call.as_deref(),
        Some(r#"funcs.call("t:f", {empty = true}, "red", {"read"})"#)
    );
    assert_eq!(s.lua_result, "{empty = true} | {circle = number}");
    let cli: Vec<&str> = s.params.iter().map(|p| p.cli.as_str()).collect();
    assert_eq!(cli, ["empty", "red", "{read}"]);
    let s = shape(&resolve, world, "c");
    assert_eq!(
        s.lua_call.as_deref(),
        Some(r#"funcs.call("t:f", "", {{x = 0, y = 0}}, {"text", 0}, 0)"#)
    );
    assert_eq!(s.lua_result, "string (bytes) | nil");
    assert_eq!(s.result.as_deref(), Some("option<list<u8>>"));
    let cli: Vec<&str> = s.params.iter().map(|p| p.cli.as_str()).collect();
    assert_eq!(cli, ["[0]", "[{x: 0, y: 0}]", r#"("text", 0)"#, "0"]);
    let s = shape(&resolve, world, "d");
    assert_eq!(s.wit, "d: func(c: char) -> result<_, string>");
    assert_eq!(s.lua_call.as_deref(), Some(r#"funcs.call("t:f", "a")"#));
    assert_eq!(s.lua_result, "{ok = true} | {err = string}");
    let s = shape(&resolve, world, "e");
    assert_eq!(s.lua_call.as_deref(), Some(r#"funcs.call("t:f")"#));
    assert_eq!(s.lua_result, "{ok = {integer, string}} | {err = true}");
    assert_eq!(
        shape(&resolve, world, "f").lua_result,
        r#"{"read" | "write", ...} (the set flags)"#
    );
}

#[test]
fn resources_and_http_handlers_are_not_called_from_lua() {
    let (resolve, world) = world(
        r#"interface store {
            resource blob;
        }
        world w {
            use store.{blob};
            export take: func(b: blob) -> u32;
            export peek: func(b: borrow<blob>);
        }"#,
    );
    let s = shape(&resolve, world, "take");
    assert_eq!(
        s.note.as_deref(),
        Some("parameter b is a resource, which cannot cross into Lua: Lua cannot call this method")
    );
    assert_eq!(s.params[0].ty, "blob");
    let s = shape(&resolve, world, "peek");
    assert_eq!(s.params[0].ty, "borrow<blob>");
    assert!(s.note.is_some_and(|n| n.contains("borrowed resource")));
    let f = find_method(&resolve, world, "take").unwrap();
    let http = CallOf {
        id: "t:f",
        process_host: None,
        http: http_note(&Fields {
            transport: "wasi-http".into(),
            ..Fields::default()
        }),
    };
    let s = shape_of(&resolve, f, &http);
    assert_eq!(s.lua_call, None);
    assert!(
        s.note
            .is_some_and(|n| n.starts_with("transport: wasi-http"))
    );
}

#[test]
fn processes_are_run_with_process_exec() {
    let (resolve, world) = world("world w { export run: func(n: u8) -> string; }");
    let f = find_method(&resolve, world, "run").unwrap();
    let call = CallOf {
        id: "t:job",
        process_host: Some("t:processes".into()),
        http: None,
    };
    assert_eq!(
        shape_of(&resolve, f, &call).lua_call.as_deref(),
        Some(r#"process.exec("t:job", "t:processes", 0)"#)
    );
}

#[test]
fn imports_are_granted_as_link_grants_them() {
    let none = Grants::default();
    let all = Grants::of(&[
        Profile::Cli,
        Profile::Clocks,
        Profile::Random,
        Profile::Filesystem,
        Profile::Sockets,
        Profile::Http,
        Profile::Funcs,
    ]);
    for (name, import) in [
        ("wasi:cli/stdout@0.2.6", "wasi:cli"),
        ("wasi:clocks/monotonic-clock@0.2.6", "wasi:clocks"),
        ("wasi:random/random@0.2.6", "wasi:random"),
        ("wasi:filesystem/preopens@0.2.6", "wasi:filesystem"),
        ("wasi:sockets/tcp@0.2.6", "wasi:sockets"),
        ("wasi:http/outgoing-handler@0.2.6", "wasi:http"),
        ("wippy:runtime/funcs@0.1.0", "funcs"),
    ] {
        let (granted, by, note) = import_status(name, none);
        assert!(!granted, "{name}");
        assert_eq!(by, Some(import), "{name}");
        assert!(
            note.ends_with(&format!("(add `{import}` to imports)")),
            "{note}"
        );
        assert!(import_status(name, all).0, "{name}");
    }
    assert_eq!(
        import_status("wasi:clocks/wall-clock@0.2.6", none).2,
        "not granted: calls trap (add `wasi:clocks` to imports)"
    );
    assert_eq!(
        import_status("wasi:io/streams@0.2.6", none),
        (
            true,
            None,
            "always linked (streams, errors, pollables)".to_string()
        )
    );
    assert_eq!(
        import_status("acme:thing/api", all),
        (false, None, "no host provides it: calls trap".to_string())
    );
}
