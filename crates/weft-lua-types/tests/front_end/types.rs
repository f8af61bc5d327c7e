//! The type parser on its own (`parse_type`, `parse_decl`), `references`, and the places
//! in code where annotations are found (and where they are not).

use weft_lua_types::{
    Field, FuncType, Generic, Literal, SiteKind, Type, TypeDecl, Validator, parse_decl, parse_type,
    references,
};

use crate::common::*;

/// Parses, panicking with the error.
fn ty(text: &str) -> Type {
    parse_type(text).unwrap_or_else(|e| panic!("{text}: {e}"))
}

#[test]
fn primitives_and_literals() {
    let cases = [
        ("any", Type::Any),
        ("unknown", Type::Unknown),
        ("never", Type::Never),
        ("nil", Type::Nil),
        ("boolean", Type::Boolean),
        ("number", Type::Number),
        ("integer", Type::Integer),
        ("string", Type::String),
        ("table", Type::Table),
        ("function", Type::Function),
        ("thread", Type::Primitive("thread".into())),
        ("userdata", Type::Primitive("userdata".into())),
        ("\"pending\"", lit("pending")),
        ("'a\\n\\x41\\u{48}'", lit("a\nAH")),
        ("[[long]]", lit("long")),
        ("42", Type::Literal(Literal::Integer(42))),
        ("-7", Type::Literal(Literal::Integer(-7))),
        ("0x10", Type::Literal(Literal::Integer(16))),
        ("1.5", Type::Literal(Literal::Number(1.5))),
        ("-0x1p4", Type::Literal(Literal::Number(-16.0))),
        ("true", bool_lit(true)),
        ("false", bool_lit(false)),
    ];
    for (text, expected) in cases {
        assert_eq!(ty(text), expected, "{text}");
    }
}

#[test]
fn composite_types() {
    assert_eq!(ty("number?"), opt(Type::Number));
    assert_eq!(ty("number??"), opt(Type::Number));
    assert_eq!(
        ty("A | B | C"),
        union(vec![named("A"), named("B"), named("C")])
    );
    assert_eq!(ty("| A | B"), union(vec![named("A"), named("B")]));
    assert_eq!(
        ty("A & B | C & D"),
        union(vec![
            Type::Intersection(vec![named("A"), named("B")]),
            Type::Intersection(vec![named("C"), named("D")])
        ])
    );
    assert_eq!(ty("(A | B)?"), opt(union(vec![named("A"), named("B")])));
    assert_eq!(ty("A | B?"), union(vec![named("A"), opt(named("B"))]));
    assert_eq!(ty("{}"), rec(vec![]));
    assert_eq!(ty("{string}"), arr(Type::String));
    assert_eq!(ty("{{number}}"), arr(arr(Type::Number)));
    assert_eq!(
        ty("{[string]: {number}}"),
        map(Type::String, arr(Type::Number))
    );
    assert_eq!(ty("{[\"k\"]: number,}"), map(lit("k"), Type::Number));
    assert_eq!(
        ty("{a: number; b?: string,}"),
        rec(vec![("a", Type::Number), ("b?", Type::String)])
    );
    assert_eq!(
        ty("{end: number, type: string}"),
        rec(vec![("end", Type::Number), ("type", Type::String)])
    );
    assert_eq!(ty("lib.Point"), named("lib.Point"));
    assert_eq!(
        ty("Result<number, string>"),
        generic("Result", vec![Type::Number, Type::String])
    );
    assert_eq!(
        ty("Map<string, List<Point>>"),
        generic(
            "Map",
            vec![Type::String, generic("List", vec![named("Point")])]
        )
    );
    assert_eq!(ty("lib.Box<T>?"), opt(generic("lib.Box", vec![named("T")])));
}

#[test]
fn readonly_fields() {
    let fields = |text: &str| match ty(text) {
        Type::Record(fields) => fields,
        other => panic!("{other:?}"),
    };
    let field = |name: &str, optional, readonly| Field {
        name: name.into(),
        ty: Type::String,
        optional,
        readonly,
    };
    assert_eq!(
        fields(
            "{readonly id: string, read name: string, write note?: string, readonly: string, read?: string}"
        ),
        [
            field("id", false, true),
            field("name", false, true),
            field("note", true, false),
            field("readonly", false, false),
            field("read", true, false)
        ]
    );
    assert_eq!(ty("{readonly}"), arr(named("readonly")));
}

#[test]
fn function_types() {
    let f = |generics: Vec<Generic>, params, variadic: Option<Type>, returns| {
        Type::Func(FuncType {
            generics,
            params,
            variadic: variadic.map(Box::new),
            returns,
        })
    };
    assert_eq!(
        ty("(number, string) -> boolean"),
        f(
            vec![],
            vec![Type::Number, Type::String],
            None,
            vec![Type::Boolean]
        )
    );
    assert_eq!(
        ty("(x: number, y: number) -> number"),
        f(
            vec![],
            vec![Type::Number, Type::Number],
            None,
            vec![Type::Number]
        )
    );
    assert_eq!(
        ty("(...: string) -> ()"),
        f(vec![], vec![], Some(Type::String), vec![])
    );
    assert_eq!(
        ty("(number, ...string) -> ()"),
        f(vec![], vec![Type::Number], Some(Type::String), vec![])
    );
    assert_eq!(ty("() -> ()"), f(vec![], vec![], None, vec![]));
    assert_eq!(
        ty("(A) -> (R, S)"),
        f(vec![], vec![named("A")], None, vec![named("R"), named("S")])
    );
    assert_eq!(
        ty("(A) -> (R)?"),
        f(vec![], vec![named("A")], None, vec![opt(named("R"))])
    );
    assert_eq!(
        ty("(A) -> R | S"),
        f(
            vec![],
            vec![named("A")],
            None,
            vec![union(vec![named("R"), named("S")])]
        )
    );
    assert_eq!(
        ty("(A) -> (B) -> C"),
        f(
            vec![],
            vec![named("A")],
            None,
            vec![f(vec![], vec![named("B")], None, vec![named("C")])]
        )
    );
    assert_eq!(
        ty("((A) -> B)?"),
        opt(f(vec![], vec![named("A")], None, vec![named("B")]))
    );
    let t = Generic {
        name: "T".into(),
        constraint: None,
    };
    assert_eq!(
        ty("<T>(T) -> T"),
        f(vec![t.clone()], vec![named("T")], None, vec![named("T")])
    );
    let k = Generic {
        name: "K".into(),
        constraint: Some(named("Named")),
    };
    assert_eq!(
        ty("<K: Named, T>(K) -> T"),
        f(vec![k, t], vec![named("K")], None, vec![named("T")])
    );
}

#[test]
fn validators_anywhere_a_type_is() {
    let min = |n| Validator::Min(n);
    assert_eq!(
        ty("number @min(-1.5) @max(0x10)"),
        validated(Type::Number, vec![min(-1.5), Validator::Max(16.0)])
    );
    assert_eq!(
        ty("integer @min(1)?"),
        opt(validated(Type::Integer, vec![min(1.0)]))
    );
    assert_eq!(
        ty("string? @max_len(3)"),
        validated(opt(Type::String), vec![Validator::MaxLen(3)])
    );
    assert_eq!(
        ty("{number} @min_len(1)"),
        validated(arr(Type::Number), vec![Validator::MinLen(1)])
    );
    assert_eq!(
        ty("Named @min(1)"),
        validated(named("Named"), vec![min(1.0)])
    );
    assert_eq!(
        ty("string @pattern([[^\\d+$]])"),
        validated(Type::String, vec![Validator::Pattern("^\\d+$".into())])
    );
    assert_eq!(
        ty("\"a\" @min_len(1)"),
        validated(lit("a"), vec![Validator::MinLen(1)])
    );
}

#[test]
fn decl_texts() {
    let decl =
        parse_decl("Result<T, E: Named> = {ok: true, value: T} | {ok: false, error: E}").unwrap();
    assert_eq!(decl.name, "Result");
    assert_eq!(
        decl.generics,
        [
            Generic {
                name: "T".into(),
                constraint: None
            },
            Generic {
                name: "E".into(),
                constraint: Some(named("Named"))
            }
        ]
    );
    assert!(!decl.exported);
    let anonymous = parse_decl("= {number}").unwrap();
    assert_eq!(
        anonymous,
        TypeDecl {
            name: String::new(),
            generics: vec![],
            ty: arr(Type::Number),
            exported: false
        }
    );
    assert_eq!(parse_decl("A<T>= T").unwrap().ty, named("T"));
}

#[test]
fn references_of_types() {
    let refs = |text: &str, generics: &[&str]| references(&ty(text), generics);
    assert_eq!(
        refs("{a: Point, b: lib.Point, c: Point, d: string}", &[]),
        ["Point", "lib.Point"]
    );
    assert_eq!(refs("Result<T, Err>", &["T"]), ["Result", "Err"]);
    assert_eq!(refs("<U>(U, V) -> U", &[]), ["V"]);
    assert_eq!(
        refs("\"lit\" | 42 | true | nil | any", &[]),
        Vec::<String>::new()
    );
    assert_eq!(refs("{[K]: V}?", &["K"]), ["V"]);
}

#[test]
fn declaration_codegen() {
    let code = erased("type Tree = {value: number, children: {Tree}}\n");
    assert_eq!(
        code,
        "local Tree; Tree = __weft_type(\"Tree = {value: number, children: {Tree}}\", {Tree = function() return Tree end});\n"
    );
    let code = erased("export type Box<T: lib.Named> = {v: T, w: lib.Point} -- note\nprint(1)");
    assert_eq!(
        code,
        "local Box; Box = __weft_type(\"Box<T: lib.Named> = {v: T, w: lib.Point}\", {[\"lib.Named\"] = function() return lib.Named end, [\"lib.Point\"] = function() return lib.Point end}); -- note\nprint(1)"
    );
    assert!(matches!(&sites("export type B = number")[0], SiteKind::Decl(d) if d.exported));
    let code = erased("type S = \"a\\\"b\" | 'c\\\\' -- x\n");
    assert_eq!(
        code,
        "local S; S = __weft_type(\"S = \\\"a\\\\\\\"b\\\" | 'c\\\\\\\\'\", {}); -- x\n"
    );
    // Comments inside a multi-line declaration are dropped from its text; lines are kept.
    let code = erased(
        "type C = { -- the config\n  a: number, --[[ long\n comment ]] b: string\n} print(2)\n",
    );
    assert_eq!(
        code,
        "local C; C = __weft_type(\"C = { a: number, b: string }\", {});\n\n\n print(2)\n"
    );
    // CRLF and CR line breaks are kept as they were.
    let code = erased("type A = {\r\n  a: number\r\n}\r\nlocal x: A = {}\rprint(x)\n");
    assert_eq!(
        code,
        "local A; A = __weft_type(\"A = { a: number }\", {});\r\n\r\n\r\nlocal x    = {}\rprint(x)\n"
    );
    // Generic names of enclosing functions are not values.
    let code = erased("local function f<T>(x: T)\n  type Box = {v: T, w: W}\nend\n");
    assert!(code.contains("__weft_type(\"Box = {v: T, w: W}\", {W = function() return W end});"));
    // Right before a parenthesized statement: the `;` keeps them apart.
    let code = erased("type A = number\n(f)()\n");
    assert!(code.starts_with("local A; A = __weft_type(\"A = number\", {});\n(f)()"));
}

#[test]
fn typeof_scoping() {
    let src = r#"local x: number = 1
local a = typeof(x)
do
  local x = "shadow"
  local b = typeof(x)
end
local c = typeof(x)
local x: string = typeof(x)
local function f(x: Point, y)
  local d = typeof(x)
  local e = typeof(y)
  for x in pairs({}) do local g = typeof(x) end
  return typeof(x)
end
repeat local r: boolean = true until typeof(r)
local z = typeof(r)
local function h<T>(v: {T}) return typeof(v) end
local k = typeof(x) .. typeof (x) .. typeof(x.y)
"#;
    let code = erased(src);
    let lines: Vec<_> = code.lines().collect();
    assert_eq!(
        lines[1],
        r#"local a = typeof(x, __weft_type("= number", {}))"#
    );
    assert_eq!(lines[4], "  local b = typeof(x)");
    assert_eq!(
        lines[6],
        r#"local c = typeof(x, __weft_type("= number", {}))"#
    );
    assert_eq!(
        lines[7],
        r#"local x         = typeof(x, __weft_type("= number", {}))"#
    );
    assert_eq!(
        lines[9],
        r#"  local d = typeof(x, __weft_type("= Point", {Point = function() return Point end}))"#
    );
    assert_eq!(lines[10], "  local e = typeof(y)");
    assert_eq!(lines[11], "  for x in pairs({}) do local g = typeof(x) end");
    assert_eq!(
        lines[12],
        r#"  return typeof(x, __weft_type("= Point", {Point = function() return Point end}))"#
    );
    assert_eq!(
        lines[14],
        r#"repeat local r          = true until typeof(r, __weft_type("= boolean", {}))"#
    );
    assert_eq!(lines[15], "local z = typeof(r)");
    assert_eq!(
        lines[16],
        r#"local function h   (v     ) return typeof(v, __weft_type("= {T}", {})) end"#
    );
    assert_eq!(
        lines[17],
        r#"local k = typeof(x, __weft_type("= string", {})) .. typeof (x, __weft_type("= string", {})) .. typeof(x.y)"#
    );
}

#[test]
fn annotation_places() {
    // Every place an annotation can be, erased in place.
    let src = "local a: A, b: B <const>, c <close>: C = 1, 2, nil\n\
               for i: integer = 1, 10 do end\n\
               for k: string, v: number in pairs({}) do end\n\
               function M.f<T>(x: T, ...: T): T end\n\
               function obj:method<U>(x: U): (U, string?) end\n\
               local g = function<V>(v: V): V return v end\n\
               local t = { f = function(x: number): () end }\n";
    let code = erased(&format!("local M, obj = {{}}, {{}}\n{src}"));
    let expected = [
        "local a , b <const>, c <close> = 1, 2, nil",
        "for i = 1, 10 do end",
        "for k , v in pairs({}) do end",
        "function M.f (x , ... ) end",
        "function obj:method (x ) end",
        "local g = function (v ) return v end",
        "local t = { f = function(x ) end }",
    ];
    for ((erased, original), expected) in code.lines().skip(1).zip(src.lines()).zip(expected) {
        assert_eq!(erased.len(), original.len(), "{erased}");
        assert_eq!(
            erased.split_whitespace().collect::<Vec<_>>().join(" "),
            expected
        );
    }
}

#[test]
fn casts_and_as() {
    let code = erased(
        "local a = x :: number + y as integer\nlocal b = (f() :: {string})[1]\nlocal c = x as \"lit\"\nlocal d = x as (number) -> string\nlocal e = x as A | B\n",
    );
    let lines: Vec<_> = code.lines().map(str::trim_end).collect();
    assert_eq!(lines[0], "local a = x           + y");
    assert_eq!(lines[1], "local b = (f()            )[1]");
    assert_eq!(lines[2], "local c = x");
    assert_eq!(lines[3], "local d = x");
    assert_eq!(lines[4], "local e = x");
    // `as (` followed by no function type is a call of `as`.
    let src = "local a: any = x\nlocal y = a\nas(y)\n";
    assert_eq!(erased(src), "local a      = x\nlocal y = a\nas(y)\n");
    // A label after an expression is a label.
    assert_eq!(
        erased("local a: any = x ::done::"),
        "local a      = x ::done::"
    );
}
