//! Go layouts: formatting and parsing with the reference time, Go's error texts.

use weft_time::{
    DATE_ONLY, Location, ParseError, RFC3339, RFC3339_NANO, STRING_LAYOUT, Time, TimeError,
};

fn utc(parts: [i64; 7]) -> Time {
    Time::date(parts, &Location::utc()).unwrap()
}

fn utc_string(t: &Time) -> String {
    t.in_location(Location::utc()).format(RFC3339)
}

#[test]
fn format_go_layouts() {
    let mst = Location::fixed("MST", -7 * 3600).unwrap();
    let t = Time::date([2006, 1, 2, 15, 4, 5, 123_456_789], &mst).unwrap();
    for (layout, want) in [
        (RFC3339, "2006-01-02T15:04:05-07:00"),
        (RFC3339_NANO, "2006-01-02T15:04:05.123456789-07:00"),
        (
            "Mon Jan _2 15:04:05 MST 2006",
            "Mon Jan  2 15:04:05 MST 2006",
        ),
        (
            "Monday, 02-Jan-06 15:04:05 MST",
            "Monday, 02-Jan-06 15:04:05 MST",
        ),
        ("January 2, 2006 3:04:05 PM", "January 2, 2006 3:04:05 PM"),
        ("03:04 pm", "03:04 pm"),
        ("2006-01-02 15:04:05.000", "2006-01-02 15:04:05.123"),
        ("15:04:05,000000", "15:04:05,123456"),
        ("05.999", "05.123"),
        (
            "-0700 -07 -07:00:00 -070000 Z0700",
            "-0700 -07 -07:00:00 -070000 -0700",
        ),
        ("002 __2 _2 1/2", "002   2  2 1/2"),
        ("Jan January Janx", "Jan January Janx"),
        ("Mon Monday Monx", "Mon Monday Monx"),
    ] {
        assert_eq!(t.format(layout), want, "{layout}");
    }
    let z = utc([2024, 12, 29, 0, 30, 0, 0]);
    assert_eq!(z.format(RFC3339), "2024-12-29T00:30:00Z");
    assert_eq!(z.format(RFC3339_NANO), "2024-12-29T00:30:00Z");
    assert_eq!(z.format("3:04PM Mon 002 MST"), "12:30AM Sun 364 UTC");
    assert_eq!(z.format("Z07:00:00 -07:00"), "Z +00:00");
    let unnamed = z.in_location(Location::fixed("", 5 * 3600 + 30 * 60).unwrap());
    assert_eq!(unnamed.format("15:04 MST"), "06:00 +0530");
    assert_eq!(unnamed.to_string(), "2024-12-29 06:00:00 +0530 +0530");
    assert_eq!(
        utc([2024, 12, 29, 0, 30, 0, 500]).to_string(),
        "2024-12-29 00:30:00.0000005 +0000 UTC"
    );
    let ancient = utc([-44, 3, 15, 12, 0, 0, 0]);
    assert_eq!(ancient.format("2006-01-02 06"), "-0044-03-15 44");
}

#[test]
fn parse_round_trips_through_format() {
    let ny = Location::load("America/New_York").unwrap();
    let times = [
        utc([2024, 2, 29, 23, 59, 59, 999_999_999]),
        utc([1999, 12, 31, 0, 0, 0, 0]),
        Time::date([2024, 7, 4, 9, 5, 7, 120_000_000], &ny).unwrap(),
        Time::date(
            [2024, 1, 15, 18, 30, 0, 0],
            &Location::fixed("IST", 19_800).unwrap(),
        )
        .unwrap(),
    ];
    for t in &times {
        for layout in [
            RFC3339_NANO,
            "2006-01-02T15:04:05.000000000-07:00:00",
            "Mon, 02 Jan 2006 15:04:05.999999999 -0700",
            "Monday January _2 2006 03:04:05.000000000 PM Z070000",
            "2006 002 15:04:05.999999999 Z0700",
            "20060102150405.000000000-0700",
        ] {
            let text = t.format(layout);
            let back =
                Time::parse(layout, &text, None).unwrap_or_else(|e| panic!("{layout} {text}: {e}"));
            assert_eq!(back, *t, "{layout} {text}");
            assert_eq!(back.format(layout), text, "{layout}");
        }
    }
    // the String form keeps the zone abbreviation when the location knows it
    let t = &times[2];
    let back = Time::parse(STRING_LAYOUT, &t.to_string(), Some(&ny)).unwrap();
    assert_eq!(
        (back.clone(), back.location().name()),
        (t.clone(), "America/New_York")
    );
    assert_eq!(back.format("MST"), "EDT");
}

#[test]
fn parse_zones_and_defaults() {
    let t = Time::parse(RFC3339, "2024-12-29T15:04:05Z", None).unwrap();
    assert_eq!((t.unix(), t.location().name()), (1_735_484_645, "UTC"));
    let t = Time::parse(RFC3339, "2024-12-29T15:04:05+02:00", None).unwrap();
    assert_eq!(t.unix(), 1_735_484_645 - 7200);
    assert_eq!(t.format("15:04 -07:00"), "15:04 +02:00");
    let t = Time::parse("2006-01-02", "2024-12-29", None).unwrap();
    assert_eq!(t.format(RFC3339), "2024-12-29T00:00:00Z");
    let t = Time::parse("15:04:05", "14:30:00", None).unwrap();
    assert_eq!(t.format(RFC3339), "0000-01-01T14:30:00Z");
    // in a location: wall time there
    let ny = Location::load("America/New_York").unwrap();
    let t = Time::parse("2006-01-02 15:04", "2024-12-29 14:30", Some(&ny)).unwrap();
    assert_eq!(utc_string(&t), "2024-12-29T19:30:00Z");
    // abbreviation known to the location
    let t = Time::parse("2006-01-02 15:04 MST", "2024-07-01 10:00 EDT", Some(&ny)).unwrap();
    assert_eq!(utc_string(&t), "2024-07-01T14:00:00Z");
    let t = Time::parse("2006-01-02 15:04 MST", "2024-07-01 10:00 EST", Some(&ny)).unwrap();
    assert_eq!(utc_string(&t), "2024-07-01T15:00:00Z");
    // unknown abbreviation: Go keeps the wall clock as UTC under a named zone
    let t = Time::parse("2006-01-02 15:04:05 MST", "2024-12-29 14:30:00 XYZ", None).unwrap();
    assert_eq!(
        (t.unix(), t.format("MST -0700")),
        (1_735_482_600, "XYZ +0000".into())
    );
    // fractional seconds the layout does not mention, 12-hour clocks, weekday names
    let t = Time::parse(
        "Mon Jan _2 3:04:05 pm 2006",
        "tue jan  2 12:04:05.25 am 2024",
        None,
    )
    .unwrap();
    assert_eq!(t.format(RFC3339_NANO), "2024-01-02T00:04:05.25Z");
    let t = Time::parse("06 002", "24 060", None).unwrap();
    assert_eq!(t.format(DATE_ONLY), "2024-02-29");
    let t = Time::parse("Jan _2", "Feb  9", None).unwrap();
    assert_eq!(t.format("01-02"), "02-09");
    let t = Time::parse("2006-01-02 15:04:05 MST", "2024-01-01 00:00:00 GMT+3", None).unwrap();
    assert_eq!(t.format("15:04 -0700"), "03:00 +0300");
}

#[test]
fn parse_failures_have_go_messages() {
    for (layout, value, msg) in [
        (
            RFC3339,
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
            "2024-02-30",
            "parsing time \"2024-02-30\": day out of range",
        ),
        (
            "2006-01-02",
            "2024-01-02 extra",
            "parsing time \"2024-01-02 extra\": extra text: \" extra\"",
        ),
        (
            "Jan 02",
            "Feb 00",
            "parsing time \"Feb 00\": day out of range",
        ),
        (
            "15:04",
            "25:00",
            "parsing time \"25:00\": hour out of range",
        ),
        (
            "15:04",
            "12:60",
            "parsing time \"12:60\": minute out of range",
        ),
        (
            "15:04:05",
            "12:00:61",
            "parsing time \"12:00:61\": second out of range",
        ),
        (
            "2006-01-02",
            "2024/01/02",
            "parsing time \"2024/01/02\" as \"2006-01-02\": cannot parse \"/01/02\" as \"-\"",
        ),
        ("3PM", "3XM", "cannot parse \"XM\" as \"PM\""),
        ("Jan", "Foo", "cannot parse \"Foo\" as \"Jan\""),
        ("-07:00", "+0100", "cannot parse \"+0100\" as \"-07:00\""),
        ("-07:00", "+25:00", "time zone offset hour out of range"),
        ("2006 002", "2023 366", "day-of-year out of range"),
        (
            "2006-01-02 002",
            "2024-01-02 003",
            "day-of-year does not match day",
        ),
        ("MST", "ab", "cannot parse \"ab\" as \"MST\""),
        (
            "15:04:05.000",
            "10:00:00.1",
            "cannot parse \".1\" as \".000\"",
        ),
        ("2006", "é", "cannot parse \"\\xc3\\xa9\" as \"2006\""),
    ] {
        let err = Time::parse(layout, value, None).unwrap_err();
        assert!(
            matches!(err, TimeError::Parse(_)),
            "{layout} {value}: {err}"
        );
        assert!(err.to_string().contains(msg), "{layout} {value}: {err}");
    }
}

#[test]
fn parse_errors_are_typed() {
    let err = Time::parse("2006-01-02", "2024-13-01", None).unwrap_err();
    assert_eq!(
        err,
        TimeError::Parse(ParseError::OutOfRange {
            value: "2024-13-01".into(),
            field: "month"
        })
    );
    let err = Time::parse("01 002", "02 003", None).unwrap_err();
    assert_eq!(
        err.to_string(),
        "parsing time \"02 003\": day-of-year does not match month"
    );
    // an offset of 24 hours passes Go's range check but makes no zone
    let err = Time::parse("-07:00", "+24:00", None).unwrap_err();
    assert!(matches!(err, TimeError::Location(_)), "{err}");
    assert_eq!(
        err.to_string(),
        "zone offset 86400 out of range (must be under 24 hours)"
    );
}
