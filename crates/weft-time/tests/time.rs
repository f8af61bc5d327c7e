//! Instants: Go's `Date` normalization, zone transitions, rounding and the range limits.

use weft_time::{HOUR, Location, MAX_YEAR, MINUTE, RFC3339, RFC3339_NANO, SECOND, Time, TimeError};

fn utc(parts: [i64; 7]) -> Time {
    Time::date(parts, &Location::utc()).unwrap()
}

#[test]
fn date_normalizes_and_handles_zone_transitions() {
    assert_eq!(
        utc([2024, 13, 1, 0, 0, 0, 0]).format(RFC3339),
        "2025-01-01T00:00:00Z"
    );
    assert_eq!(
        utc([2024, 1, 0, 0, 0, 0, 0]).format(RFC3339),
        "2023-12-31T00:00:00Z"
    );
    assert_eq!(
        utc([2024, 3, 1, -1, 0, 0, 0]).format(RFC3339),
        "2024-02-29T23:00:00Z"
    );
    assert_eq!(
        utc([2024, 1, 1, 0, 0, 0, -1]).format(RFC3339_NANO),
        "2023-12-31T23:59:59.999999999Z"
    );
    let ny = Location::load("America/New_York").unwrap();
    // spring forward: 02:30 does not exist; Go's lookup lands on 01:30 EST
    let gap = Time::date([2024, 3, 10, 2, 30, 0, 0], &ny).unwrap();
    assert_eq!(gap.format("15:04 MST"), "01:30 EST");
    // fall back: 01:30 happens twice, Go picks the first (EDT)
    let twice = Time::date([2024, 11, 3, 1, 30, 0, 0], &ny).unwrap();
    assert_eq!(twice.format("15:04 MST"), "01:30 EDT");
    assert!(Time::date([i64::MAX, 1, 1, 0, 0, 0, 0], &ny).is_err());
    assert!(Time::date([2024, i64::MIN, 1, 0, 0, 0, 0], &ny).is_err());
    assert!(
        Time::date(
            [2024, 1, i64::MAX, i64::MAX, i64::MAX, i64::MAX, i64::MAX],
            &ny
        )
        .is_err()
    );
}

#[test]
fn fields_in_the_location() {
    let t = Time::date([2024, 12, 25, 10, 30, 15, 42], &Location::utc()).unwrap();
    let f = t.fields();
    assert_eq!(
        (f.year, f.month, f.day, f.hour, f.minute, f.second, f.nsec),
        (2024, 12, 25, 10, 30, 15, 42)
    );
    assert_eq!(
        (f.weekday, f.yday, f.offset, f.zone.as_str()),
        (3, 360, 0, "UTC")
    );
    let t = Time::from_unix(1_703_862_245, 500_000_000, Location::utc()).unwrap();
    assert_eq!(t.format(RFC3339), "2023-12-29T15:04:05Z");
    assert_eq!(t.unix_nano(), 1_703_862_245_500_000_000);
    assert!(utc([1, 1, 1, 0, 0, 0, 0]).is_zero() && !t.is_zero());
    let later = t.add(24 * HOUR).unwrap();
    assert_eq!(later.sub(&t), 24 * HOUR);
    assert!(later > t && t == t.in_location(Location::fixed("X", 3600).unwrap()));
    let jan31 = utc([2024, 1, 31, 12, 0, 0, 0]);
    assert_eq!(
        jan31.add_date(0, 1, 0).unwrap().format("2006-01-02"),
        "2024-03-02"
    );
    assert_eq!(
        Time::from_unix(100, 0, Location::utc())
            .unwrap()
            .to_string(),
        "1970-01-01 00:01:40 +0000 UTC"
    );
}

#[test]
fn round_and_truncate_since_zero_time() {
    let t = utc([2024, 5, 6, 10, 37, 29, 500_000_000]);
    let fmt = |t: Result<Time, TimeError>| t.unwrap().format(RFC3339_NANO);
    assert_eq!(fmt(t.truncate(HOUR)), "2024-05-06T10:00:00Z");
    assert_eq!(fmt(t.round(HOUR)), "2024-05-06T11:00:00Z");
    assert_eq!(fmt(t.truncate(15 * MINUTE)), "2024-05-06T10:30:00Z");
    assert_eq!(fmt(t.round(SECOND)), "2024-05-06T10:37:30Z");
    assert_eq!(fmt(t.round(0)), "2024-05-06T10:37:29.5Z");
    assert_eq!(fmt(t.truncate(-5)), "2024-05-06T10:37:29.5Z");
    // 7h boundaries count from year 1 (from 1970 it would be 09:00), as in Go
    assert_eq!(fmt(t.truncate(7 * HOUR)), "2024-05-06T07:00:00Z");
    // rounding works on the absolute time, not the wall clock
    let ist = t.in_location(Location::fixed("IST", 19_800).unwrap());
    assert_eq!(ist.truncate(HOUR).unwrap().format("15:04"), "15:30");
}

#[test]
fn extreme_values_do_not_panic() {
    let t = utc([MAX_YEAR, 12, 31, 23, 59, 59, 999_999_999]);
    assert_eq!(t.add(1).unwrap_err(), TimeError::OutOfRange);
    assert!(t.add_date(0, 0, 1).is_err());
    assert!(t.round(HOUR).is_err());
    assert_eq!(t.sub(&utc([-MAX_YEAR, 1, 1, 0, 0, 0, 0])), i64::MAX);
    assert_eq!(t.unix_nano(), i64::MAX);
    assert_eq!(t.format("2006"), "200000");
    assert!(Time::from_unix(i64::MAX, i64::MAX, Location::utc()).is_err());
    assert!(Location::fixed("x", i64::MIN).is_err());
    assert_eq!(
        TimeError::OutOfRange.to_string(),
        "time out of range (years -200000..200000)"
    );
    for (layout, value) in [
        (
            "2006-01-02 15:04:05.000000000000000",
            "2006-01-02 15:04:05.999999999999999",
        ),
        ("__2 002 Z07:00:00 -070000", "   1 001 +99:99:99 +999999"),
    ] {
        let _ = Time::parse(layout, value, None);
    }
}

#[test]
fn now_is_local_and_recent() {
    let t = Time::now();
    assert_eq!(t.location().name(), "Local");
    assert!(t.unix() > 1_700_000_000);
    assert!(t.sub(&Time::now()) <= 0);
}
