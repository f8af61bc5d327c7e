//! Go durations: parsing with Go's semantics and error texts, and Go's String form.

use std::time::Duration;

use weft_time::{
    DurationError, HOUR, MICROSECOND, MILLISECOND, MINUTE, NANOSECOND, SECOND, format_duration,
    parse_duration, parse_std_duration,
};

#[test]
fn go_duration_strings_parse() {
    for (text, ns) in [
        ("0", 0),
        ("5s", 5 * SECOND),
        ("+5s", 5 * SECOND),
        ("-2m", -2 * MINUTE),
        ("1h30m", 90 * MINUTE),
        ("1.5s", 1_500_000_000),
        (".5s", 500_000_000),
        ("20ms", 20 * MILLISECOND),
        ("3us", 3_000),
        ("3µs", 3_000),
        ("3μs", 3_000),
        ("7ns", 7),
        ("1h0.5m", HOUR + 30 * SECOND),
        ("2h45m30.5s", 2 * HOUR + 45 * MINUTE + 30_500_000_000),
        ("9223372036854775807ns", i64::MAX),
        ("-9223372036854775808ns", i64::MIN),
    ] {
        assert_eq!(parse_duration(text).unwrap(), ns, "{text}");
    }
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
        let err = parse_duration(text).unwrap_err();
        assert!(err.to_string().starts_with(msg), "{text}: {err}");
    }
}

#[test]
fn errors_are_typed_and_quote_like_go() {
    assert_eq!(
        parse_duration("100"),
        Err(DurationError::MissingUnit { text: "100".into() })
    );
    assert_eq!(
        parse_duration("3x"),
        Err(DurationError::UnknownUnit {
            unit: "x".into(),
            text: "3x".into()
        })
    );
    assert_eq!(
        parse_duration("5é").unwrap_err().to_string(),
        "time: unknown unit \"\\xc3\\xa9\" in duration \"5\\xc3\\xa9\""
    );
    assert_eq!(
        parse_duration("99999999999999999999h").unwrap_err(),
        DurationError::Invalid {
            text: "99999999999999999999h".into()
        }
    );
}

#[test]
fn constants_are_go_units() {
    assert_eq!(NANOSECOND, 1);
    assert_eq!(MICROSECOND, 1_000 * NANOSECOND);
    assert_eq!(MILLISECOND, 1_000 * MICROSECOND);
    assert_eq!(SECOND, 1_000 * MILLISECOND);
    assert_eq!(MINUTE, 60 * SECOND);
    assert_eq!(HOUR, 3_600_000_000_000);
}

#[test]
fn durations_print_in_go_form() {
    for (ns, text) in [
        (0, "0s"),
        (1, "1ns"),
        (1_100, "1.1µs"),
        (250 * MILLISECOND, "250ms"),
        (1_500_000_000, "1.5s"),
        (HOUR + 30 * MINUTE + 45 * SECOND, "1h30m45s"),
        (HOUR, "1h0m0s"),
        (-2 * MINUTE, "-2m0s"),
        (90 * SECOND + 1, "1m30.000000001s"),
        (i64::MIN, "-2562047h47m16.854775808s"),
    ] {
        assert_eq!(format_duration(ns), text);
        if ns != i64::MIN {
            assert_eq!(parse_duration(text).unwrap(), ns, "{text}");
        }
    }
}

#[test]
fn std_durations_are_non_negative() {
    let d = |s: &str| parse_std_duration(s);
    assert_eq!(d("30s"), Ok(Duration::from_secs(30)));
    assert_eq!(d("1m30s"), Ok(Duration::from_secs(90)));
    assert_eq!(d("250ms"), Ok(Duration::from_millis(250)));
    assert_eq!(d("1.5h"), Ok(Duration::from_secs(5400)));
    assert_eq!(d("1.5s"), Ok(Duration::from_millis(1500)));
    assert_eq!(d("0"), Ok(Duration::ZERO));
    assert_eq!(d("-0s"), Ok(Duration::ZERO));
    assert_eq!(
        d("9223372036854775807ns"),
        Ok(Duration::from_nanos(i64::MAX as u64))
    );
    let err = d("-1s").unwrap_err();
    assert_eq!(err, DurationError::Negative { text: "-1s".into() });
    assert_eq!(err.to_string(), "duration \"-1s\" must not be negative");
    assert!(matches!(d("10"), Err(DurationError::MissingUnit { .. })));
    assert!(matches!(d("5x"), Err(DurationError::UnknownUnit { .. })));
    assert!(matches!(d(""), Err(DurationError::Invalid { .. })));
    assert!(matches!(d("-"), Err(DurationError::Invalid { .. })));
}
