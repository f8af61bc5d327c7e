//! Reflection (`:kind()`, `:name()`, `:fields()`, `T.field`, …), `tostring` and the
//! comparisons of type values.

use super::tests::{decl, run, vm};

#[test]
fn kinds_of_every_type() {
    let lua = vm();
    let d = [
        decl("Point = {x: number, y: number}", &[]),
        decl("Alias = Point", &["Point"]),
    ];
    let kinds: String = run(
        &lua,
        &d,
        "local out = {}
         local function k(t) out[#out + 1] = t:kind() end
         for _, t in ipairs({Number, Integer, String, Boolean, Nil, Any, Unknown, Never, Table, Function}) do k(t) end
         for _, text in ipairs({'{number}', '{[string]: number}', 'number?', 'number | string',
             '{a: number} & {b: number}', '(number) -> string', '\"a\"', 'number @min(0)', 'thread'}) do
           k(__weft_type('= ' .. text, {}))
         end
         k(Point) k(Alias)
         return table.concat(out, ' ')",
    );
    assert_eq!(
        kinds,
        "number integer string boolean nil any unknown never table function \
         array map optional union intersection function literal number thread record record"
    );
}

#[test]
fn names_fields_and_field_types() {
    let lua = vm();
    let d = [
        decl(
            "User = {name: string, age?: number, readonly id: integer}",
            &[],
        ),
        decl("Shape = {kind: \"circle\", r: number}", &[]),
    ];
    let (name, anon, builtin, fields, name_kind): (
        String,
        Option<String>,
        Option<String>,
        String,
        String,
    ) = run(
        &lua,
        &d,
        "local out = {}
         for n, t in User:fields() do out[#out + 1] = n .. ':' .. t:kind() end
         return Any.name(User), __weft_type('= {x: number}', {}):name(), Number:name(),
                table.concat(out, ' '), User.name:kind()",
    );
    assert_eq!(name, "User");
    assert_eq!((anon, builtin), (None, None));
    assert_eq!(fields, "name:string age:number id:integer");
    assert_eq!(
        name_kind, "string",
        "a field shadows the method of its name"
    );
    let shadow: String = run(
        &lua,
        &d,
        "local ok, e = pcall(function() return User:name() end) return tostring(e)",
    );
    assert!(shadow.contains("expected string, got userdata"), "{shadow}");
    let (shadowed, method, via_field, missing): (String, String, String, Option<String>) = run(
        &lua,
        &d,
        "return Shape.kind:kind(), Any.kind(Shape), Shape:field('r'):kind(), tostring(User:field('nope'))",
    );
    assert_eq!(
        (
            shadowed.as_str(),
            method.as_str(),
            via_field.as_str(),
            missing.as_deref()
        ),
        ("literal", "record", "number", Some("nil"))
    );
    let same: bool = run(
        &lua,
        &d,
        "return rawequal(User.name, String) and rawequal(User:field('id'), Integer)",
    );
    assert!(same, "a built-in field type is the built-in value");
}

#[test]
fn collection_optional_union_and_function_parts() {
    let lua = vm();
    let d = [
        decl("Status = \"pending\" | \"active\" | \"done\"", &[]),
        decl("Point = {x: number}", &[]),
        decl(
            "Handler = (Point, string) -> (boolean, string?)",
            &["Point"],
        ),
    ];
    let out: String = run(
        &lua,
        &d,
        "local arr = {1, 2}
         local map = {}
         local opt = nil
         local out = {}
         local function add(s) out[#out + 1] = s end
         add(typeof(arr, __weft_type('= {number}', {})):elem():kind())
         local mt = typeof(map, __weft_type('= {[string]: Point}', {Point = function() return Point end}))
         add(mt:key():kind()) add(mt:val():name())
         local ot = typeof(opt, __weft_type('= number?', {}))
         add(ot:kind()) add(ot:inner():kind())
         for v in Status:variants() do add(tostring(v)) end
         for v in ot:variants() do add(v:kind()) end
         for p in Handler:params() do add(tostring(p)) end
         local r1, r2 = Handler:ret()
         add(r1:kind()) add(tostring(r2))
         return table.concat(out, ' ')",
    );
    assert_eq!(
        out,
        "number string Point optional number \"pending\" \"active\" \"done\" number nil \
         Point string boolean string?"
    );
    let err = lua
        .load(format!("{}return Point:elem()", d.concat()))
        .exec()
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("elem() needs an array type, got Point (record)"),
        "{err}"
    );
}

#[test]
fn tostring_shows_names_or_structure() {
    let lua = vm();
    let d = [
        decl("Point = {x: number, y: number}", &[]),
        decl(
            "Result<T, E> = {ok: true, value: T} | {ok: false, error: E}",
            &[],
        ),
        decl(
            "Holder = {r: Result<number, string>, p: Point?}",
            &["Result", "Point"],
        ),
    ];
    let out: String = run(
        &lua,
        &d,
        "return table.concat({tostring(Point), tostring(__weft_type('= {x: number, y: number}', {})),
             tostring(Number), tostring(Holder.r), Holder.r:name(), tostring(Holder.p),
             tostring(__weft_type('= {Point}', {Point = function() return Point end})),
             tostring(__weft_type('= <T>(T) -> T', {}))}, ' / ')",
    );
    assert_eq!(
        out,
        "Point / {x: number, y: number} / number / Result<number, string> / Result / Point? \
         / {Point} / <T>(T) -> T"
    );
}

#[test]
fn comparisons_are_structural_subtyping() {
    let lua = vm();
    let d = [
        decl("Point = {x: number, y: number}", &[]),
        decl("Point2 = {y: number, x: number}", &[]),
        decl("Point3 = {x: number, y: number, z: number}", &[]),
        decl("IntPoint = {x: integer, y: integer}", &[]),
        decl("Tree = {value: number, children: {Tree}}", &["Tree"]),
        decl("Tree2 = {value: number, children: {Tree2}}", &["Tree2"]),
    ];
    let results: String = run(
        &lua,
        &d,
        "local checks = {
           Number == Number, Integer <= Number, Integer < Number, not (Number < Number),
           Number <= Number, not (Number <= Integer), not (Number == Integer),
           Point == Point2, Point3 <= Point, Point3 < Point, not (Point <= Point3),
           IntPoint <= Point, not (Point <= IntPoint), Point <= Table, Never <= Point,
           Point <= Any, not (Any <= Point), Tree == Tree2, Tree <= Tree2,
           __weft_type('= number | string', {}) == __weft_type('= string | number', {}),
           Integer <= __weft_type('= number?', {}), not (Number == 1), Point.x == Number,
           __weft_type('= \"a\"', {}) <= String,
         }
         local out = {}
         for i, ok in ipairs(checks) do if not ok then out[#out + 1] = i end end
         return #checks .. ':' .. table.concat(out, ',')",
    );
    assert_eq!(results, "24:", "the numbers are the failing checks");
    let err = lua
        .load("return Number <= 1")
        .exec()
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("attempt to compare a type with number"),
        "{err}"
    );
}
