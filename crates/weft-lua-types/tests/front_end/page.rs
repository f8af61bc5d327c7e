//! One test per code block of the dialect's page (docs: "Type System"), in its order: each
//! erases to code Lua 5.4 loads, on the same lines, and its types parse as expected.

use weft_lua_types::{Generic, SiteKind, Type, TypeDecl, Validator, erase};

use crate::common::*;

#[test]
fn primitives() {
    let src = r#"local n: number = 3.14
local i: integer = 42         -- integer is subtype of number
local s: string = "hello"
local b: boolean = true
local a: any = "anything"     -- explicit dynamic (opt-out of checking)
local u: unknown = something  -- must narrow before use
"#;
    let code = erased(src);
    assert!(code.starts_with("local n         = 3.14\n"));
    let names: Vec<_> = locals(src)
        .into_iter()
        .map(|(n, t)| format!("{n}:{t:?}"))
        .collect();
    assert_eq!(
        names,
        [
            "n:Number",
            "i:Integer",
            "s:String",
            "b:Boolean",
            "a:Any",
            "u:Unknown"
        ]
    );
}

#[test]
fn any_vs_unknown() {
    // The page's block has `u.foo` as a statement, which Lua rejects: the erased code must
    // fail exactly as the same code written without types does, on the same line.
    let src = r#"-- any: opt-out of type checking
local a: any = get_data()
a.foo.bar.baz()              -- no error, may crash at runtime

-- unknown: safe unknown, must narrow before use as a concrete type
local u: unknown = get_data()
u.foo                        -- no error: member access on unknown behaves like any
local n: number = u          -- ERROR: unknown not assignable to number, narrow first
if type(u) == "table" then
    -- u narrowed to table here
end
"#;
    let untyped = src
        .replace(": any", "")
        .replace(": unknown", "")
        .replace(": number", "");
    let out = erase(src).unwrap();
    assert_eq!(line_breaks(&out.code), line_breaks(src));
    let lua = mlua::Lua::new();
    let erased_error = lua
        .load(&*out.code)
        .set_name("m")
        .into_function()
        .unwrap_err()
        .to_string();
    let plain_error = lua
        .load(&untyped)
        .set_name("m")
        .into_function()
        .unwrap_err()
        .to_string();
    assert_eq!(erased_error, plain_error);
    assert!(
        erased_error.contains("]:8: syntax error near 'local'"),
        "{erased_error}"
    );
    let fixed = src.replace("u.foo   ", "_ = u.foo");
    erased(&fixed);
    assert_eq!(locals(&fixed).len(), 3);
}

#[test]
fn nil_safety() {
    let src = r#"local x: number = nil         -- ERROR: nil not assignable to number
local y: number? = nil        -- OK: number? means "number or nil"
local z: number? = 42         -- OK
"#;
    erased(src);
    let types: Vec<_> = locals(src).into_iter().map(|(_, t)| t).collect();
    assert_eq!(types, [Type::Number, opt(Type::Number), opt(Type::Number)]);
}

#[test]
fn control_flow_narrowing() {
    let src = r#"local function process(x: number?): number
    if x ~= nil then
        return x              -- x is number here
    end
    return 0
end

-- Early return pattern
local user, err = get_user(123)
if err then return nil, err end
-- user narrowed to non-nil here

-- Or default
local val = get_value() or 0  -- val: number
"#;
    let code = erased(src);
    assert!(code.starts_with("local function process(x         )        \n"));
    assert_eq!(params(src), [("x".to_string(), opt(Type::Number))]);
    assert_eq!(returns(src), [vec![Type::Number]]);
}

#[test]
fn union_types() {
    let src = r#"local val: number | string = get_value()

if type(val) == "number" then
    print(val + 1)            -- val: number
else
    print(val:upper())        -- val: string
end
"#;
    erased(src);
    assert_eq!(
        locals(src),
        [("val".to_string(), union(vec![Type::Number, Type::String]))]
    );
}

#[test]
fn literal_types() {
    let src = r#"type Status = "pending" | "active" | "done"

local s: Status = "pending"   -- OK
local s: Status = "invalid"   -- ERROR
"#;
    let code = erased(src);
    assert_eq!(
        code.lines().next().unwrap(),
        r#"local Status; Status = __weft_type("Status = \"pending\" | \"active\" | \"done\"", {});"#
    );
    assert_eq!(
        decls(src)[0].ty,
        union(vec![lit("pending"), lit("active"), lit("done")])
    );
    assert_eq!(locals(src)[0].1, named("Status"));
}

#[test]
fn function_types() {
    let src = r#"local function add(a: number, b: number): number
    return a + b
end

-- Multiple returns
local function div_mod(a: number, b: number): (number, number)
    return math.floor(a / b), a % b
end

-- Error returns (Lua idiom)
local function fetch(url: string): (string?, error?)
    -- returns (data, nil) or (nil, error)
end

-- First-class function types
local double: (number) -> number = function(x: number): number
    return x * 2
end
"#;
    erased(src);
    assert_eq!(
        returns(src),
        [
            vec![Type::Number],
            vec![Type::Number, Type::Number],
            vec![opt(Type::String), opt(Type::Primitive("error".into()))],
            vec![Type::Number],
        ]
    );
    assert_eq!(
        locals(src),
        [(
            "double".to_string(),
            func(vec![Type::Number], vec![Type::Number])
        )]
    );
    assert_eq!(params(src).len(), 6);
}

#[test]
fn variadic_functions() {
    let src = r#"local function sum(...: number): number
    local total: number = 0
    for _, v in ipairs({...}) do
        total = total + v
    end
    return total
end
"#;
    let code = erased(src);
    assert!(code.starts_with("local function sum(...        )        \n"));
    assert_eq!(params(src), [("...".to_string(), Type::Number)]);
}

#[test]
fn record_types() {
    let src = r#"type User = {name: string, age: number}

local u: User = {name = "alice", age = 25}
"#;
    erased(src);
    assert_eq!(
        decls(src)[0].ty,
        rec(vec![("name", Type::String), ("age", Type::Number)])
    );
}

#[test]
fn optional_fields() {
    let src = r#"type Config = {
    host: string,
    port: number,
    timeout?: number,
    debug?: boolean
}

local cfg: Config = {host = "localhost", port = 8080}  -- OK
"#;
    let code = erased(src);
    assert_eq!(
        code.lines().next().unwrap(),
        r#"local Config; Config = __weft_type("Config = { host: string, port: number, timeout?: number, debug?: boolean }", {});"#
    );
    assert_eq!(
        code.lines().nth(7).unwrap().trim_end(),
        r#"local cfg         = {host = "localhost", port = 8080}  -- OK"#
    );
    let expected = rec(vec![
        ("host", Type::String),
        ("port", Type::Number),
        ("timeout?", Type::Number),
        ("debug?", Type::Boolean),
    ]);
    assert_eq!(decls(src)[0].ty, expected);
}

#[test]
fn generics() {
    let src = r#"local function identity<T>(x: T): T
    return x
end

local n: number = identity(42)
local s: string = identity("hello")
"#;
    let code = erased(src);
    assert!(code.starts_with("local function identity   (x   )   \n"));
    let all = sites(src);
    assert_eq!(
        all[0],
        SiteKind::Generics(vec![Generic {
            name: "T".into(),
            constraint: None
        }])
    );
    assert_eq!(params(src), [("x".to_string(), named("T"))]);
    assert_eq!(returns(src), [vec![named("T")]]);
}

#[test]
fn constrained_generics() {
    let src = r#"type HasName = {name: string}

local function greet<T: HasName>(obj: T): string
    return "Hello, " .. obj.name
end

greet({name = "Alice"})       -- OK
greet({age = 30})             -- ERROR: missing 'name'
"#;
    erased(src);
    let generics = sites(src).into_iter().find_map(|k| {
        if let SiteKind::Generics(g) = k {
            Some(g)
        } else {
            None
        }
    });
    assert_eq!(
        generics.unwrap(),
        [Generic {
            name: "T".into(),
            constraint: Some(named("HasName"))
        }]
    );
}

#[test]
fn intersection_types() {
    let src = r#"type Named = {name: string}
type Aged = {age: number}
type Person = Named & Aged

local p: Person = {name = "Alice", age = 30}
"#;
    let code = erased(src);
    assert_eq!(
        code.lines().nth(2).unwrap(),
        r#"local Person; Person = __weft_type("Person = Named & Aged", {Named = function() return Named end, Aged = function() return Aged end});"#
    );
    assert_eq!(
        decls(src)[2].ty,
        Type::Intersection(vec![named("Named"), named("Aged")])
    );
}

#[test]
fn tagged_unions() {
    let src = r#"type Result<T, E> =
    {ok: true, value: T}
    | {ok: false, error: E}

type LoadState =
    {status: "loading"}
    | {status: "loaded", data: User}
    | {status: "error", message: string}

local function render(state: LoadState): string
    if state.status == "loading" then
        return "Loading..."
    elseif state.status == "loaded" then
        return "Hello, " .. state.data.name
    elseif state.status == "error" then
        return "Error: " .. state.message
    end
end
"#;
    let code = erased(src);
    let lines: Vec<_> = code.lines().collect();
    assert_eq!(
        lines[0],
        r#"local Result; Result = __weft_type("Result<T, E> = {ok: true, value: T} | {ok: false, error: E}", {});"#
    );
    assert_eq!((lines[1], lines[2], lines[3]), ("", "", ""));
    assert!(lines[4].ends_with(r#"{User = function() return User end});"#));
    let result = &decls(src)[0];
    assert_eq!(
        result
            .generics
            .iter()
            .map(|g| g.name.as_str())
            .collect::<Vec<_>>(),
        ["T", "E"]
    );
    assert_eq!(
        result.ty,
        union(vec![
            rec(vec![("ok", bool_lit(true)), ("value", named("T"))]),
            rec(vec![("ok", bool_lit(false)), ("error", named("E"))]),
        ])
    );
}

#[test]
fn never_type() {
    let src = "function fail(msg: string): never\n    error(msg)\nend\n";
    erased(src);
    assert_eq!(returns(src), [vec![Type::Never]]);
}

#[test]
fn error_handling_pattern_is_plain() {
    plain(
        r#"local value, err = call()
if err then
    -- value is nil here
    return nil, err
end
-- value is non-nil here, err is nil
print(value)
"#,
    );
}

#[test]
fn non_nil_assertion() {
    let src = r#"local user: User? = get_user()
local name = (user!).name            -- assert user is non-nil
"#;
    let code = erased(src);
    assert!(code.contains("local name = (user ).name "));
    assert!(sites(src).contains(&SiteKind::NonNil));
    let more = "local a = user!.name\nlocal b = f()!\nuser!:save()\nlocal c = t[1]!.x!\n";
    let code = erased(more);
    assert_eq!(
        code,
        "local a = user .name\nlocal b = f() \nuser :save()\nlocal c = t[1] .x \n"
    );
}

#[test]
fn safe_cast_calls_are_plain_lua() {
    let src = r#"local data: any = get_json()
local user = User(data)              -- validates and returns User
local name = user.name               -- safe field access
"#;
    let code = erased(src);
    assert!(code.contains("local user = User(data)"));
    let src = r#"local x: any = get_value()
local s = string(x)                  -- cast to string
local n = integer(x)                 -- cast to integer
local b = boolean(x)                 -- cast to boolean

type Point = {x: number, y: number}
local p = Point(data)                -- validates record structure
"#;
    erased(src);
}

#[test]
fn type_is_method() {
    let src = r#"type Point = {x: number, y: number}
local data: any = get_input()

local p, err = Point:is(data)
if p then
    local sum = p.x + p.y            -- p is valid Point
else
    return nil, err                  -- validation failed
end
"#;
    let code = erased(src);
    assert!(code.contains("local p, err = Point:is(data)"));
    let src = r#"if Point:is(data) then
    local p: Point = data            -- data narrowed to Point
end
"#;
    erased(src);
    assert_eq!(locals(src), [("p".to_string(), named("Point"))]);
}

#[test]
fn unsafe_casts() {
    let src = r#"local data: any = get_data()
local user = data :: User            -- no runtime check
local user = data as User            -- same as ::
"#;
    let code = erased(src);
    assert_eq!(
        code.lines().nth(1).unwrap(),
        "local user = data                    -- no runtime check"
    );
    assert_eq!(
        code.lines().nth(2).unwrap(),
        "local user = data                    -- same as ::"
    );
    let casts: Vec<_> = sites(src)
        .into_iter()
        .filter(|k| matches!(k, SiteKind::Cast(_)))
        .collect();
    assert_eq!(
        casts,
        [SiteKind::Cast(named("User")), SiteKind::Cast(named("User"))]
    );
}

#[test]
fn reflection_is_plain_lua() {
    plain(
        "print(Number:kind())                 -- \"number\"\nprint(Point:kind())\nprint(Point:name())\n",
    );
    plain("local nameType = User.name           -- type of 'name' field\nprint(nameType:kind())\n");
    plain("print(Number == Number)\nprint(Integer <= Number)\nprint(Integer < Number)\n");
    plain(
        r#"local handlers = {}
handlers[Number] = function() return "number handler" end
handlers[String] = function() return "string handler" end

local h = handlers[typeof(value)]
if h then h() end
"#,
    );
}

#[test]
fn record_fields() {
    let src = r#"type User = {name: string, age: number}

for name, typ in User:fields() do
    print(name, typ:kind())
end
-- name    string
-- age     number
"#;
    erased(src);
}

#[test]
fn collection_types_typeof() {
    let src = r#"local arr: {number} = {1, 2, 3}
local arrType = typeof(arr)
print(arrType:elem():kind())         -- "number"

local map: {[string]: number} = {}
local mapType = typeof(map)
print(mapType:key():kind())          -- "string"
print(mapType:val():kind())          -- "number"
"#;
    let code = erased(src);
    let lines: Vec<_> = code.lines().collect();
    assert_eq!(
        lines[1],
        r#"local arrType = typeof(arr, __weft_type("= {number}", {}))"#
    );
    assert_eq!(
        lines[5],
        r#"local mapType = typeof(map, __weft_type("= {[string]: number}", {}))"#
    );
    assert_eq!(locals(src)[0].1, arr(Type::Number));
    assert_eq!(locals(src)[1].1, map(Type::String, Type::Number));
}

#[test]
fn optional_types_typeof() {
    let src = r#"local opt: number? = nil
local optType = typeof(opt)
print(optType:kind())                -- "optional"
print(optType:inner():kind())        -- "number"
"#;
    let code = erased(src);
    assert_eq!(
        code.lines().nth(1).unwrap(),
        r#"local optType = typeof(opt, __weft_type("= number?", {}))"#
    );
}

#[test]
fn union_variants() {
    let src = r#"type Status = "pending" | "active" | "done"

for variant in Status:variants() do
    print(variant)
end
"#;
    erased(src);
}

#[test]
fn function_types_typeof() {
    let src = r#"local fn: (number, string) -> boolean

local fnType = typeof(fn)
for param in fnType:params() do
    print(param:kind())
end
print(fnType:ret():kind())           -- "boolean"
"#;
    let code = erased(src);
    assert_eq!(
        code.lines().nth(2).unwrap(),
        r#"local fnType = typeof(fn, __weft_type("= (number, string) -> boolean", {}))"#
    );
    assert_eq!(
        locals(src)[0].1,
        func(vec![Type::Number, Type::String], vec![Type::Boolean])
    );
}

#[test]
fn type_annotations() {
    let src = r#"-- Parameter and return types
local function process(input: string): number
    return #input
end

-- Local variable types
local count: number = 0

-- Type aliases
type StringArray = {string}
type StringMap = {[string]: number}
"#;
    erased(src);
    let found: Vec<_> = decls(src).into_iter().map(|d| d.ty).collect();
    assert_eq!(found, [arr(Type::String), map(Type::String, Type::Number)]);
}

#[test]
fn type_validators() {
    let src = r#"-- Single validator
local x: number @min(0) = 1

-- Multiple validators
local x: number @min(0) @max(100) = 50

-- String pattern
local email: string @pattern("^.+@.+$") = "test@example.com"
"#;
    let code = erased(src);
    assert_eq!(code.lines().nth(1).unwrap(), "local x                 = 1");
    let types: Vec<_> = locals(src).into_iter().map(|(_, t)| t).collect();
    assert_eq!(
        types,
        [
            validated(Type::Number, vec![Validator::Min(0.0)]),
            validated(
                Type::Number,
                vec![Validator::Min(0.0), Validator::Max(100.0)]
            ),
            validated(Type::String, vec![Validator::Pattern("^.+@.+$".into())]),
        ]
    );
}

#[test]
fn record_field_validators() {
    let src = r#"type User = {
    age: number @min(0) @max(150),
    name: string @min_len(1) @max_len(100)
}
"#;
    erased(src);
    let expected = TypeDecl {
        name: "User".into(),
        generics: Vec::new(),
        ty: rec(vec![
            (
                "age",
                validated(
                    Type::Number,
                    vec![Validator::Min(0.0), Validator::Max(150.0)],
                ),
            ),
            (
                "name",
                validated(
                    Type::String,
                    vec![Validator::MinLen(1), Validator::MaxLen(100)],
                ),
            ),
        ]),
        exported: false,
    };
    assert_eq!(decls(src), [expected]);
}

#[test]
fn array_element_validators() {
    let src = "local scores: {number @min(0) @max(100)} = {85, 90}\n";
    assert_eq!(
        erased(src),
        "local scores                             = {85, 90}\n"
    );
    assert_eq!(
        locals(src)[0].1,
        arr(validated(
            Type::Number,
            vec![Validator::Min(0.0), Validator::Max(100.0)]
        ))
    );
}

#[test]
fn union_member_validators() {
    let src = "local id: number @min(1) | string @min_len(1) = 1\n";
    erased(src);
    let expected = union(vec![
        validated(Type::Number, vec![Validator::Min(1.0)]),
        validated(Type::String, vec![Validator::MinLen(1)]),
    ]);
    assert_eq!(locals(src)[0].1, expected);
}

#[test]
fn gradual_adoption() {
    let src = r#"-- Existing code works unchanged
function old_function(x)
    return x + 1
end

-- New code gets types
function new_function(x: number): number
    return x + 1
end
"#;
    let code = erased(src);
    assert!(code.contains("function old_function(x)\n"));
    assert!(code.contains("function new_function(x        )        \n"));
}

#[test]
fn wippy_code_from_the_issue() {
    let src = r#"local function main(parent_pid: string)
    local msg = receive()
    local from = msg:from() :: string
    local user: User? = find(from)
    print((user!).name)
    type Point = {x: number, y: number}
    local p, err = Point:is(msg:payload():data())
    return p
end
return { main = main }
"#;
    let code = erased(src);
    assert!(code.contains("local from = msg:from()          \n"));
    assert!(code.contains("local p, err = Point:is(msg:payload():data())"));
}
