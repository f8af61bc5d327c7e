//! Go durations: [`parse_duration`] (Go's `time.ParseDuration`), the non-negative
//! [`parse_std_duration`] and [`format_duration`] (Go's `Duration.String`).
//!
//! A duration is a signed count of nanoseconds in an `i64`, as in Go.

use crate::text::{leading_int, quote};

/// One nanosecond.
pub const NANOSECOND: i64 = 1;
/// One microsecond in nanoseconds.
pub const MICROSECOND: i64 = 1_000;
/// One millisecond in nanoseconds.
pub const MILLISECOND: i64 = 1_000_000;
/// One second in nanoseconds.
pub const SECOND: i64 = 1_000_000_000;
/// One minute in nanoseconds.
pub const MINUTE: i64 = 60 * SECOND;
/// One hour in nanoseconds.
pub const HOUR: i64 = 60 * MINUTE;

/// Why a duration text was rejected; the texts are Go's (`Negative` is weft's own).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    /// Not a duration, or out of the `i64` nanosecond range.
    #[error("time: invalid duration {}", quote(text))]
    Invalid {
        /// The text as given.
        text: String,
    },
    /// A number without a unit (`"100"`).
    #[error("time: missing unit in duration {}", quote(text))]
    MissingUnit {
        /// The text as given.
        text: String,
    },
    /// A unit other than ns, us, µs, μs, ms, s, m, h.
    #[error("time: unknown unit {} in duration {}", quote(unit), quote(text))]
    UnknownUnit {
        /// The unknown unit.
        unit: String,
        /// The text as given.
        text: String,
    },
    /// A valid but negative duration where only non-negative ones are allowed.
    #[error("duration {} must not be negative", quote(text))]
    Negative {
        /// The text as given.
        text: String,
    },
}

/// Parses a Go duration string (`"1h30m"`, `"1.5s"`, `"-2m"`, `"300ms"`; units ns, us,
/// µs, μs, ms, s, m, h) into nanoseconds, exactly as Go's `time.ParseDuration` does.
pub fn parse_duration(text: &str) -> Result<i64, DurationError> {
    let invalid = || DurationError::Invalid { text: text.into() };
    let mut s = text.as_bytes();
    let mut neg = false;
    if let Some(&c) = s.first()
        && (c == b'-' || c == b'+')
    {
        neg = c == b'-';
        s = &s[1..];
    }
    if s == b"0" {
        return Ok(0);
    }
    if s.is_empty() {
        return Err(invalid());
    }
    const LIMIT: u64 = 1 << 63;
    let mut total: u64 = 0;
    while !s.is_empty() {
        if !(s[0] == b'.' || s[0].is_ascii_digit()) {
            return Err(invalid());
        }
        let before = s.len();
        let (mut v, rest) = leading_int(s).ok_or_else(invalid)?;
        s = rest;
        let pre = before != s.len();
        let (mut frac, mut scale, mut post) = (0u64, 1f64, false);
        if s.first() == Some(&b'.') {
            s = &s[1..];
            let before = s.len();
            (frac, scale, s) = leading_fraction(s);
            post = before != s.len();
        }
        if !pre && !post {
            return Err(invalid());
        }
        let unit_len = s
            .iter()
            .position(|&c| c == b'.' || c.is_ascii_digit())
            .unwrap_or(s.len());
        if unit_len == 0 {
            return Err(DurationError::MissingUnit { text: text.into() });
        }
        let (unit_name, rest) = s.split_at(unit_len);
        s = rest;
        let unit = unit_nanos(unit_name).ok_or_else(|| DurationError::UnknownUnit {
            unit: String::from_utf8_lossy(unit_name).into_owned(),
            text: text.into(),
        })?;
        if v > LIMIT / unit {
            return Err(invalid());
        }
        v *= unit;
        if frac > 0 {
            // like Go: a float keeps fractions of hours nanosecond-exact
            v += (frac as f64 * (unit as f64 / scale)) as u64;
            if v > LIMIT {
                return Err(invalid());
            }
        }
        total = total
            .checked_add(v)
            .filter(|&t| t <= LIMIT)
            .ok_or_else(invalid)?;
    }
    if neg {
        return Ok((total as i64).wrapping_neg());
    }
    i64::try_from(total).map_err(|_| invalid())
}

/// Parses a Go duration that must not be negative (`"-0s"` is zero) into a
/// [`std::time::Duration`]; a negative one is [`DurationError::Negative`].
pub fn parse_std_duration(text: &str) -> Result<std::time::Duration, DurationError> {
    let nanos = parse_duration(text)?;
    u64::try_from(nanos)
        .map(std::time::Duration::from_nanos)
        .map_err(|_| DurationError::Negative { text: text.into() })
}

/// Formats nanoseconds the way Go's `Duration.String` does: `1h30m45s`, `1.5s`, `250ms`,
/// `1µs`, `0s`.
pub fn format_duration(nanos: i64) -> String {
    let mut u = nanos.unsigned_abs();
    let mut out = String::new();
    if nanos < 0 {
        out.push('-');
    }
    if u < SECOND as u64 {
        if u == 0 {
            return "0s".into();
        }
        let (prec, unit) = if u < MICROSECOND as u64 {
            (0, "ns")
        } else if u < MILLISECOND as u64 {
            (3, "µs")
        } else {
            (6, "ms")
        };
        let (frac, whole) = fraction_digits(u, prec);
        out.push_str(&whole.to_string());
        out.push_str(&frac);
        out.push_str(unit);
    } else {
        let frac;
        (frac, u) = fraction_digits(u, 9);
        let secs = u % 60;
        u /= 60;
        if u > 0 {
            let mins = u % 60;
            u /= 60;
            if u > 0 {
                out.push_str(&format!("{u}h"));
            }
            out.push_str(&format!("{mins}m"));
        }
        out.push_str(&format!("{secs}{frac}s"));
    }
    out
}

/// The nanoseconds in a unit's name, `None` for an unknown unit.
fn unit_nanos(name: &[u8]) -> Option<u64> {
    Some(match name {
        b"ns" => 1,
        // "µs" (micro sign) and "μs" (Greek mu)
        b"us" | b"\xc2\xb5s" | b"\xce\xbcs" => 1_000,
        b"ms" => 1_000_000,
        b"s" => 1_000_000_000,
        b"m" => 60_000_000_000,
        b"h" => 3_600_000_000_000,
        _ => return None,
    })
}

/// Go's `leadingFraction`: digits after a point as (value, scale, rest); digits past
/// the precision of a u64 are skipped.
fn leading_fraction(s: &[u8]) -> (u64, f64, &[u8]) {
    let (mut x, mut scale, mut overflow) = (0u64, 1f64, false);
    let mut i = 0;
    while let Some(&c) = s.get(i)
        && c.is_ascii_digit()
    {
        i += 1;
        if overflow {
            continue;
        }
        if x > (i64::MAX as u64) / 10 {
            overflow = true;
            continue;
        }
        let y = x * 10 + u64::from(c - b'0');
        if y > i64::MAX as u64 {
            overflow = true;
            continue;
        }
        x = y;
        scale *= 10.0;
    }
    (x, scale, &s[i..])
}

/// Go's `fmtFrac`: the `prec` low digits of `v` as `.ddd` without trailing zeros, and
/// `v / 10^prec`.
fn fraction_digits(mut v: u64, prec: usize) -> (String, u64) {
    let mut digits = Vec::with_capacity(prec + 1);
    let mut print = false;
    for _ in 0..prec {
        let digit = (v % 10) as u8;
        print = print || digit != 0;
        if print {
            digits.push(b'0' + digit);
        }
        v /= 10;
    }
    if print {
        digits.push(b'.');
    }
    digits.reverse();
    (String::from_utf8_lossy(&digits).into_owned(), v)
}
