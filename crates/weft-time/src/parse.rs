//! Parsing text with a Go layout (Go's `time.parse`): the layout is split into elements
//! with [`next_chunk`], each element is read from the text into [`Parsed`], and the
//! fields are validated and turned into a [`Time`] at the end.

use crate::calendar::{MONTH_NAMES, WEEKDAY_NAMES, days_in_month, month_day_of_year};
use crate::instant::{Time, TimeError};
use crate::layout::{Std, next_chunk};
use crate::text::{leading_int, quote};
use crate::zone::Location;

/// Text that does not match a layout; the texts are Go's.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// The text at `elem` does not match the layout element `expected`.
    #[error(
        "parsing time {} as {}: cannot parse {} as {}",
        quote(value),
        quote(layout),
        quote(elem),
        quote(expected)
    )]
    CannotParse {
        /// The whole text.
        value: String,
        /// The whole layout.
        layout: String,
        /// The text from where matching failed.
        elem: String,
        /// The layout element or literal that did not match.
        expected: String,
    },
    /// Text left over after the layout.
    #[error("parsing time {}: extra text: {}", quote(value), quote(extra))]
    ExtraText {
        /// The whole text.
        value: String,
        /// The text left over.
        extra: String,
    },
    /// A field out of its range (`"month"`, `"day"`, `"hour"`, `"day-of-year"`, ...).
    #[error("parsing time {}: {field} out of range", quote(value))]
    OutOfRange {
        /// The whole text.
        value: String,
        /// The field's name.
        field: &'static str,
    },
    /// A day of the year that contradicts the month or day also given.
    #[error("parsing time {}: day-of-year does not match {field}", quote(value))]
    DayOfYearMismatch {
        /// The whole text.
        value: String,
        /// `"month"` or `"day"`.
        field: &'static str,
    },
}

/// Go's `time.parse`: `default_loc` applies when the text names no zone; `local` is the
/// zone a parsed offset or abbreviation is matched against.
pub(crate) fn parse_layout(
    layout: &str,
    value: &str,
    default_loc: &Location,
    local: &Location,
) -> Result<Time, TimeError> {
    let cannot = |elem: &[u8], what: &[u8]| ParseError::CannotParse {
        value: value.into(),
        layout: layout.into(),
        elem: String::from_utf8_lossy(elem).into_owned(),
        expected: String::from_utf8_lossy(what).into_owned(),
    };
    let mut fields = Parsed::new();
    let (mut lay, mut val) = (layout.as_bytes(), value.as_bytes());
    loop {
        let (prefix, std, suffix) = next_chunk(lay);
        let std_text = &lay[prefix.len()..lay.len() - suffix.len()];
        val = skip(val, prefix).map_err(|at| cannot(at, prefix))?;
        let Some(std) = std else {
            if !val.is_empty() {
                let extra = String::from_utf8_lossy(val).into_owned();
                return Err(ParseError::ExtraText {
                    value: value.into(),
                    extra,
                }
                .into());
            }
            break;
        };
        lay = suffix;
        let rest = fields.read(std, val, lay);
        if let Some(field) = fields.out_of_range {
            return Err(out_of_range(value, field).into());
        }
        val = rest.ok_or_else(|| cannot(val, std_text))?;
    }
    fields.into_time(value, default_loc, local)
}

/// The fields [`parse_layout`] has read (Go's locals in `time.parse`).
struct Parsed {
    year: i64,
    /// -1 until read, like `day` and `yday`.
    month: i64,
    day: i64,
    yday: i64,
    hour: i64,
    minute: i64,
    second: i64,
    nsec: i64,
    am: bool,
    pm: bool,
    zone: Option<Location>,
    zone_offset: Option<i64>,
    zone_name: Option<String>,
    /// The field that was out of its range (`"month"`, `"hour"`, ...).
    out_of_range: Option<&'static str>,
}

impl Parsed {
    fn new() -> Parsed {
        Parsed {
            year: 0,
            month: -1,
            day: -1,
            yday: -1,
            hour: 0,
            minute: 0,
            second: 0,
            nsec: 0,
            am: false,
            pm: false,
            zone: None,
            zone_offset: None,
            zone_name: None,
            out_of_range: None,
        }
    }

    /// Reads element `std` from the start of `val`; gives the rest of the text, or
    /// `None` if it does not match. `layout` is the rest of the layout.
    fn read<'a>(&mut self, std: Std, mut val: &'a [u8], layout: &[u8]) -> Option<&'a [u8]> {
        let mut check = |v: i64, range: std::ops::RangeInclusive<i64>, what: &'static str| {
            if !range.contains(&v) {
                self.out_of_range = Some(what);
            }
        };
        match std {
            Std::Year => {
                let year = atoi(val.get(..2)?)?;
                self.year = year + if year >= 69 { 1900 } else { 2000 };
                Some(&val[2..])
            }
            Std::LongYear => {
                if !val.first()?.is_ascii_digit() {
                    return None;
                }
                self.year = atoi(val.get(..4)?)?;
                Some(&val[4..])
            }
            Std::Month | Std::LongMonth => {
                let names = MONTH_NAMES.map(|m| if std == Std::Month { &m[..3] } else { m });
                let (i, rest) = lookup(&names, val)?;
                self.month = i as i64 + 1;
                Some(rest)
            }
            Std::NumMonth | Std::ZeroMonth => {
                let (month, rest) = getnum(val, std == Std::ZeroMonth)?;
                check(month, 1..=12, "month");
                self.month = month;
                Some(rest)
            }
            Std::WeekDay | Std::LongWeekDay => {
                let names = WEEKDAY_NAMES.map(|d| if std == Std::WeekDay { &d[..3] } else { d });
                Some(lookup(&names, val)?.1)
            }
            Std::Day | Std::UnderDay | Std::ZeroDay => {
                if std == Std::UnderDay && val.first() == Some(&b' ') {
                    val = &val[1..];
                }
                let (day, rest) = getnum(val, std == Std::ZeroDay)?;
                self.day = day;
                Some(rest)
            }
            Std::UnderYearDay | Std::ZeroYearDay => {
                for _ in 0..2 {
                    if std == Std::UnderYearDay && val.first() == Some(&b' ') {
                        val = &val[1..];
                    }
                }
                let (yday, rest) = getnum3(val, std == Std::ZeroYearDay)?;
                self.yday = yday;
                Some(rest)
            }
            Std::Hour | Std::Hour12 | Std::ZeroHour12 => {
                let (hour, rest) = getnum(val, std == Std::ZeroHour12)?;
                let max = if std == Std::Hour { 23 } else { 12 };
                check(hour, 0..=max, "hour");
                self.hour = hour;
                Some(rest)
            }
            Std::Minute | Std::ZeroMinute => {
                let (minute, rest) = getnum(val, std == Std::ZeroMinute)?;
                check(minute, 0..=59, "minute");
                self.minute = minute;
                Some(rest)
            }
            Std::Second | Std::ZeroSecond => {
                let (second, rest) = getnum(val, std == Std::ZeroSecond)?;
                check(second, 0..=59, "second");
                self.second = second;
                // a fraction in the text that the layout does not spell out
                let fraction_next = matches!(
                    next_chunk(layout).1,
                    Some(Std::FracZero(..) | Std::FracNine(..))
                );
                if self.out_of_range.is_some()
                    || fraction_next
                    || rest.len() < 2
                    || !is_sep(rest[0])
                    || !rest[1].is_ascii_digit()
                {
                    return Some(rest);
                }
                let n = 2 + rest[2..].iter().take_while(|c| c.is_ascii_digit()).count();
                self.nsec = parse_nanos(rest, n, &mut self.out_of_range)?;
                Some(&rest[n..])
            }
            Std::PM | Std::Pm => {
                let (upper, lower) = if std == Std::PM {
                    (b"PM", b"AM")
                } else {
                    (b"pm", b"am")
                };
                let p = val.get(..2)?;
                if p == upper {
                    self.pm = true;
                } else if p == lower {
                    self.am = true;
                } else {
                    return None;
                }
                Some(&val[2..])
            }
            Std::Tz => {
                if let Some(rest) = val.strip_prefix(b"UTC") {
                    self.zone = Some(Location::utc());
                    return Some(rest);
                }
                let n = zone_name_len(val)?;
                self.zone_name = Some(String::from_utf8_lossy(&val[..n]).into_owned());
                Some(&val[n..])
            }
            Std::FracZero(_, digits) => {
                let n = 1 + digits;
                if val.len() < n {
                    return None;
                }
                self.nsec = parse_nanos(val, n, &mut self.out_of_range)?;
                Some(&val[n..])
            }
            Std::FracNine(..) => {
                if val.len() < 2 || !is_sep(val[0]) || !val[1].is_ascii_digit() {
                    return Some(val); // fraction omitted
                }
                let n = 1 + val[1..].iter().take_while(|c| c.is_ascii_digit()).count();
                self.nsec = parse_nanos(val, n, &mut self.out_of_range)?;
                Some(&val[n..])
            }
            tz => {
                if tz.is_iso_tz()
                    && let Some(rest) = val.strip_prefix(b"Z")
                {
                    self.zone = Some(Location::utc());
                    return Some(rest);
                }
                self.read_offset(tz, val)
            }
        }
    }

    /// Reads a numeric zone offset (`-0700`, `-07:00`, `-07`, `-070000`, `-07:00:00`).
    fn read_offset<'a>(&mut self, std: Std, val: &'a [u8]) -> Option<&'a [u8]> {
        let (sign, hh, mm, ss, len): (u8, &[u8], &[u8], &[u8], usize) = match std {
            Std::Iso8601ColonTz | Std::NumColonTz => {
                let v = val.get(..6)?;
                if v[3] != b':' {
                    return None;
                }
                (v[0], &v[1..3], &v[4..6], b"00", 6)
            }
            Std::Iso8601ShortTz | Std::NumShortTz => {
                let v = val.get(..3)?;
                (v[0], &v[1..3], b"00", b"00", 3)
            }
            Std::Iso8601ColonSecondsTz | Std::NumColonSecondsTz => {
                let v = val.get(..9)?;
                if v[3] != b':' || v[6] != b':' {
                    return None;
                }
                (v[0], &v[1..3], &v[4..6], &v[7..9], 9)
            }
            Std::Iso8601SecondsTz | Std::NumSecondsTz => {
                let v = val.get(..7)?;
                (v[0], &v[1..3], &v[3..5], &v[5..7], 7)
            }
            _ => {
                let v = val.get(..5)?;
                (v[0], &v[1..3], &v[3..5], b"00", 5)
            }
        };
        let (hr, mi, se) = (
            getnum(hh, true)?.0,
            getnum(mm, true)?.0,
            getnum(ss, true)?.0,
        );
        // `>` rather than `>=`: people do write offsets of 24 hours or 60 minutes
        for (v, max, what) in [
            (hr, 24, "time zone offset hour"),
            (mi, 60, "time zone offset minute"),
            (se, 60, "time zone offset second"),
        ] {
            if v > max {
                self.out_of_range = Some(what);
            }
        }
        let offset = (hr * 60 + mi) * 60 + se;
        self.zone_offset = Some(match sign {
            b'+' => offset,
            b'-' => -offset,
            _ => return None,
        });
        Some(&val[len..])
    }

    /// Validates the date and builds the time (the end of Go's `time.parse`).
    fn into_time(
        mut self,
        value: &str,
        default_loc: &Location,
        local: &Location,
    ) -> Result<Time, TimeError> {
        if self.pm && self.hour < 12 {
            self.hour += 12;
        } else if self.am && self.hour == 12 {
            self.hour = 0;
        }
        if self.yday >= 0 {
            let (m, d) = month_day_of_year(self.year, self.yday)
                .ok_or_else(|| out_of_range(value, "day-of-year"))?;
            if self.month >= 0 && self.month != m {
                return Err(mismatch(value, "month").into());
            }
            if self.day >= 0 && self.day != d {
                return Err(mismatch(value, "day").into());
            }
            (self.month, self.day) = (m, d);
        } else {
            // unset fields (-1) default to January and the 1st
            if self.month < 0 {
                self.month = 1;
            }
            if self.day < 0 {
                self.day = 1;
            }
        }
        if self.day < 1 || self.day > days_in_month(self.year, self.month) {
            return Err(out_of_range(value, "day").into());
        }

        let parts = [
            self.year,
            self.month,
            self.day,
            self.hour,
            self.minute,
            self.second,
            self.nsec,
        ];
        if let Some(zone) = self.zone {
            return Time::date(parts, &zone);
        }
        let wall = Time::date(parts, &Location::utc())?;
        if let Some(offset) = self.zone_offset {
            let t = Time::from_unix(
                wall.unix() - offset,
                wall.nanosecond().into(),
                Location::utc(),
            )?;
            let (name, local_offset) = local.lookup(t.unix());
            let same_name = self.zone_name.as_ref().is_none_or(|z| *z == name);
            if i64::from(local_offset) == offset && same_name {
                return Ok(t.in_location(local.clone()));
            }
            let name = self.zone_name.unwrap_or_default();
            return Ok(t.in_location(Location::fixed(&name, offset)?));
        }
        if let Some(name) = self.zone_name {
            if let Some(offset) = local.lookup_name(&name, wall.unix()) {
                let secs = wall.unix() - i64::from(offset);
                return Time::from_unix(secs, wall.nanosecond().into(), local.clone());
            }
            // an unknown abbreviation keeps the wall time as UTC, as Go does
            let offset = match name.strip_prefix("GMT") {
                Some(rest) if !rest.is_empty() => atoi(rest.as_bytes()).unwrap_or(0) * 3600,
                _ => 0,
            };
            return Ok(wall.in_location(Location::fixed(&name, offset)?));
        }
        Time::date(parts, default_loc)
    }
}

// ---------------------------------------------------------------------------------------
// Helpers

/// A [`ParseError::OutOfRange`] for `field`.
fn out_of_range(value: &str, field: &'static str) -> ParseError {
    ParseError::OutOfRange {
        value: value.into(),
        field,
    }
}

/// A [`ParseError::DayOfYearMismatch`] for `field`.
fn mismatch(value: &str, field: &'static str) -> ParseError {
    ParseError::DayOfYearMismatch {
        value: value.into(),
        field,
    }
}

/// Go's `atoi` on a short field: optional sign, then only digits.
fn atoi(s: &[u8]) -> Option<i64> {
    let (neg, digits) = match s.first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let (x, rest) = leading_int(digits)?;
    if !rest.is_empty() {
        return None;
    }
    let x = i64::try_from(x).ok()?;
    Some(if neg { -x } else { x })
}

/// Go's `getnum`: one or two digits (exactly two when `fixed`).
fn getnum(s: &[u8], fixed: bool) -> Option<(i64, &[u8])> {
    let d0 = *s.first().filter(|c| c.is_ascii_digit())?;
    match s.get(1) {
        Some(&d1) if d1.is_ascii_digit() => {
            Some((i64::from(d0 - b'0') * 10 + i64::from(d1 - b'0'), &s[2..]))
        }
        _ if fixed => None,
        _ => Some((i64::from(d0 - b'0'), &s[1..])),
    }
}

/// Go's `getnum3`: one to three digits (exactly three when `fixed`).
fn getnum3(s: &[u8], fixed: bool) -> Option<(i64, &[u8])> {
    let n = s.iter().take(3).take_while(|c| c.is_ascii_digit()).count();
    if n == 0 || (fixed && n != 3) {
        return None;
    }
    let v = s[..n]
        .iter()
        .fold(0i64, |acc, c| acc * 10 + i64::from(c - b'0'));
    Some((v, &s[n..]))
}

/// A case-insensitive prefix match of `names` against `val`: (index, rest).
fn lookup<'a>(names: &[&str], val: &'a [u8]) -> Option<(usize, &'a [u8])> {
    names.iter().enumerate().find_map(|(i, name)| {
        let n = name.len();
        val.get(..n)
            .filter(|p| p.eq_ignore_ascii_case(name.as_bytes()))
            .map(|_| (i, &val[n..]))
    })
}

/// Go's `skip`: matches the literal `prefix` (a space matches any run of spaces);
/// on failure gives the text where matching stopped.
fn skip<'a>(mut val: &'a [u8], mut prefix: &[u8]) -> Result<&'a [u8], &'a [u8]> {
    while let Some(&p) = prefix.first() {
        if p == b' ' {
            if val.first().is_some_and(|&c| c != b' ') {
                return Err(val);
            }
            prefix = trim_spaces(prefix);
            val = trim_spaces(val);
            continue;
        }
        if val.first() != Some(&p) {
            return Err(val);
        }
        prefix = &prefix[1..];
        val = &val[1..];
    }
    Ok(val)
}

fn trim_spaces(s: &[u8]) -> &[u8] {
    let n = s.iter().take_while(|&&c| c == b' ').count();
    &s[n..]
}

fn is_sep(c: u8) -> bool {
    c == b'.' || c == b','
}

/// Go's `parseNanoseconds`: `val[0]` is the separator, `val[1..n]` the digits.
fn parse_nanos(val: &[u8], n: usize, range: &mut Option<&str>) -> Option<i64> {
    if !is_sep(*val.first()?) {
        return None;
    }
    let n = n.min(10);
    let ns = atoi(val.get(1..n)?)?;
    if ns < 0 {
        *range = Some("fractional second");
        return Some(0);
    }
    Some(ns * 10i64.pow((10 - n) as u32))
}

/// Go's `parseTimeZone`: the length of a zone abbreviation at the start of `val`.
fn zone_name_len(val: &[u8]) -> Option<usize> {
    if val.len() < 3 {
        return None;
    }
    if val.starts_with(b"ChST") || val.starts_with(b"MeST") {
        return Some(4);
    }
    if val.starts_with(b"GMT") {
        return Some(3 + signed_offset_len(&val[3..]));
    }
    if val[0] == b'+' || val[0] == b'-' {
        return Some(signed_offset_len(val)).filter(|&n| n > 0);
    }
    let upper = val
        .iter()
        .take(6)
        .take_while(|c| c.is_ascii_uppercase())
        .count();
    match upper {
        3 => Some(3),
        4 if val[3] == b'T' || val.starts_with(b"WITA") => Some(4),
        5 if val[4] == b'T' => Some(5),
        _ => None,
    }
}

/// Go's `parseSignedOffset`: the length of `+h`/`-hh` (hours up to 23), or 0.
fn signed_offset_len(val: &[u8]) -> usize {
    let Some(&(b'+' | b'-')) = val.first() else {
        return 0;
    };
    match leading_int(&val[1..]) {
        Some((x, rest)) if rest.len() < val.len() - 1 && x <= 23 => val.len() - rest.len(),
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skip_matches_literals_and_runs_of_spaces() {
        assert_eq!(skip(b"a   b", b"a b"), Ok(&b""[..]));
        assert_eq!(skip(b"ab", b"a b"), Err(&b"b"[..]));
        assert_eq!(skip(b"a-b", b"a/"), Err(&b"-b"[..]));
    }

    #[test]
    fn numbers_and_zone_names() {
        assert_eq!(getnum(b"7x", false), Some((7, &b"x"[..])));
        assert_eq!(getnum(b"7x", true), None);
        assert_eq!(getnum3(b"0601", true), Some((60, &b"1"[..])));
        assert_eq!(atoi(b"-12"), Some(-12));
        assert_eq!(atoi(b"1a"), None);
        assert_eq!(zone_name_len(b"EST5"), Some(3));
        assert_eq!(zone_name_len(b"AEST"), Some(4));
        assert_eq!(zone_name_len(b"GMT+10x"), Some(6));
        assert_eq!(zone_name_len(b"GMT+24"), Some(3));
        assert_eq!(zone_name_len(b"ab"), None);
        let mut range = None;
        assert_eq!(parse_nanos(b".25", 3, &mut range), Some(250_000_000));
        assert_eq!(range, None);
        assert_eq!(lookup(&["Jan", "Feb"], b"feb 2"), Some((1, &b" 2"[..])));
    }
}
