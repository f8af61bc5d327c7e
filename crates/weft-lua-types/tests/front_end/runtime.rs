//! The erased code run by Lua 5.4 with a stand-in `__weft_type` that reads each decl text
//! back with `parse_decl`: every declaration's text parses to what the source said, and
//! its lazy references resolve, when called, to the values of those names.

use mlua::{Function, Lua, Table, Value};
use weft_lua_types::{SiteKind, annotations, parse_decl};

use crate::common::erased;

/// Runs the erased `src`, returning the decl texts `__weft_type` received, in order.
fn run(src: &str) -> Vec<String> {
    let code = erased(src);
    let lua = Lua::new();
    let seen = lua.create_table().unwrap();
    let seen_in = seen.clone();
    let weft_type = lua
        .create_function(move |lua, (text, refs): (String, Table)| {
            let decl =
                parse_decl(&text).map_err(|e| mlua::Error::runtime(format!("{text}: {e}")))?;
            let value = lua.create_table()?;
            value.set("name", decl.name.as_str())?;
            value.set("refs", refs)?;
            seen_in.push(text)?;
            Ok(value)
        })
        .unwrap();
    lua.globals().set("__weft_type", weft_type).unwrap();
    lua.globals()
        .set(
            "typeof",
            lua.create_function(|_, (_v, t): (Value, Value)| Ok(t))
                .unwrap(),
        )
        .unwrap();
    lua.load(&code)
        .exec()
        .unwrap_or_else(|e| panic!("{e}\n{code}"));
    seen.sequence_values::<String>()
        .map(Result::unwrap)
        .collect()
}

#[test]
fn declarations_round_trip_through_parse_decl() {
    let src = r#"local lib = {Point = "the lib.Point value"}
type Tree = {value: number, children: {Tree}}
export type Pair<A, B> =
    {first: A, second: B} -- a pair
type Shape = lib.Point | Tree
local function check()
    assert(Tree.name == "Tree")
    assert(Tree.refs.Tree() == Tree)
    assert(Shape.refs["lib.Point"]() == "the lib.Point value")
    assert(Shape.refs.Tree() == Tree)
    assert(next(Pair.refs) == nil)
end
check()
local p: Pair<number, string> = {first = 1, second = "x"}
local t = typeof(p)
assert(t.name == "")
assert(t.refs.Pair() == Pair)
"#;
    let texts = run(src);
    let parsed: Vec<_> = texts.iter().map(|t| parse_decl(t).unwrap()).collect();
    let declared: Vec<_> = annotations(src)
        .unwrap()
        .into_iter()
        .filter_map(|s| {
            if let SiteKind::Decl(d) = s.kind {
                Some(d)
            } else {
                None
            }
        })
        .collect();
    assert_eq!(parsed.len(), 4);
    for (runtime, source) in parsed.iter().zip(&declared) {
        assert_eq!(
            (&runtime.name, &runtime.generics, &runtime.ty),
            (&source.name, &source.generics, &source.ty)
        );
    }
    assert_eq!(texts[3], "= Pair<number, string>");
}

#[test]
fn errors_point_at_the_original_lines() {
    let src = "type A = {x: number}\nlocal function f(a: A,\n  b: number): number\n  return a.x + b\nend\nlocal v: number = f({x = 1}, nil)\n";
    let code = erased(src);
    let lua = Lua::new();
    lua.globals()
        .set(
            "__weft_type",
            lua.create_function(|_, (_t, _r): (String, Table)| Ok(()))
                .unwrap(),
        )
        .unwrap();
    let chunk: Function = lua.load(&code).set_name("=m").into_function().unwrap();
    let error = chunk.call::<()>(()).unwrap_err().to_string();
    assert!(
        error.contains("m:4: attempt to perform arithmetic on a nil value (local 'b')"),
        "{error}"
    );
}
