//! Type values in a bare VM: declarations as the front end emits them
//! (`local N; N = __weft_type("N = T", {refs})`), validation with its exact messages,
//! generics, recursion, casts and `typeof`. Reflection and comparison are in
//! `reflect_tests.rs`.

use mlua::{FromLuaMulti, Lua, Value as LuaValue};

use super::*;

/// A VM with the `errors` global and the type globals.
pub(super) fn vm() -> Lua {
    let lua = Lua::new();
    errors::install(&lua).unwrap();
    install(&lua).unwrap();
    lua
}

/// The Lua the front end makes of `type <text>`: `refs` are the names the type uses.
pub(super) fn decl(text: &str, refs: &[&str]) -> String {
    let name = text
        .split(['<', '='])
        .next()
        .unwrap_or("")
        .trim()
        .to_string();
    let refs: Vec<String> = refs
        .iter()
        .map(|r| format!("{r} = function() return {r} end"))
        .collect();
    format!(
        "local {name}; {name} = __weft_type({text:?}, {{{}}})\n",
        refs.join(", ")
    )
}

/// Runs `code` after `decls` and returns its values.
pub(super) fn run<T: FromLuaMulti>(lua: &Lua, decls: &[String], code: &str) -> T {
    let src = format!("{}{code}", decls.concat());
    lua.load(&src)
        .eval()
        .unwrap_or_else(|e| panic!("{e}\n{src}"))
}

/// The kind and message of the error `T:is(v)` gives for the Lua expression `v`.
pub(super) fn is_err(lua: &Lua, decls: &[String], t: &str, v: &str) -> String {
    let (r, kind, retryable, msg): (LuaValue, String, bool, String) = run(
        lua,
        decls,
        &format!("local r, e = {t}:is({v}) return r, e:kind(), e:retryable(), e:message()"),
    );
    assert!(r.is_nil(), "{t}:is({v}) gave a value");
    assert_eq!((kind.as_str(), retryable), ("Invalid", false));
    msg
}

/// The message of the error object `T(v)` raises, checking it equals `T:is(v)`'s.
pub(super) fn raised(lua: &Lua, decls: &[String], t: &str, v: &str) -> String {
    let (ok, kind, msg): (bool, String, String) = run(
        lua,
        decls,
        &format!("local ok, e = pcall({t}, {v}) return ok, e:kind(), e:message()"),
    );
    assert!(!ok && kind == "Invalid");
    assert_eq!(msg, is_err(lua, decls, t, v));
    msg
}

#[test]
fn a_record_validates_and_returns_the_same_value() {
    let lua = vm();
    let d = [decl("Point = {x: number, y: number}", &[])];
    let (same, via_is, err): (bool, bool, LuaValue) = run(
        &lua,
        &d,
        "local v = {x = 1, y = 2.5, extra = true}
         local p, e = Point:is(v)
         return Point(v) == v, p == v, e",
    );
    assert!(same && via_is && err.is_nil());
    assert_eq!(
        raised(&lua, &d, "Point", "{x = 1}"),
        "y: expected number, got nil"
    );
    assert_eq!(
        raised(&lua, &d, "Point", "{x = 'a', y = 1}"),
        "x: expected number, got string"
    );
    assert_eq!(
        raised(&lua, &d, "Point", "'p'"),
        "expected Point, got string"
    );
    assert_eq!(raised(&lua, &d, "Point", "nil"), "expected Point, got nil");
}

#[test]
fn paths_name_the_failing_part() {
    let lua = vm();
    let d = [
        decl("User = {name: string, tags?: {string}}", &[]),
        decl(
            "Team = {users: {User}, scores: {[string]: number}}",
            &["User"],
        ),
    ];
    let team = |users: &str, scores: &str| format!("{{users = {users}, scores = {scores}}}");
    assert_eq!(
        raised(&lua, &d, "Team", &team("{{name = 'a'}, {name = 5}}", "{}")),
        "users[2].name: expected string, got number"
    );
    assert_eq!(
        raised(
            &lua,
            &d,
            "Team",
            &team("{{name = 'a', tags = {'x', 2}}}", "{}")
        ),
        "users[1].tags[2]: expected string, got number"
    );
    assert_eq!(
        raised(&lua, &d, "Team", &team("{}", "{bob = 'x'}")),
        "scores.bob: expected number, got string"
    );
    assert_eq!(
        raised(&lua, &d, "Team", &team("{}", "{['a b'] = false}")),
        "scores[\"a b\"]: expected number, got boolean"
    );
    assert_eq!(
        raised(&lua, &d, "Team", &team("{}", "{[true] = 1}")),
        "scores: key true: expected string, got boolean"
    );
    assert_eq!(
        raised(&lua, &d, "Team", &team("{1}", "{}")),
        "users[1]: expected User, got number"
    );
}

#[test]
fn validators_report_the_bound_they_break() {
    let lua = vm();
    let d = [
        decl(
            "User = {age: number @min(0) @max(150), name: string @min_len(1) @max_len(5), \
             email?: string @pattern(\"^.+@.+$\")}",
            &[],
        ),
        decl("Scores = {number @min(0) @max(100)} @max_len(2)", &[]),
        decl("Id = number @min(1) | string @min_len(1)", &[]),
    ];
    let user = |age: &str, name: &str, email: &str| {
        format!("{{age = {age}, name = {name}, email = {email}}}")
    };
    assert_eq!(
        raised(&lua, &d, "User", &user("151", "'a'", "nil")),
        "age: 151 is greater than @max(150)"
    );
    assert_eq!(
        raised(&lua, &d, "User", &user("-0.5", "'a'", "nil")),
        "age: -0.5 is less than @min(0)"
    );
    assert_eq!(
        raised(&lua, &d, "User", &user("1", "''", "nil")),
        "name: length 0 is less than @min_len(1)"
    );
    assert_eq!(
        raised(&lua, &d, "User", &user("1", "'abcdef'", "nil")),
        "name: length 6 is greater than @max_len(5)"
    );
    assert_eq!(
        raised(&lua, &d, "User", &user("1", "'a'", "'x'")),
        "email: \"x\" does not match @pattern(\"^.+@.+$\")"
    );
    assert_eq!(
        raised(&lua, &d, "User", &user("'old'", "'a'", "nil")),
        "age: expected number, got string"
    );
    let ok: bool = run(
        &lua,
        &d,
        "return User({age = 150, name = 'abcde', email = 'a@b'}) ~= nil",
    );
    assert!(ok);
    assert_eq!(
        raised(&lua, &d, "Scores", "{85, 101}"),
        "[2]: 101 is greater than @max(100)"
    );
    assert_eq!(
        raised(&lua, &d, "Scores", "{1, 2, 3}"),
        "length 3 is greater than @max_len(2)"
    );
    assert_eq!(raised(&lua, &d, "Id", "0"), "0 is less than @min(1)");
    assert_eq!(
        raised(&lua, &d, "Id", "''"),
        "length 0 is less than @min_len(1)"
    );
    assert_eq!(
        raised(&lua, &d, "Id", "true"),
        "expected number @min(1) | string @min_len(1), got boolean"
    );
}

#[test]
fn unions_literals_optionals_and_primitives() {
    let lua = vm();
    let d = [
        decl("Status = \"pending\" | \"active\" | \"done\"", &[]),
        decl("NumOrStr = number | string", &[]),
        decl("Count = integer", &[]),
        decl("Maybe = number?", &[]),
        decl("Answer = 42", &[]),
        decl("Nothing = never", &[]),
        decl("Whatever = any", &[]),
        decl("Callback = (number) -> string", &[]),
        decl("Thread = thread", &[]),
    ];
    assert_eq!(
        raised(&lua, &d, "Status", "'invalid'"),
        "expected \"pending\" | \"active\" | \"done\", got \"invalid\""
    );
    assert_eq!(
        raised(&lua, &d, "Status", "1"),
        "expected \"pending\" | \"active\" | \"done\", got number"
    );
    assert_eq!(
        raised(&lua, &d, "NumOrStr", "true"),
        "expected number | string, got boolean"
    );
    assert_eq!(
        raised(&lua, &d, "Integer", "4.0"),
        "expected integer, got 4.0"
    );
    assert_eq!(
        raised(&lua, &d, "Integer", "1.5"),
        "expected integer, got 1.5"
    );
    assert_eq!(
        raised(&lua, &d, "Count", "'1'"),
        "expected Count, got string"
    );
    assert_eq!(
        raised(&lua, &d, "Maybe", "'x'"),
        "expected number, got string"
    );
    assert_eq!(raised(&lua, &d, "Answer", "41"), "expected Answer, got 41");
    let fortytwo = "__weft_type('= 42', {})";
    assert_eq!(raised(&lua, &d, fortytwo, "42.0"), "expected 42, got 42.0");
    assert_eq!(
        raised(&lua, &d, "Nothing", "1"),
        "expected Nothing, got number"
    );
    assert_eq!(raised(&lua, &d, "Never", "nil"), "expected never, got nil");
    assert_eq!(
        raised(&lua, &d, "Table", "'t'"),
        "expected table, got string"
    );
    assert_eq!(
        raised(&lua, &d, "Function", "{}"),
        "expected function, got table"
    );
    assert_eq!(
        raised(&lua, &d, "Boolean", "0"),
        "expected boolean, got number"
    );
    assert_eq!(
        raised(&lua, &d, "Nil", "false"),
        "expected nil, got boolean"
    );
    assert_eq!(
        raised(&lua, &d, "Callback", "{}"),
        "expected Callback, got table"
    );
    assert_eq!(
        raised(&lua, &d, "Thread", "1"),
        "expected Thread, got number"
    );
    let all: bool = run(
        &lua,
        &d,
        "return Status('done') == 'done' and NumOrStr(1) == 1 and NumOrStr('s') == 's'
           and Count(3) == 3 and Maybe(nil) == nil and Maybe(1.5) == 1.5 and Answer(42) == 42
           and Whatever(print) == print and Callback(print) == print and Unknown(nil) == nil
           and Any(Number) == Number and Table({}) ~= nil and String('') == ''
           and Thread(coroutine.create(print)) ~= nil",
    );
    assert!(all);
}

#[test]
fn arrays_must_be_sequences_and_maps_check_every_entry() {
    let lua = vm();
    let d = [
        decl("Nums = {number}", &[]),
        decl("Ages = {[string]: integer}", &[]),
    ];
    assert_eq!(
        raised(&lua, &d, "Nums", "{1, 2, x = 3}"),
        "expected Nums, got table with key \"x\""
    );
    assert_eq!(
        raised(&lua, &d, "Nums", "{1, 2, nil, 4}"),
        "expected Nums, got table with a hole at 3"
    );
    assert_eq!(
        raised(&lua, &d, "Nums", "{1, 'two'}"),
        "[2]: expected number, got string"
    );
    assert_eq!(
        raised(&lua, &d, "Ages", "{bob = 1.5}"),
        "bob: expected integer, got 1.5"
    );
    let ok: bool = run(
        &lua,
        &d,
        "return Nums({}) ~= nil and Ages({a = 1, b = 2}) ~= nil",
    );
    assert!(ok);
}

#[test]
fn intersections_need_every_member() {
    let lua = vm();
    let d = [
        decl("Named = {name: string}", &[]),
        decl("Aged = {age: number}", &[]),
        decl("Person = Named & Aged", &["Named", "Aged"]),
    ];
    let ok: bool = run(&lua, &d, "return Person({name = 'a', age = 1}) ~= nil");
    assert!(ok);
    assert_eq!(
        raised(&lua, &d, "Person", "{name = 'a'}"),
        "age: expected number, got nil"
    );
}

#[test]
fn records_read_fields_through_index() {
    let lua = vm();
    let d = [decl(
        "Greeter = {name: string, greet: (Greeter) -> string}",
        &["Greeter"],
    )];
    let ok: bool = run(
        &lua,
        &d,
        "local Class = {greet = function(self) return 'hi ' .. self.name end}
         local obj = setmetatable({name = 'x'}, {__index = Class})
         return Greeter(obj) == obj",
    );
    assert!(ok);
}

#[test]
fn generic_aliases_instantiate_and_tagged_unions_report_the_tagged_member() {
    let lua = vm();
    let d = [
        decl(
            "Result<T, E> = {ok: true, value: T} | {ok: false, error: E}",
            &[],
        ),
        decl("NumResult = Result<number, string>", &["Result"]),
        decl("Box<T: {id: integer}> = {item: T}", &[]),
        decl("Pair<A> = {first: A, second: A}", &[]),
        decl("Nest<T> = {next: Nest<{T}>?}", &["Nest"]),
        decl("Bad = Pair<number, string>", &["Pair"]),
    ];
    let ok: bool = run(
        &lua,
        &d,
        "return NumResult({ok = true, value = 1}) ~= nil and NumResult({ok = false, error = 'e'}) ~= nil
           and Result({ok = true, value = {}}) ~= nil",
    );
    assert!(ok);
    assert_eq!(
        raised(&lua, &d, "NumResult", "{ok = true, value = 'x'}"),
        "value: expected number, got string"
    );
    assert_eq!(
        raised(&lua, &d, "NumResult", "{ok = 'maybe'}"),
        "expected {ok: true, value: number} | {ok: false, error: string}, got table"
    );
    assert_eq!(
        raised(&lua, &d, "Box", "{item = {id = 1.5}}"),
        "item.id: expected integer, got 1.5"
    );
    assert_eq!(
        raised(&lua, &d, "Bad", "{}"),
        "type Pair takes 1 type argument, got 2"
    );
    assert_eq!(
        raised(&lua, &d, "Nest", "{}"),
        "type Nest expands without end (type arguments nested deeper than 32 levels)"
    );
}

#[test]
fn recursive_types_validate_lazily_and_cycles_and_depth_are_bounded() {
    let lua = vm();
    let d = [
        decl("Tree = {value: number, children: {Tree}}", &["Tree"]),
        decl("List = {next: List?}", &["List"]),
    ];
    let ok: bool = run(
        &lua,
        &d,
        "local t = {value = 1, children = {{value = 2, children = {}}}}
         local cyc = {value = 1, children = {}}
         cyc.children[1] = cyc
         return Tree(t) == t and Tree(cyc) == cyc",
    );
    assert!(ok);
    assert_eq!(
        raised(
            &lua,
            &d,
            "Tree",
            "{value = 1, children = {{value = 2, children = {{value = 'x', children = {}}}}}}"
        ),
        "children[1].children[1].value: expected number, got string"
    );
    let msg: String = run(
        &lua,
        &d,
        "local head = {}
         local cur = head
         for _ = 1, 300 do cur.next = {} cur = cur.next end
         local _, e = List:is(head)
         return e:message()",
    );
    assert_eq!(
        msg,
        "next.next.next.next.next.next.next.next…next.next.next.next.next.next.next.next: \
         value nested deeper than 200 levels"
    );
}

#[test]
fn names_that_do_not_resolve() {
    let lua = vm();
    let d = [
        decl("A = {b: Missing}", &["Missing"]),
        decl("Param = {x: T}", &[]),
        decl("Loop = Loop | number", &["Loop"]),
    ];
    let lib = "local Lib; Lib = __weft_type('Lib = {p: lib.Point}', \
               {['lib.Point'] = function() return lib.Point end})\n";
    assert_eq!(is_err(&lua, &d, "A", "{b = 1}"), "unknown type Missing");
    assert_eq!(raised(&lua, &d, "A", "{}"), "unknown type Missing");
    assert_eq!(
        raised(&lua, &d, "Loop", "1"),
        "type Loop is defined in terms of itself"
    );
    let ok: bool = run(&lua, &d, "return Param({x = print}) ~= nil");
    assert!(
        ok,
        "a name missing from refs is an enclosing type parameter: any"
    );
    let with_lib = [d.concat(), lib.to_string()];
    assert_eq!(
        raised(&lua, &with_lib, "Lib", "{p = 1}"),
        "unknown type lib.Point"
    );
    let later: String = run(
        &lua,
        &d,
        "local lib = {}
         local Uses; Uses = __weft_type('Uses = {p: lib.Point}', {['lib.Point'] = function() return lib.Point end})
         local before = select(2, Uses:is({p = {x = 1}})):message()
         lib.Point = __weft_type('Point = {x: number}', {})
         return before .. ' / ' .. tostring(Uses({p = {x = 1}}) ~= nil)",
    );
    assert_eq!(
        later, "unknown type lib.Point / true",
        "resolution waits for first success"
    );
}

#[test]
fn declarations_fail_early_on_bad_text_and_patterns() {
    let lua = vm();
    let err = lua
        .load("__weft_type('P = {x: ', {})")
        .exec()
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("invalid type declaration \"P = {x: \""),
        "{err}"
    );
    let err = lua
        .load("__weft_type('S = string @pattern(\"(\")', {})")
        .exec()
        .unwrap_err()
        .to_string();
    assert!(err.contains("invalid @pattern(\"(\")"), "{err}");
    let err = lua
        .load("__weft_type('S = string @pattern(\"(a{1000}){1000}\")', {})")
        .exec()
        .unwrap_err()
        .to_string();
    assert!(err.contains("invalid @pattern"), "{err}");
}

#[test]
fn parsed_declarations_are_cached_per_vm() {
    let lua = vm();
    let d = [decl("P = {x: number}", &[])];
    let distinct: bool = run(
        &lua,
        &d,
        "local Q = __weft_type('P = {x: number}', {}) return rawequal(P, Q)",
    );
    assert!(!distinct, "each run makes its own value");
    let n = lua.app_data_ref::<DeclCache>().map_or(0, |c| c.0.len());
    assert_eq!(n, 1);
}

#[test]
fn casts_convert_plain_values_and_refuse_others() {
    let lua = vm();
    let (a, b, c, d, e, f): (String, String, String, String, i64, i64) = run(
        &lua,
        &[],
        "return string('s'), string(42), string(1.5), string(true), integer('42'), integer(4.0)",
    );
    assert_eq!(
        (a.as_str(), b.as_str(), c.as_str(), d.as_str(), e, f),
        ("s", "42", "1.5", "true", 42, 4)
    );
    let (g, h, i, j, k, l): (String, String, String, i64, bool, bool) = run(
        &lua,
        &[],
        "return math.type(integer(' 7 ')), math.type(number('1.5')), math.type(number('42')),
                integer('0x10'), boolean(true), boolean('false')",
    );
    assert_eq!(
        (g.as_str(), h.as_str(), i.as_str(), j, k, l),
        ("integer", "float", "integer", 16, true, false)
    );
    for (code, message) in [
        ("integer(4.5)", "cannot cast 4.5 to integer"),
        ("integer('4.5')", "cannot cast \"4.5\" to integer"),
        (
            "integer(2^63)",
            "cannot cast 9.2233720368548e+18 to integer",
        ),
        ("integer(0/0)", "cannot cast nan to integer"),
        ("number('abc')", "cannot cast \"abc\" to number"),
        ("number(true)", "cannot cast true to number"),
        ("boolean(1)", "cannot cast 1 to boolean"),
        ("boolean('yes')", "cannot cast \"yes\" to boolean"),
        ("string({})", "cannot cast table to string"),
        ("string(nil)", "cannot cast nil to string"),
    ] {
        let (kind, msg): (String, String) = run(
            &lua,
            &[],
            &format!(
                "local ok, e = pcall(function() return {code} end) return e:kind(), e:message()"
            ),
        );
        assert_eq!(
            (kind.as_str(), msg.as_str()),
            ("Invalid", message),
            "{code}"
        );
    }
    let lib: String = run(&lua, &[], "return string.format('%d', 3) .. ('x'):upper()");
    assert_eq!(lib, "3X", "the string library is unchanged");
}

#[test]
fn typeof_gives_built_in_singletons_or_the_declared_type() {
    let lua = vm();
    let kinds: String = run(
        &lua,
        &[],
        "local out = {}
         for _, v in ipairs({1, 1.5, 'x', true, {}, print}) do out[#out + 1] = tostring(typeof(v)) end
         out[#out + 1] = tostring(typeof(nil))
         out[#out + 1] = tostring(typeof(coroutine.create(print)))
         out[#out + 1] = tostring(typeof(Number))
         return table.concat(out, ' ')",
    );
    assert_eq!(
        kinds,
        "integer number string boolean table function nil thread userdata"
    );
    let ok: bool = run(
        &lua,
        &[],
        "local handlers = {}
         handlers[Number] = 'n'
         handlers[String] = 's'
         local declared = __weft_type('= {number}', {})
         return handlers[typeof(1.5)] == 'n' and handlers[typeof('x')] == 's'
           and handlers[typeof(1)] == nil and rawequal(typeof(1, declared), declared)
           and rawequal(__weft_type('= number', {}), Number) and rawequal(typeof(nil), Nil)
           and rawequal(typeof(1), Integer)",
    );
    assert!(ok);
}
