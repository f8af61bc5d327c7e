//! Bad input: a clear `SyntaxError` at a line and column, saying what was expected; never
//! a panic, whatever the size or depth.

use weft_lua_types::{SyntaxError, erase, parse_decl, parse_type};

/// The error erasing `src`, as `line:column: message`.
fn error(src: &str) -> String {
    match erase(src) {
        Ok(out) => panic!("no error for {src:?}:\n{}", out.code),
        Err(e) => e.to_string(),
    }
}

/// Asserts the error of `src` starts with `at` (`line:column:`) and contains `says`.
fn fails(src: &str, at: &str, says: &str) {
    let message = error(src);
    assert!(
        message.starts_with(at) && message.contains(says),
        "{src:?} gave {message:?}, wanted {at} … {says}"
    );
}

#[test]
fn display_is_line_column_message() {
    let e = SyntaxError {
        line: 3,
        column: 7,
        message: "expected a type".into(),
    };
    assert_eq!(e.to_string(), "3:7: expected a type");
}

#[test]
fn unterminated_generics() {
    fails(
        "local function f<T(x) end",
        "1:19:",
        "unterminated generic parameter list, expected '>'",
    );
    fails(
        "function M.f<T, U\n(x) end",
        "2:1:",
        "unterminated generic parameter list, expected '>' (to close the one at 1:13)",
    );
    fails(
        "local function f<>(x) end",
        "1:18:",
        "expected a generic parameter name, found '>'",
    );
    fails(
        "local x: Result<number, string = 1",
        "1:32:",
        "unterminated type argument list, expected '>'",
    );
}

#[test]
fn casts_without_types() {
    fails(
        "local x = y ::",
        "1:15:",
        "expected a type after '::', found <eof>",
    );
    fails(
        "local x = y :: = 1",
        "1:16:",
        "expected a type after '::', found '='",
    );
    fails("local x = y as {", "1:17:", "expected a type, found <eof>");
    fails(
        "local x = y as -",
        "1:17:",
        "expected a number after '-' in a literal type, found <eof>",
    );
    fails(
        "local x: = 1",
        "1:10:",
        "expected a type after ':', found '='",
    );
    fails(
        "function f(): end",
        "1:15:",
        "expected a type after ':', found 'end'",
    );
}

#[test]
fn validators_on_the_wrong_type() {
    fails(
        "local s: string @min(0) = 'x'",
        "1:17:",
        "validator @min applies to number, not string",
    );
    fails(
        "local n: number @pattern(\"x\") = 1",
        "1:17:",
        "validator @pattern applies to string, not number",
    );
    fails(
        "local b: boolean @min_len(1) = true",
        "1:18:",
        "validator @min_len applies to string or array, not boolean",
    );
    fails(
        "type R = {a: string} @max(3)",
        "1:22:",
        "validator @max applies to number, not a record",
    );
    fails(
        "local m: {[string]: number} @max_len(3) = {}",
        "1:29:",
        "validator @max_len applies to string or array, not a map",
    );
    fails(
        "local s: string? @max(1) = nil",
        "1:18:",
        "applies to number, not string",
    );
}

#[test]
fn unknown_and_malformed_validators() {
    fails(
        "local x: number @between(1, 2) = 1",
        "1:18:",
        "unknown validator @between (expected @min, @max, @min_len, @max_len or @pattern)",
    );
    fails(
        "local x: number @min = 1",
        "1:22:",
        "expected '(' after @min, found '='",
    );
    fails(
        "local x: number @min('a') = 1",
        "1:22:",
        "expected a number as @min's argument",
    );
    fails(
        "local x: string @min_len(-1) = 'a'",
        "1:26:",
        "expected a non-negative integer as @min_len's argument",
    );
    fails(
        "local x: string @min_len(1.5) = 'a'",
        "1:26:",
        "non-negative integer",
    );
    fails(
        "local x: string @pattern(1) = 'a'",
        "1:26:",
        "expected a string as @pattern's argument",
    );
    fails(
        "local x: number @min(1 = 1",
        "1:24:",
        "expected ')' to close @min(",
    );
    fails(
        "local x: number @ = 1",
        "1:19:",
        "expected a validator name after '@'",
    );
}

#[test]
fn unterminated_records_and_lists() {
    fails(
        "type R = {a: string, b: number",
        "1:31:",
        "unterminated table type, expected '}' (to close the one at 1:10), found <eof>",
    );
    fails(
        "type R = {a: string\nlocal x = 1",
        "2:1:",
        "unterminated table type, expected '}' (to close the one at 1:10)",
    );
    fails("type R = {a string}", "1:13:", "unterminated table type");
    fails(
        "type R = {[string] number}",
        "1:20:",
        "expected ':' after the map's key type",
    );
    fails(
        "local f: (number, string = 1",
        "1:26:",
        "unterminated parameter list, expected ')'",
    );
    fails(
        "local f: (number, string) = 1",
        "1:10:",
        "expected '->' after this parameter list",
    );
    fails(
        "local f: () -> = 1",
        "1:16:",
        "expected a return type after '->', found '='",
    );
    fails(
        "type T = <U>(U)",
        "1:16:",
        "expected '->' after a generic function type's parameters",
    );
}

#[test]
fn declarations() {
    fails(
        "type T",
        "1:7:",
        "expected '=' after the type's name, found <eof>",
    );
    fails(
        "type T number",
        "1:8:",
        "expected '=' after the type's name, found 'number'",
    );
    fails(
        "type T = ",
        "1:10:",
        "expected a type after '=', found <eof>",
    );
    fails(
        "export type T = number | ",
        "1:26:",
        "expected a type, found <eof>",
    );
    fails(
        "type T = number<string>",
        "1:10:",
        "built-in type 'number' takes no type arguments",
    );
    fails(
        "type T = lib.",
        "1:14:",
        "expected a name after '.' in a type name",
    );
    fails(
        "type T = \"\\q\"",
        "1:10:",
        "an invalid escape sequence in a literal type",
    );
}

#[test]
fn lua_errors_after_type_syntax_are_reported() {
    fails(
        "local x: number = 1\nlocal y = = 2",
        "2:11:",
        "expected an expression, found '='",
    );
    fails(
        "local function f(a: number)\n  return a\n",
        "3:1:",
        "expected 'end' (to close 'function' at line 1), found <eof>",
    );
    fails(
        "local x: number = 1\nlocal s = 'open",
        "2:11:",
        "an unfinished string",
    );
    fails(
        "local x = a != b",
        "1:13:",
        "'!=' is not Lua: not-equal is '~='",
    );
    fails(
        "local x: string = 'é' .. ` ",
        "1:26:",
        "a character Lua has no token for",
    );
}

#[test]
fn deep_types_fail_cleanly() {
    let deep = format!(
        "local x: {}number{} = 1",
        "{".repeat(100_000),
        "}".repeat(100_000)
    );
    fails(
        &deep,
        "1:110:",
        "type nested too deeply (more than 100 levels)",
    );
    let deep = format!(
        "local x: {}number{} = 1",
        "(".repeat(100_000),
        ")".repeat(100_000)
    );
    fails(&deep, "1:110:", "type nested too deeply");
    let deep = format!("type T = {}", "() -> ".repeat(100_000));
    fails(&deep, "", "type nested too deeply");
    let deep = format!("type T = A{}", "<A".repeat(100_000));
    fails(&deep, "", "type nested too deeply");
    let deep = format!("type T = number{}", "? @min(1)".repeat(100_000));
    fails(&deep, "", "type nested too deeply");
    // Right at the limit: accepted.
    let ok = format!("local x: {}number{} = 1", "{".repeat(100), "}".repeat(100));
    erase(&ok).unwrap();
}

#[test]
fn deep_lua_in_typed_code_fails_cleanly() {
    let deep = format!(
        "local x: number = {}1{}",
        "(".repeat(100_000),
        ")".repeat(100_000)
    );
    fails(&deep, "1:", "too many nested syntax levels (more than 200)");
    let deep = format!("local x: number = 1\n{}", "function f() ".repeat(100_000));
    fails(&deep, "2:", "too many nested syntax levels");
}

#[test]
fn a_megabyte_of_deep_types() {
    // Lines of types 90 deep: passes, and fast.
    let line = format!("local x: {}number{} = 1\n", "{".repeat(90), "}".repeat(90));
    let src = line.repeat((1 << 20) / line.len());
    let out = erase(&src).unwrap();
    assert_eq!(out.code.lines().count(), src.lines().count());
    // One type a megabyte deep: a clean error.
    let src = format!("type T = {}", "{".repeat(1 << 20));
    fails(&src, "1:110:", "type nested too deeply");
    // A megabyte of unterminated records on separate lines.
    let src = "type T = {a: {b: {c: string}\n".repeat((1 << 20) / 30);
    fails(&src, "2:1:", "unterminated table type");
}

#[test]
fn bad_decl_texts() {
    let cases = [
        ("", "1:1:", "expected a type name or '=', found <eof>"),
        (
            "T",
            "1:2:",
            "expected '=' after the type's name, found <eof>",
        ),
        ("T = ", "1:5:", "expected a type after '=', found <eof>"),
        ("= ", "1:3:", "expected a type after '='"),
        (
            "T<U = U",
            "1:5:",
            "unterminated generic parameter list, expected '>'",
        ),
        ("T<> = U", "1:3:", "expected a generic parameter name"),
        ("T = {a: string", "1:15:", "unterminated table type"),
        (
            "T = string @min(1)",
            "1:12:",
            "validator @min applies to number, not string",
        ),
        ("T = number @nope(1)", "1:13:", "unknown validator @nope"),
        (
            "T = number number",
            "1:12:",
            "expected the end of the type, found 'number'",
        ),
        ("T = number\n= x", "2:1:", "expected the end of the type"),
        (
            "T = 'open",
            "1:5:",
            "expected a type after '=', found an unfinished string",
        ),
        ("1 = number", "1:1:", "expected a type name or '='"),
    ];
    for (text, at, says) in cases {
        let message = parse_decl(text).unwrap_err().to_string();
        assert!(
            message.starts_with(at) && message.contains(says),
            "{text:?} gave {message:?}"
        );
    }
    let deep = format!("= {}", "{".repeat(10_000));
    assert!(
        parse_decl(&deep)
            .unwrap_err()
            .message
            .contains("too deeply")
    );
    assert!(
        parse_type("number |")
            .unwrap_err()
            .to_string()
            .starts_with("1:9: expected a type")
    );
    assert!(
        parse_type("")
            .unwrap_err()
            .to_string()
            .starts_with("1:1: expected a type, found <eof>")
    );
}

#[test]
fn columns_count_characters() {
    // `é` and `ü` are two bytes each; the column counts characters.
    fails(
        "local x: number = 1 local é = 1",
        "1:27:",
        "expected a name, found a character Lua has no token for",
    );
    fails(
        "local x: string = 'üü' local y: string @min(1) = 'a'",
        "1:40:",
        "validator @min applies to number, not string",
    );
}

#[test]
fn nesting_at_the_limits_fits_the_stack() {
    // The deepest shapes the limits allow (199 Lua levels around a type 100 deep), on a
    // 2 MiB stack as tokio's workers have, in a debug build (release needs ~250 KiB).
    let ty = format!("{}number{}", "{".repeat(99), "}".repeat(99));
    let shapes = [
        format!("local x = {}y :: {ty}{}", "f(".repeat(197), ")".repeat(197)),
        format!("local x = {}y :: {ty}{}", "(".repeat(197), ")".repeat(197)),
        format!("local x = {}y :: {ty}{}", "t[".repeat(197), "]".repeat(197)),
        format!("local t = {}y :: {ty}{}", "{".repeat(197), "}".repeat(197)),
        format!(
            "{}local x: {ty} = 1{}",
            "if x then ".repeat(198),
            " end".repeat(198)
        ),
        format!(
            "local f = {}1{}",
            "function(a: number) return ".repeat(197),
            " end".repeat(197)
        ),
        format!(
            "local x = {}y :: {}number{}",
            "f(".repeat(197),
            "(".repeat(99),
            ")".repeat(296)
        ),
        format!(
            "local x = {}y :: {}(){}",
            "f(".repeat(197),
            "() -> ".repeat(99),
            ")".repeat(197)
        ),
    ];
    let worker = std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(move || {
            for shape in &shapes {
                let out = erase(shape).unwrap_or_else(|e| panic!("{e}: {}", &shape[..60]));
                assert!(out.typed);
                let deeper = format!("local z: number = 1 do do {shape} end end");
                let message = erase(&deeper).unwrap_err().message;
                assert!(
                    message.contains("too many nested syntax levels (more than 200)"),
                    "{message}"
                );
            }
            let deeper_type = format!(
                "local x = {}y :: {{{{{ty}}}}}{}",
                "f(".repeat(197),
                ")".repeat(197)
            );
            assert!(
                erase(&deeper_type)
                    .unwrap_err()
                    .message
                    .contains("type nested too deeply (more than 100 levels)")
            );
        });
    worker.unwrap().join().unwrap();
}
