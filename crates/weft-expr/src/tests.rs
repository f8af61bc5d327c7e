//! Tests of the language as a whole: expr-lang's results, errors, limits.

use weft_core::{Map, Value};

use crate::{Error, MAX_DEPTH, Program, Val};

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap()
}

/// The environment most tests use.
fn env() -> Map {
    json(
        r#"{
        "actor": {"id": "svc-billing", "meta": {"role": "admin", "level": 5,
                  "roles": ["ops", "dev"], "org": {"team": {"name": "core"}}}},
        "action": "fs.get", "resource": "app:data", "meta": {"owner": "svc-billing"},
        "xs": [1, 2, 3], "users": [{"name": "ann", "age": 30}, {"name": "bob", "age": 17}],
        "empty": [], "n": null, "pi": 3.5, "s": "héllo"
    }"#,
    )
    .as_map()
    .unwrap()
    .clone()
}

fn run(src: &str) -> Result<Value, Error> {
    let env = env();
    let program = Program::compile(src)?;
    program.run(&env).map(Val::into_value)
}

/// Asserts `src` evaluates to the JSON `want` (integers and floats kept apart).
#[track_caller]
fn check(src: &str, want: &str) {
    let got = run(src).unwrap_or_else(|e| panic!("{src}: {e}"));
    let want = json(want);
    assert!(
        got == want && same_types(&got, &want),
        "{src}: got {got:?}, want {want:?}"
    );
}

fn same_types(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Array(x), Value::Array(y)) => x.iter().zip(y.iter()).all(|(a, b)| same_types(a, b)),
        (Value::Map(x), Value::Map(y)) => x.values().zip(y.values()).all(|(a, b)| same_types(a, b)),
        _ => std::mem::discriminant(a) == std::mem::discriminant(b),
    }
}

#[track_caller]
fn eval_error(src: &str, contains: &str) {
    match run(src) {
        Err(Error::Eval(message)) => assert!(message.contains(contains), "{src}: {message}"),
        other => panic!("{src}: want an evaluation error, got {other:?}"),
    }
}

#[track_caller]
fn syntax_error(src: &str, contains: &str) -> (u32, u32) {
    match Program::compile(src) {
        Err(Error::Syntax {
            message,
            line,
            column,
        }) => {
            assert!(message.contains(contains), "{src}: {message}");
            (line, column)
        }
        other => panic!("{src}: want a syntax error, got {other:?}"),
    }
}

/// Results Go's expr-lang v1.17.8 gives for the same expressions (the cases of the
/// subset weft implements, from the expr-lang crate's Go-compatibility table).
#[test]
fn matches_go_expr_lang() {
    let cases = [
        ("nil", "null"),
        ("true", "true"),
        ("42", "42"),
        ("1.5", "1.5"),
        (r#""hello""#, r#""hello""#),
        ("[1, 2, 3]", "[1,2,3]"),
        (r#"{a: 1, b: "two"}"#, r#"{"a":1,"b":"two"}"#),
        ("1 + 2 * 3", "7"),
        ("2 ** 3", "8.0"),
        ("1 + 0.5", "1.5"),
        ("1 == 1.0", "true"),
        ("1 < 1.5", "true"),
        ("false and unknown", "false"),
        ("true or unknown", "true"),
        (r#"nil ?? "fallback""#, r#""fallback""#),
        (r#"true ? "yes" : "no""#, r#""yes""#),
        ("[1, 2, 3][-1]", "3"),
        ("2 in [1, 2, 3]", "true"),
        (r#""hello" startsWith "he""#, "true"),
        (r#""hello" matches "^h""#, "true"),
        (r#"upper("mise")"#, r#""MISE""#),
        (r#"split("a,b", ",")"#, r#"["a","b"]"#),
        ("map([1, 2, 3], {# * 2})", "[2,4,6]"),
        ("filter([1, 2, 3], {# > 1})", "[2,3]"),
        ("find([1, 2, 3], {# > 1})", "2"),
        ("len({a: 1, b: 2})", "2"),
        (r#"int("42")"#, "42"),
        (r#"float("1.5")"#, "1.5"),
        ("float(5)", "5.0"),
        ("string(42)", r#""42""#),
        ("0x2A", "42"),
        ("0o52", "42"),
        ("0b101010", "42"),
        ("1_000_000", "1000000"),
        (".5", "0.5"),
        ("2 not in [1, 3]", "true"),
        (r#""name" not in {other: 1}"#, "true"),
        (r#"{"display-name": "mise"}["display-name"]"#, r#""mise""#),
        ("[1, 2,]", "[1,2]"),
        ("{a: 1,}", r#"{"a":1}"#),
        ("max(5, 7)", "7"),
        ("min(5, 7)", "5"),
        ("max(1.5, 2)", "2"),
        ("type(max(1.5, 2))", r#""int""#),
        ("max([1, [5, 3]], 4)", "5"),
        ("abs(-5)", "5"),
        ("abs(-1.5)", "1.5"),
        ("ceil(1.5)", "2.0"),
        ("floor(1.5)", "1.0"),
        ("round(1.5)", "2.0"),
        ("round(-1.5)", "-2.0"),
        ("type(ceil(2))", r#""float""#),
        (r#"join(["a", "b", "c"], "-")"#, r#""a-b-c""#),
        (r#"join(["a", "b"])"#, r#""ab""#),
        ("first([1, 2, 3])", "1"),
        ("first([])", "null"),
        ("last([1, 2, 3])", "3"),
        ("last([])", "null"),
        ("count([true, false, true])", "2"),
        ("count([1, 2, 3], {# > 1})", "2"),
        ("sum([1, 2, 3])", "6"),
        ("sum([1, 2.5, 3])", "6.5"),
        ("sum([1, 2, 3], {# * 2})", "12"),
        ("type(nil)", r#""nil""#),
        ("type(42)", r#""int""#),
        ("type(1.5)", r#""float""#),
        ("type([1])", r#""array""#),
        (
            r#"replace("foo,bar,baz,goo", ",", "-", 2)"#,
            r#""foo-bar-baz,goo""#,
        ),
        ("1e3", "1000.0"),
        ("1.2e-4", "0.00012"),
        (".5e+2", "50.0"),
        ("1_000.5_0e-2", "10.005"),
        ("map([10, 20, 30], #index)", "[0,1,2]"),
        (r#"trimPrefix("abc")"#, r#""abc""#),
        (r#"trimSuffix("abc")"#, r#""abc""#),
        (r#"len(split("abc", ",", 0))"#, "0"),
        ("5 / 2", "2.5"),
        ("5 / 2.0", "2.5"),
        ("string(1 / 0)", r#""+Inf""#),
        ("2 ^ 3", "8.0"),
        ("2 ^ -1", "0.5"),
        ("9223372036854775807 + 1", "-9223372036854775808"),
        ("-9223372036854775807 - 2", "9223372036854775807"),
        ("9223372036854775807 * 2", "-2"),
        ("(-9223372036854775807 - 1) % -1", "0"),
        (r#"len("é🙂")"#, "2"),
        ("sum([9223372036854775807, 1])", "-9223372036854775808"),
        ("abs(-9223372036854775807 - 1)", "-9223372036854775808"),
    ];
    for (src, want) in cases {
        check(src, want);
    }
}

#[test]
fn what_policies_read() {
    check(r#"actor.meta.role == "admin""#, "true");
    check(r#"actor.meta.org.team.name == "core""#, "true");
    check(r#""ops" in actor.meta.roles"#, "true");
    check(r#""x" not in actor.meta.roles"#, "true");
    check(r#"actor.id matches "^svc-""#, "true");
    check(r#"actor.id not matches "^usr-""#, "true");
    check(
        r#"resource startsWith "app:" && action endsWith ".get""#,
        "true",
    );
    check(
        r#"action contains "get" and not (actor.meta.level < 3)"#,
        "true",
    );
    check("!(actor.meta.level < 3) || false", "true");
    check("meta.owner == actor.id", "true");
    check("actor.meta.missing == nil", "true");
    check(r#"actor.meta.missing ?? "dflt""#, r#""dflt""#);
    check("actor.meta.missing?.x", "null");
    check("actor.meta?.role", r#""admin""#);
    check(r#"actor["meta"]["role"]"#, r#""admin""#);
    check("len(actor.meta.roles) > 1", "true");
    check(r#"all(actor.meta.roles, # != "x")"#, "true");
    check(r#"any(actor.meta.roles, {# == "dev"})"#, "true");
    check("one(users, .age >= 18)", "true");
    check("none(users, #.age > 100)", "true");
    check(r#"map(filter(users, .age >= 18), .name)"#, r#"["ann"]"#);
    check("findIndex(users, .name == \"bob\")", "1");
    check(r#"actor.meta.level > 3 ? "hi" : "lo""#, r#""hi""#);
    check(r#"resource in ["app:data", "app:x"]"#, "true");
    check("not not true", "true");
    check("-(-3)", "3");
    check("1 < 2 == true", "true");
    check(r#""a" + "b" + string(1.5)"#, r#""ab1.5""#);
    check(r#"lower("AB") + upper("é")"#, r#""abÉ""#);
    check(r#"trim("  a ") + trim("xxaxx", "x")"#, r#""aa""#);
    check(r#"hasPrefix(s, "hé") and hasSuffix(s, "lo")"#, "true");
    check("keys({a: 1, b: 2})", r#"["a","b"]"#);
    check("values({a: 1, b: [2]})", "[1,[2]]");
    check(r#"split("a-b-c", "-", 2)"#, r#"["a","b-c"]"#);
    check(r#"split("abc", "")"#, r#"["a","b","c"]"#);
    check("[xs[0], n, pi]", "[1,null,3.5]");
    check(r#"{k: xs[1], "j": 2}"#, r#"{"k":2,"j":2}"#);
    check("7 % 3 + int(2.9) + int(-2.9)", "1");
    check(
        r#"string([1, "a", nil]) + string({b: 1, a: true})"#,
        r#""[1 a <nil>]map[a:true b:1]""#,
    );
    check(
        "string(1000000.0) + \" \" + string(123456.0) + \" \" + string(0.00001)",
        r#""1e+06 123456 1e-05""#,
    );
    check("xs == [1, 2, 3] and {a: 1} == {a: 1} and xs != [1]", "true");
    check("\"b\" > \"a\" and 2 >= 2.0 and 1 <= 1", "true");
    check("min(xs) + max(3, 9.5)", "10.5");
    check("count(empty, # > 0) == 0 and all(empty, false)", "true");
    check("// comment\n /* block */ 1 + /* inline */ 1", "2");
}

#[test]
fn evaluation_errors_are_errors_not_answers() {
    eval_error("actor.meta.missing.x", "cannot fetch x from nil");
    eval_error("actor.id.x", "cannot fetch x from string");
    eval_error("xs[3]", "index out of range: 3");
    eval_error("xs[-4]", "index out of range");
    eval_error(r#"xs["a"]"#, "cannot fetch a from array");
    eval_error("xs[nil]", "cannot use nil as an index");
    eval_error("1 and true", "invalid operation: int and bool");
    eval_error("true and 1", "invalid operation: bool and int");
    eval_error("not 1", "invalid operation: not int");
    eval_error(r#"-"a""#, "invalid operation: - string");
    eval_error(r#"1 + "a""#, "invalid operation: int + string");
    eval_error(r#"1 < "a""#, "invalid operation: int compare string");
    eval_error("1 % 0", "integer divide by zero");
    eval_error("1.5 % 1", "invalid operation: float % int");
    eval_error("1 in 2", "operator in not defined on int");
    eval_error(r#"1 in {a: 1}"#, "cannot use int as a map key");
    eval_error(r#"xs contains 1"#, "invalid operation: array contains int");
    eval_error(
        "actor.meta.level matches 1",
        "invalid operation: int matches",
    );
    eval_error(r#"s matches ("[" + "")"#, "invalid regex");
    eval_error("1 ? 2 : 3", "condition of ?: must be a bool");
    eval_error("all(n, true)", "all: expected an array, got nil");
    eval_error(
        "filter(xs, 1)",
        "filter: the predicate must return a bool, got int",
    );
    eval_error(r#"len(1)"#, "invalid argument for len (type int)");
    eval_error(r#"int("1.5")"#, "cannot parse");
    eval_error(r#"join([1])"#, "invalid argument for join (type int)");
    eval_error(r#"sum(["a"])"#, "invalid argument for sum (type string)");
    eval_error(r#"max("a")"#, "invalid argument for max (type string)");
    eval_error(
        r#"trimPrefix(1)"#,
        "invalid argument for trimPrefix (type int)",
    );
    // A missing variable is nil, as Go's runtime reads a map environment.
    check("nosuch == nil", "true");
    eval_error("nosuch + 1", "invalid operation: nil + int");
}

#[test]
fn syntax_errors_say_where() {
    assert_eq!(syntax_error("1 +", "unexpected the end"), (1, 4));
    assert_eq!(syntax_error("(1", "expected `)`"), (1, 3));
    assert_eq!(syntax_error("a b", "unexpected `b`"), (1, 3));
    assert_eq!(syntax_error("x ==\n  == y", "unexpected `==`"), (2, 3));
    assert_eq!(syntax_error("  ", "empty expression"), (1, 1));
    syntax_error("nope(1)", "unknown function nope");
    syntax_error("len(1, 2)", "len takes 1 argument(s), got 2");
    syntax_error("max()", "max takes at least 1 argument");
    syntax_error("all(xs)", "all takes a list and a predicate");
    syntax_error("# > 1", "# is only valid inside a predicate");
    syntax_error("map(xs, #acc)", "#acc is not supported");
    syntax_error("1..3", "ranges (`..`) are not supported");
    syntax_error("xs | len()", "pipes (`|`) are not supported");
    syntax_error("xs[1:2]", "slices are not supported");
    syntax_error("s.upper()", "methods are not supported");
    syntax_error(r#"s matches "[""#, "invalid regex");
    syntax_error("$env", "$env is not supported");
    syntax_error("let x", "unexpected `let`");
    syntax_error("{1: 2}", "a map key must be a name or a string");
    syntax_error(r#""open"#, "unterminated string");
    syntax_error("a ? b", "expected `:`");
}

#[test]
fn nesting_and_size_are_capped_at_parse() {
    let deep = |n: usize| format!("{}1{}", "(".repeat(n), ")".repeat(n));
    assert!(Program::compile(&deep(MAX_DEPTH - 2)).is_ok());
    for n in [MAX_DEPTH + 1, 100_000] {
        syntax_error(&deep(n), "nests deeper than 64");
    }
    let chain = |n: usize| vec!["1"; n].join(" + ");
    check(&chain(MAX_DEPTH), &MAX_DEPTH.to_string());
    syntax_error(&chain(MAX_DEPTH + 2), "nests deeper than 64");
    syntax_error(&chain(50_000), "nests deeper than 64");
    syntax_error(&"!".repeat(10_000), "nests deeper than 64");
    syntax_error(&format!("xs{}", "[0]".repeat(200)), "deeper");
    let wide = format!("[{}]", vec!["x"; 10_001].join(", "));
    syntax_error(&wide, "more than 10000 nodes");
}

#[test]
fn evaluation_is_bounded_in_steps() {
    let mut env = env();
    let big: Vec<Value> = (0..200).map(Value::Int).collect();
    env.insert("big".into(), Value::array(big));
    let p = Program::compile("count(big, count(big, count(big, true) > 0) > 0)").unwrap();
    match p.run(&env) {
        Err(Error::Eval(m)) => assert!(m.contains("exceeded 1000000 steps"), "{m}"),
        other => panic!("{other:?}"),
    }
    let p = Program::compile("count(big, count(big, true) > 0)").unwrap();
    assert_eq!(p.run(&env).unwrap().into_value(), Value::Int(200));
}

#[test]
fn variables_are_the_roots_read() {
    let p =
        Program::compile(r#"actor.meta.role == "a" and meta.x in xs and all(ys, # > z)"#).unwrap();
    let names: Vec<&str> = p.variables().iter().map(|v| &**v).collect();
    assert_eq!(names, ["actor", "meta", "xs", "ys", "z"]);
    assert!(
        Program::compile("1 + len([2])")
            .unwrap()
            .variables()
            .is_empty()
    );
}

#[test]
fn a_program_runs_many_times_with_different_envs() {
    let p = Program::compile("a * b").unwrap();
    for (a, b, want) in [(5, 6, 30), (10, 3, 30), (-2, 4, -8)] {
        let env: Map = [
            ("a".to_string(), Value::Int(a)),
            ("b".to_string(), Value::Int(b)),
        ]
        .into_iter()
        .collect();
        assert_eq!(p.run(&env).unwrap().into_value(), Value::Int(want));
    }
}

#[test]
fn mangled_expressions_never_panic() {
    let corpus = [
        r#"actor.meta.role == "admin" and resource startsWith "app:""#,
        r#"any(users, {.age > 18 && #.name matches "^a"}) ? xs[-1] : {a: [1, 2.5e3]}"#,
        r#"not (1 + 2 * 3 ** 4 % 5 / 6 - -7) ?? n?.x?.[0] || "é" not in ['a', `b`]"#,
        r#"max(xs, [1, [2]]) + sum(map(xs, # * #index)) + len(split(s, "", 2))"#,
    ];
    let env = env();
    for src in corpus {
        let chars: Vec<char> = src.chars().collect();
        for i in 0..chars.len() {
            for variant in [
                chars[..i].iter().collect::<String>(),
                chars[i..].iter().collect(),
                chars[..i].iter().chain(&chars[i + 1..]).collect(),
            ] {
                if let Ok(p) = Program::compile(&variant) {
                    let _ = p.run(&env);
                }
            }
        }
    }
}

#[test]
fn the_deepest_expressions_run_on_a_small_stack() {
    let shapes: [fn(usize) -> String; 6] = [
        |n| format!("{}1{}", "-(".repeat(n), ")".repeat(n)),
        |n| format!("{}1{}", "abs(".repeat(n), ")".repeat(n)),
        |n| format!("{}1{}", "[".repeat(n), "]".repeat(n)),
        |n| format!("{}1{}", "any([".repeat(n), "], true) ? 1 : 1".repeat(n)),
        |n| format!("{}1{}", "all([1], ".repeat(n), ")".repeat(n)),
        |n| vec!["xs"; n].join(" ?? "),
    ];
    // The deepest of each shape that compiles.
    let deepest: Vec<Program> = shapes
        .iter()
        .map(|shape| {
            (1..=MAX_DEPTH)
                .rev()
                .find_map(|n| Program::compile(&shape(n)).ok())
                .unwrap()
        })
        .collect();
    // 512 KiB, a quarter of a default thread stack, in an unoptimised build.
    let handle = std::thread::Builder::new()
        .stack_size(512 * 1024)
        .spawn(move || {
            let env = env();
            for p in &deepest {
                let _ = p.run(&env);
            }
        })
        .unwrap();
    assert!(handle.join().is_ok());
}
