//! Go layouts: the layout constants, splitting a layout into its elements (Go's
//! `nextStdChunk`) and formatting calendar [`Fields`] with a layout (Go's `Time.Format`).
//! Parsing is in [`crate::parse`].

use crate::calendar::{MONTH_NAMES, WEEKDAY_NAMES, month_index};
use crate::instant::Fields;

/// Go's `time.ANSIC` layout.
pub const ANSIC: &str = "Mon Jan _2 15:04:05 2006";
/// Go's `time.UnixDate` layout.
pub const UNIX_DATE: &str = "Mon Jan _2 15:04:05 MST 2006";
/// Go's `time.RubyDate` layout.
pub const RUBY_DATE: &str = "Mon Jan 02 15:04:05 -0700 2006";
/// Go's `time.RFC822` layout.
pub const RFC822: &str = "02 Jan 06 15:04 MST";
/// Go's `time.RFC822Z` layout.
pub const RFC822Z: &str = "02 Jan 06 15:04 -0700";
/// Go's `time.RFC850` layout.
pub const RFC850: &str = "Monday, 02-Jan-06 15:04:05 MST";
/// Go's `time.RFC1123` layout.
pub const RFC1123: &str = "Mon, 02 Jan 2006 15:04:05 MST";
/// Go's `time.RFC1123Z` layout.
pub const RFC1123Z: &str = "Mon, 02 Jan 2006 15:04:05 -0700";
/// Go's `time.RFC3339` layout.
pub const RFC3339: &str = "2006-01-02T15:04:05Z07:00";
/// Go's `time.RFC3339Nano` layout.
pub const RFC3339_NANO: &str = "2006-01-02T15:04:05.999999999Z07:00";
/// Go's `time.Kitchen` layout.
pub const KITCHEN: &str = "3:04PM";
/// Go's `time.Stamp` layout.
pub const STAMP: &str = "Jan _2 15:04:05";
/// Go's `time.StampMilli` layout.
pub const STAMP_MILLI: &str = "Jan _2 15:04:05.000";
/// Go's `time.StampMicro` layout.
pub const STAMP_MICRO: &str = "Jan _2 15:04:05.000000";
/// Go's `time.StampNano` layout.
pub const STAMP_NANO: &str = "Jan _2 15:04:05.000000000";
/// Go's `time.DateTime` layout.
pub const DATE_TIME: &str = "2006-01-02 15:04:05";
/// Go's `time.DateOnly` layout.
pub const DATE_ONLY: &str = "2006-01-02";
/// Go's `time.TimeOnly` layout.
pub const TIME_ONLY: &str = "15:04:05";
/// The layout of Go's `Time.String`.
pub const STRING_LAYOUT: &str = "2006-01-02 15:04:05.999999999 -0700 MST";

/// A layout element (Go's `std*` codes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Std {
    LongMonth,
    Month,
    NumMonth,
    ZeroMonth,
    LongWeekDay,
    WeekDay,
    Day,
    UnderDay,
    ZeroDay,
    UnderYearDay,
    ZeroYearDay,
    Hour,
    Hour12,
    ZeroHour12,
    Minute,
    ZeroMinute,
    Second,
    ZeroSecond,
    LongYear,
    Year,
    PM,
    Pm,
    Tz,
    Iso8601Tz,
    Iso8601SecondsTz,
    Iso8601ShortTz,
    Iso8601ColonTz,
    Iso8601ColonSecondsTz,
    NumTz,
    NumSecondsTz,
    NumShortTz,
    NumColonTz,
    NumColonSecondsTz,
    /// `.000` (fixed digits) with the separator and digit count.
    FracZero(u8, usize),
    /// `.999` (trailing zeros trimmed) with the separator and digit count.
    FracNine(u8, usize),
}

impl Std {
    /// Whether this is a `Z07:00`-style zone (`Z` for UTC).
    pub(crate) fn is_iso_tz(self) -> bool {
        matches!(
            self,
            Std::Iso8601Tz
                | Std::Iso8601SecondsTz
                | Std::Iso8601ShortTz
                | Std::Iso8601ColonTz
                | Std::Iso8601ColonSecondsTz
        )
    }
}

/// Splits `layout` at its first element: (literal prefix, element, rest). Go's
/// `nextStdChunk`.
pub(crate) fn next_chunk(layout: &[u8]) -> (&[u8], Option<Std>, &[u8]) {
    let has = |i: usize, pat: &str| layout[i..].starts_with(pat.as_bytes());
    let lower_at = |i: usize| layout.get(i).is_some_and(u8::is_ascii_lowercase);
    let digit_at = |i: usize| layout.get(i).is_some_and(u8::is_ascii_digit);
    for i in 0..layout.len() {
        let cut = move |std: Std, len: usize| (&layout[..i], Some(std), &layout[i + len..]);
        match layout[i] {
            b'J' if has(i, "Jan") => {
                if has(i, "January") {
                    return cut(Std::LongMonth, 7);
                }
                if !lower_at(i + 3) {
                    return cut(Std::Month, 3);
                }
            }
            b'M' => {
                if has(i, "Mon") {
                    if has(i, "Monday") {
                        return cut(Std::LongWeekDay, 6);
                    }
                    if !lower_at(i + 3) {
                        return cut(Std::WeekDay, 3);
                    }
                }
                if has(i, "MST") {
                    return cut(Std::Tz, 3);
                }
            }
            b'0' => {
                if let Some(&c @ b'1'..=b'6') = layout.get(i + 1) {
                    let std = [
                        Std::ZeroMonth,
                        Std::ZeroDay,
                        Std::ZeroHour12,
                        Std::ZeroMinute,
                        Std::ZeroSecond,
                        Std::Year,
                    ][usize::from(c - b'1')];
                    return cut(std, 2);
                }
                if has(i, "002") {
                    return cut(Std::ZeroYearDay, 3);
                }
            }
            b'1' => {
                if has(i, "15") {
                    return cut(Std::Hour, 2);
                }
                return cut(Std::NumMonth, 1);
            }
            b'2' => {
                if has(i, "2006") {
                    return cut(Std::LongYear, 4);
                }
                return cut(Std::Day, 1);
            }
            b'_' => {
                if has(i, "_2") {
                    // "_2006" is a literal underscore and a year
                    if has(i + 1, "2006") {
                        return (&layout[..i + 1], Some(Std::LongYear), &layout[i + 5..]);
                    }
                    return cut(Std::UnderDay, 2);
                }
                if has(i, "__2") {
                    return cut(Std::UnderYearDay, 3);
                }
            }
            b'3' => return cut(Std::Hour12, 1),
            b'4' => return cut(Std::Minute, 1),
            b'5' => return cut(Std::Second, 1),
            b'P' if has(i, "PM") => return cut(Std::PM, 2),
            b'p' if has(i, "pm") => return cut(Std::Pm, 2),
            b'-' | b'Z' => {
                let z = layout[i] == b'Z';
                let forms: [(&str, Std, Std); 5] = [
                    ("070000", Std::Iso8601SecondsTz, Std::NumSecondsTz),
                    (
                        "07:00:00",
                        Std::Iso8601ColonSecondsTz,
                        Std::NumColonSecondsTz,
                    ),
                    ("0700", Std::Iso8601Tz, Std::NumTz),
                    ("07:00", Std::Iso8601ColonTz, Std::NumColonTz),
                    ("07", Std::Iso8601ShortTz, Std::NumShortTz),
                ];
                for (form, iso, num) in forms {
                    if has(i + 1, form) {
                        return cut(if z { iso } else { num }, form.len() + 1);
                    }
                }
            }
            sep @ (b'.' | b',') => {
                if let Some(&ch @ (b'0' | b'9')) = layout.get(i + 1) {
                    let mut j = i + 1;
                    while layout.get(j) == Some(&ch) {
                        j += 1;
                    }
                    // only a fraction if the run of digits ends here
                    if !digit_at(j) {
                        let n = j - (i + 1);
                        let std = if ch == b'0' {
                            Std::FracZero(sep, n)
                        } else {
                            Std::FracNine(sep, n)
                        };
                        return (&layout[..i], Some(std), &layout[j..]);
                    }
                }
            }
            _ => {}
        }
    }
    (layout, None, &[])
}

/// Go's `Time.Format` on computed fields.
pub(crate) fn format_layout(f: &Fields, layout: &str) -> String {
    let mut out: Vec<u8> = Vec::with_capacity(layout.len() + 16);
    let mut rest = layout.as_bytes();
    loop {
        let (prefix, std, suffix) = next_chunk(rest);
        out.extend_from_slice(prefix);
        let Some(std) = std else { break };
        rest = suffix;
        let hour12 = match f.hour % 12 {
            0 => 12,
            h => h,
        };
        match std {
            Std::Year => push_int(&mut out, (f.year % 100).abs(), 2),
            Std::LongYear => push_int(&mut out, f.year, 4),
            Std::Month => out.extend_from_slice(&MONTH_NAMES[month_index(f.month)].as_bytes()[..3]),
            Std::LongMonth => out.extend_from_slice(MONTH_NAMES[month_index(f.month)].as_bytes()),
            Std::NumMonth => push_int(&mut out, f.month.into(), 0),
            Std::ZeroMonth => push_int(&mut out, f.month.into(), 2),
            Std::WeekDay => {
                out.extend_from_slice(&WEEKDAY_NAMES[f.weekday as usize % 7].as_bytes()[..3])
            }
            Std::LongWeekDay => {
                out.extend_from_slice(WEEKDAY_NAMES[f.weekday as usize % 7].as_bytes())
            }
            Std::Day => push_int(&mut out, f.day.into(), 0),
            Std::UnderDay => {
                if f.day < 10 {
                    out.push(b' ');
                }
                push_int(&mut out, f.day.into(), 0);
            }
            Std::ZeroDay => push_int(&mut out, f.day.into(), 2),
            Std::UnderYearDay => {
                if f.yday < 100 {
                    out.push(b' ');
                    if f.yday < 10 {
                        out.push(b' ');
                    }
                }
                push_int(&mut out, f.yday.into(), 0);
            }
            Std::ZeroYearDay => push_int(&mut out, f.yday.into(), 3),
            Std::Hour => push_int(&mut out, f.hour.into(), 2),
            Std::Hour12 => push_int(&mut out, hour12.into(), 0),
            Std::ZeroHour12 => push_int(&mut out, hour12.into(), 2),
            Std::Minute => push_int(&mut out, f.minute.into(), 0),
            Std::ZeroMinute => push_int(&mut out, f.minute.into(), 2),
            Std::Second => push_int(&mut out, f.second.into(), 0),
            Std::ZeroSecond => push_int(&mut out, f.second.into(), 2),
            Std::PM => out.extend_from_slice(if f.hour >= 12 { b"PM" } else { b"AM" }),
            Std::Pm => out.extend_from_slice(if f.hour >= 12 { b"pm" } else { b"am" }),
            Std::Tz => {
                if f.zone.is_empty() {
                    push_offset(&mut out, f.offset, false, false, false);
                } else {
                    out.extend_from_slice(f.zone.as_bytes());
                }
            }
            Std::FracZero(sep, n) => push_fraction(&mut out, f.nsec, sep, n, false),
            Std::FracNine(sep, n) => push_fraction(&mut out, f.nsec, sep, n, true),
            tz => {
                if f.offset == 0 && tz.is_iso_tz() {
                    out.push(b'Z');
                    continue;
                }
                let colon = matches!(
                    tz,
                    Std::Iso8601ColonTz
                        | Std::NumColonTz
                        | Std::Iso8601ColonSecondsTz
                        | Std::NumColonSecondsTz
                );
                let short = matches!(tz, Std::Iso8601ShortTz | Std::NumShortTz);
                let seconds = matches!(
                    tz,
                    Std::Iso8601SecondsTz
                        | Std::NumSecondsTz
                        | Std::Iso8601ColonSecondsTz
                        | Std::NumColonSecondsTz
                );
                push_offset(&mut out, f.offset, colon, short, seconds);
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

// ---------------------------------------------------------------------------------------
// Helpers

/// Go's `appendInt`: sign, zero padding to `width`, digits.
fn push_int(out: &mut Vec<u8>, x: i64, width: usize) {
    if x < 0 {
        out.push(b'-');
    }
    out.extend_from_slice(format!("{:0width$}", x.unsigned_abs()).as_bytes());
}

/// A numeric zone offset: `+hh`, then `:`? `mm` unless `short`, then `:`? `ss` if
/// `seconds`.
fn push_offset(out: &mut Vec<u8>, offset: i32, colon: bool, short: bool, seconds: bool) {
    out.push(if offset < 0 { b'-' } else { b'+' });
    let abs = offset.unsigned_abs();
    let minutes = abs / 60;
    push_int(out, (minutes / 60).into(), 2);
    if colon {
        out.push(b':');
    }
    if !short {
        push_int(out, (minutes % 60).into(), 2);
    }
    if seconds {
        if colon {
            out.push(b':');
        }
        push_int(out, (abs % 60).into(), 2);
    }
}

/// Go's `appendNano`: `n` digits of the fraction, trimmed of zeros for `.999` forms.
fn push_fraction(out: &mut Vec<u8>, nsec: u32, sep: u8, n: usize, trim: bool) {
    if trim && (n == 0 || nsec == 0) {
        return;
    }
    let digits = format!("{nsec:09}");
    let mut frac = &digits.as_bytes()[..n.min(9)];
    if trim {
        while let Some((b'0', rest)) = frac.split_last() {
            frac = rest;
        }
        if frac.is_empty() {
            return;
        }
    }
    out.push(sep);
    out.extend_from_slice(frac);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_chunk_splits_at_the_first_element() {
        assert_eq!(
            next_chunk(b"at 15:04"),
            (&b"at "[..], Some(Std::Hour), &b":04"[..])
        );
        assert_eq!(
            next_chunk(b"_2006"),
            (&b"_"[..], Some(Std::LongYear), &b""[..])
        );
        assert_eq!(
            next_chunk(b"x.000y"),
            (&b"x"[..], Some(Std::FracZero(b'.', 3)), &b"y"[..])
        );
        // a run of digits that goes on is no fraction
        assert_eq!(
            next_chunk(b".0001"),
            (&b".00"[..], Some(Std::ZeroMonth), &b""[..])
        );
        assert_eq!(next_chunk(b"Janx"), (&b"Janx"[..], None, &b""[..]));
        assert_eq!(
            next_chunk(b"Z07:00"),
            (&b""[..], Some(Std::Iso8601ColonTz), &b""[..])
        );
    }

    #[test]
    fn push_helpers_pad_and_trim() {
        let mut out = Vec::new();
        push_int(&mut out, -7, 3);
        push_offset(&mut out, -(5 * 3600 + 30 * 60 + 9), true, false, true);
        push_fraction(&mut out, 120_000_000, b',', 9, true);
        push_fraction(&mut out, 0, b'.', 3, true);
        push_fraction(&mut out, 5, b'.', 3, false);
        assert_eq!(String::from_utf8(out).unwrap(), "-007-05:30:09,12.000");
    }
}
