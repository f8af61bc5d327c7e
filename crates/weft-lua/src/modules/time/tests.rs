//! Tests of the Lua `time` binding: the module table, argument forms, error kinds and
//! messages as Lua sees them. Go semantics are tested in weft-time.

use super::*;

fn lua() -> Lua {
    let lua = Lua::new();
    errors::install(&lua).unwrap();
    lua.globals().set("time", module(&lua).unwrap()).unwrap();
    lua
}

fn eval<T: mlua::FromLuaMulti>(lua: &Lua, code: &str) -> T {
    lua.load(code).eval().unwrap()
}

#[test]
fn constants() {
    let lua = lua();
    let (ns, h, rfc, dec, sat): (i64, i64, String, i64, i64) = eval(
        &lua,
        "return time.NANOSECOND, time.HOUR, time.RFC3339, time.DECEMBER, time.SATURDAY",
    );
    assert_eq!(
        (ns, h, rfc.as_str(), dec, sat),
        (1, 3_600_000_000_000, RFC3339, 12, 6)
    );
    let (kitchen, nano, utc, local): (String, String, String, String) = eval(
        &lua,
        "return time.KITCHEN, time.STAMP_NANO, time.utc:string(), tostring(time.localtz)",
    );
    assert_eq!(kitchen, "3:04PM");
    assert_eq!(nano, "Jan _2 15:04:05.000000000");
    assert_eq!((utc.as_str(), local.as_str()), ("UTC", "Local"));
}

#[test]
fn duration_failures_are_invalid_with_go_messages() {
    let lua = lua();
    for (text, msg) in [
        ("", "time: invalid duration \"\""),
        ("-", "time: invalid duration \"-\""),
        ("s", "time: invalid duration \"s\""),
        (".s", "time: invalid duration \".s\""),
        ("100", "time: missing unit in duration \"100\""),
        ("3x", "time: unknown unit \"x\" in duration \"3x\""),
        ("9223372036854775808ns", "time: invalid duration"),
        ("3000000h", "time: invalid duration"),
    ] {
        let err =
            parse_duration_arg(&LuaValue::String(lua.create_string(text).unwrap())).unwrap_err();
        assert!(err.message().starts_with(msg), "{text}: {err}");
        assert_eq!(err.kind(), weft_core::ErrorKind::Invalid);
    }
    assert_eq!(Duration(i64::MIN).to_string(), "-2562047h47m16.854775808s");
    assert_eq!(Duration(90 * SECOND + 1).to_string(), "1m30.000000001s");
    assert_eq!(Duration(5).to_std(), std::time::Duration::from_nanos(5));
    assert_eq!(Duration(-5).to_std(), std::time::Duration::ZERO);
}

#[test]
fn parse_failures_are_invalid_with_go_messages() {
    let lua = lua();
    for (layout, value, msg) in [
        (
            "2006-01-02T15:04:05Z07:00",
            "invalid",
            "parsing time \"invalid\" as \"2006-01-02T15:04:05Z07:00\": cannot parse \"invalid\" as \"2006\"",
        ),
        (
            "2006-01-02",
            "2024-13-01",
            "parsing time \"2024-13-01\": month out of range",
        ),
        (
            "2006-01-02",
            "2024-01-02 extra",
            "parsing time \"2024-01-02 extra\": extra text: \" extra\"",
        ),
        ("-07:00", "+25:00", "time zone offset hour out of range"),
        (
            "2006-01-02 002",
            "2024-01-02 003",
            "day-of-year does not match day",
        ),
        (
            "-07:00",
            "+24:00",
            "zone offset 86400 out of range (must be under 24 hours)",
        ),
        ("2006", "é", "cannot parse \"\\xc3\\xa9\" as \"2006\""),
    ] {
        let f: mlua::Function = lua
            .load("return function(l, v) local t, err = time.parse(l, v) assert(t == nil) return err:kind(), err:message(), err:retryable() end")
            .eval()
            .unwrap();
        let (kind, message, retryable): (String, String, Option<bool>) =
            f.call((layout, value)).unwrap();
        assert_eq!(kind, "Invalid", "{layout} {value}");
        assert_eq!(retryable, Some(false), "{layout} {value}");
        assert!(message.contains(msg), "{layout} {value}: {message}");
    }
}

#[test]
fn lua_sees_duration_failures_as_not_retryable() {
    let lua = lua();
    let (value, kind, retryable): (LuaValue, String, Option<bool>) = eval(
        &lua,
        "local d, err = time.parse_duration('3x') return d, err:kind(), err:retryable()",
    );
    assert_eq!(value, LuaValue::Nil);
    assert_eq!((kind.as_str(), retryable), ("Invalid", Some(false)));
}

#[test]
fn duration_arguments_in_every_form() {
    let lua = lua();
    let (a, b, c, d): (i64, i64, i64, i64) = eval(
        &lua,
        "local d = time.parse_duration('1h30m45s500ms')
         return d:nanoseconds(), time.parse_duration(5 * time.SECOND):milliseconds(),
                time.parse_duration(1.5e3):nanoseconds(), time.parse_duration(d):microseconds()",
    );
    assert_eq!(
        (a, b, c, d),
        (5_445_500_000_000, 5_000, 1_500, 5_445_500_000)
    );
    let (s, m, h): (f64, f64, f64) = eval(
        &lua,
        "local d = time.parse_duration('1h30m45s500ms') return d:seconds(), d:minutes(), d:hours()",
    );
    assert_eq!(s, 5445.5);
    assert!((m - 90.758_333).abs() < 1e-6 && (h - 1.512_638).abs() < 1e-6);
    let (kind, msg): (String, String) = eval(
        &lua,
        "local d, err = time.parse_duration('abc') assert(d == nil) return err:kind(), err:message()",
    );
    assert_eq!(kind, "Invalid");
    assert_eq!(msg, "time: invalid duration \"abc\"");
    for bad in ["{}", "true", "nil", "0/0", "1e300", "time.utc"] {
        let kind: String = eval(
            &lua,
            &format!(
                "local d, err = time.parse_duration({bad}) assert(d == nil) return err:kind()"
            ),
        );
        assert_eq!(kind, "Invalid", "{bad}");
    }
}

#[test]
fn duration_metamethods() {
    let lua = lua();
    let (text, eq, lt, le, sum, diff, neg): (String, bool, bool, bool, String, String, String) =
        eval(
            &lua,
            "local a, b = time.parse_duration('1s'), time.parse_duration('1500ms')
             return tostring(a), a == time.parse_duration(time.SECOND), a < b, b <= b,
                    tostring(a + b), tostring(a - '250ms'), tostring(-a)",
        );
    assert_eq!(text, "1s");
    assert!(eq && lt && le);
    assert_eq!(
        (sum.as_str(), diff.as_str(), neg.as_str()),
        ("2.5s", "750ms", "-1s")
    );
    let err = lua
        .load("return time.parse_duration('1s') + {}")
        .exec()
        .unwrap_err();
    assert_eq!(
        errors::from_mlua(&err).kind(),
        weft_core::ErrorKind::Invalid
    );
    let err = lua
        .load("local d = time.parse_duration(9223372036854775807) return d + d")
        .exec()
        .unwrap_err();
    assert!(err.to_string().contains("duration overflow"), "{err}");
}

#[test]
fn time_methods_from_lua() {
    let lua = lua();
    let (y, m, d, h, mi, s, ns, wd, yd): (i64, i64, i64, i64, i64, i64, i64, i64, i64) = eval(
        &lua,
        "local t = time.date(2024, time.DECEMBER, 25, 10, 30, 15, 42, time.utc)
         local y, m, d = t:date()
         local h, mi, s = t:clock()
         assert(y == t:year() and m == t:month() and d == t:day())
         assert(h == t:hour() and mi == t:minute() and s == t:second())
         return y, m, d, h, mi, s, t:nanosecond(), t:weekday(), t:year_day()",
    );
    assert_eq!(
        (y, m, d, h, mi, s, ns, wd, yd),
        (2024, 12, 25, 10, 30, 15, 42, 3, 360)
    );
    let (rfc, unix, nano, zero, not_zero): (String, i64, i64, bool, bool) = eval(
        &lua,
        "local t = time.unix(1703862245, 500000000):utc()
         return t:format_rfc3339(), t:unix(), t:unix_nano(),
                time.date(1, 1, 1, 0, 0, 0, 0, time.utc):is_zero(), t:is_zero()",
    );
    assert_eq!(rfc, "2023-12-29T15:04:05Z");
    assert_eq!((unix, nano), (1_703_862_245, 1_703_862_245_500_000_000));
    assert!(zero && !not_zero);
    let (day, diff, later, before, after, equal): (String, f64, String, bool, bool, bool) = eval(
        &lua,
        "local t = time.date(2024, 1, 31, 12, 0, 0, 0, time.utc)
         local u = t:add('24h')
         return t:add_date(0, 1, 0):format(time.DATE_ONLY), u:sub(t):hours(),
                t:add(5 * time.MINUTE):add(time.parse_duration('1s')):format(time.TIME_ONLY),
                t:before(u), u:after(t), t:equal(t:in_location(time.fixed_zone('X', 3600)))",
    );
    assert_eq!(
        (day.as_str(), diff, later.as_str()),
        ("2024-03-02", 24.0, "12:05:01")
    );
    assert!(before && after && equal);
    let (eq, lt, le, text): (bool, bool, bool, String) = eval(
        &lua,
        "local a = time.unix(100, 0) local b = time.unix(200, 0)
         return a == time.unix(100, 0), a < b, b <= b, tostring(a:utc())",
    );
    assert!(eq && lt && le);
    assert_eq!(text, "1970-01-01 00:01:40 +0000 UTC");
}

#[test]
fn locations_from_lua() {
    let lua = lua();
    let (tokyo, ny_name, ny_time, fixed, utc_name, local): (
        String,
        String,
        String,
        String,
        String,
        String,
    ) = eval(
        &lua,
        "local t = time.date(2024, 1, 15, 12, 0, 0, 0, time.utc)
         local tokyo = assert(time.load_location('Asia/Tokyo'))
         local ny = assert(time.load_location('America/New_York'))
         local ist = time.fixed_zone('IST', 5*3600 + 30*60)
         return t:in_location(tokyo):format(time.RFC1123Z), ny:string(),
                t:in_location(ny):format('15:04 MST'), t:in_location(ist):format(time.RFC822),
                t:in_location(tokyo):utc():location():string(),
                t:in_local():location():string()",
    );
    assert_eq!(tokyo, "Mon, 15 Jan 2024 21:00:00 +0900");
    assert_eq!(
        (ny_name.as_str(), ny_time.as_str()),
        ("America/New_York", "07:00 EST")
    );
    assert_eq!(fixed, "15 Jan 24 17:30 IST");
    assert_eq!((utc_name.as_str(), local.as_str()), ("UTC", "Local"));
    let (empty, unknown, kind_empty, kind_unknown, msg): (bool, bool, String, String, String) =
        eval(
            &lua,
            "local a, e1 = time.load_location('')
             local b, e2 = time.load_location('Mars/Olympus')
             return a == nil, b == nil, e1:kind(), e2:kind(), e2:message()",
        );
    assert!(empty && unknown);
    assert_eq!(
        (kind_empty.as_str(), kind_unknown.as_str()),
        ("Invalid", "NotFound")
    );
    assert_eq!(msg, "unknown time zone Mars/Olympus");
    let (named_utc, named_local, eq): (String, String, bool) = eval(
        &lua,
        "return time.load_location('UTC'):string(), time.load_location('Local'):string(),
                time.load_location('UTC') == time.utc",
    );
    assert_eq!((named_utc.as_str(), named_local.as_str()), ("UTC", "Local"));
    assert!(eq);
    let kinds: (String, String, String) = eval(
        &lua,
        "local _, a = time.fixed_zone('X', 86400)
         local _, b = time.fixed_zone('X', 1.5)
         local _, c = time.load_location(5)
         return a:kind(), b:kind(), c:kind()",
    );
    assert_eq!(
        kinds,
        ("Invalid".into(), "Invalid".into(), "Invalid".into())
    );
}

#[test]
fn constructors_return_nil_err_on_bad_input() {
    let lua = lua();
    for call in [
        "time.parse(time.RFC3339, 'invalid')",
        "time.parse(5, '2024')",
        "time.parse('2006', '2024', 'UTC')",
        "time.date(2024, 1)",
        "time.date(2024, 1.5, 1)",
        "time.date(2024, 1, 1, 0, 0, 0, 0, 'UTC')",
        "time.date(9007199254740992, 1, 1)",
        "time.unix('x', 0)",
        "time.unix(9007199254740992, 0)",
        "time.unix(0, 1.5)",
    ] {
        let (is_nil, kind): (bool, String) = eval(
            &lua,
            &format!("local v, err = {call} return v == nil, err:kind()"),
        );
        assert!(is_nil, "{call}");
        assert_eq!(kind, "Invalid", "{call}");
    }
    let (ok, in_ny): (bool, String) = eval(
        &lua,
        "local ny = time.load_location('America/New_York')
         local t, err = time.parse('2006-01-02 15:04', '2024-12-29 14:30', ny)
         return err == nil, t:utc():format(time.DATE_TIME)",
    );
    assert!(ok);
    assert_eq!(in_ny, "2024-12-29 19:30:00");
}

#[test]
fn methods_raise_invalid_on_bad_arguments() {
    let lua = lua();
    for call in [
        "t:add({})",
        "t:add('soon')",
        "t:sub(5)",
        "t:after('x')",
        "t:format(nil)",
        "t:in_location('UTC')",
        "t:round(true)",
        "t:add_date('a', 0, 0)",
        "t:add_date(300000, 0, 0)",
        "t < 5",
    ] {
        let err = lua
            .load(format!("local t = time.unix(0, 0) return {call}"))
            .exec()
            .unwrap_err();
        let err = errors::from_mlua(&err);
        assert_eq!(err.kind(), weft_core::ErrorKind::Invalid, "{call}: {err}");
    }
    let caught: bool = eval(
        &lua,
        "local ok, e = pcall(function() return time.unix(0, 0):add('x') end)
         return not ok and errors.is(e, errors.INVALID)",
    );
    assert!(caught);
}

#[test]
fn round_and_truncate_from_lua() {
    let lua = lua();
    let s: String = eval(
        &lua,
        "local t = time.date(2024, 5, 6, 10, 37, 29, 0, time.utc)
         return t:round(time.parse_duration('15m')):format(time.TIME_ONLY)",
    );
    assert_eq!(s, "10:30:00");
}

#[test]
fn extreme_values_do_not_panic() {
    let lua = lua();
    for code in [
        "time.unix(-9223372036854775807 - 1, -9223372036854775807 - 1)",
        "time.date(-9223372036854775807 - 1, -9223372036854775807 - 1, 1)",
        "time.unix(0, 0):add_date(9223372036854775807, 9223372036854775807, 9223372036854775807)",
        "time.parse('2006-01-02 15:04:05.000000000000000', '2006-01-02 15:04:05.999999999999999')",
        "time.parse('__2 002 Z07:00:00 -070000', '   1 001 +99:99:99 +999999')",
        "time.parse_duration('99999999999999999999h')",
        "time.parse_duration(-1e19)",
    ] {
        let _ = lua
            .load(format!("return pcall(function() return {code} end)"))
            .exec();
    }
}

#[tokio::test(start_paused = true)]
async fn sleep_awaits_the_duration() {
    let lua = lua();
    let sleep: mlua::Function = lua.load("return time.sleep").eval().unwrap();
    let start = tokio::time::Instant::now();
    sleep.call_async::<()>("1.5s").await.unwrap();
    assert_eq!(start.elapsed(), std::time::Duration::from_millis(1500));
    sleep.call_async::<()>(250 * MILLISECOND).await.unwrap();
    assert_eq!(start.elapsed(), std::time::Duration::from_millis(1750));
    let d: mlua::Value = lua.load("return time.parse_duration('1m')").eval().unwrap();
    sleep.call_async::<()>(d).await.unwrap();
    assert_eq!(start.elapsed(), std::time::Duration::from_millis(61_750));
    // zero and negative return at once
    sleep.call_async::<()>(-5).await.unwrap();
    sleep.call_async::<()>("0s").await.unwrap();
    assert_eq!(start.elapsed(), std::time::Duration::from_millis(61_750));
    let err = sleep.call_async::<()>("soon").await.unwrap_err();
    assert_eq!(
        errors::from_mlua(&err).kind(),
        weft_core::ErrorKind::Invalid
    );
    let err = sleep.call_async::<()>(true).await.unwrap_err();
    assert_eq!(
        errors::from_mlua(&err).kind(),
        weft_core::ErrorKind::Invalid
    );
}

#[test]
fn now_is_local_and_recent() {
    let t = Time::now();
    assert_eq!(t.location().name(), "Local");
    assert!(t.unix() > 1_700_000_000);
    assert!(t.sub(&Time::now().0) <= 0);
}
