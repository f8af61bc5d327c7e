//! Instants ([`Time`], Go's `time.Time`): Unix seconds plus nanoseconds and a
//! [`Location`]; calendar [`Fields`] are computed in the location.

use std::cmp::Ordering;
use std::fmt;

use crate::calendar::{SECS_PER_DAY, civil_from_days, days_from_civil, weekday_of_days};
use crate::layout::{STRING_LAYOUT, format_layout};
use crate::parse::{ParseError, parse_layout};
use crate::zone::{Location, LocationError};

/// The earliest (negated) and latest years a [`Time`] may fall in.
pub const MAX_YEAR: i64 = 200_000;

/// Nanoseconds in a second, wide.
const NS: i128 = 1_000_000_000;
/// The first Unix second of year `-MAX_YEAR`.
pub(crate) const MIN_SECS: i64 = days_from_civil(-MAX_YEAR, 1, 1) * SECS_PER_DAY;
/// The last Unix second of year `MAX_YEAR`.
pub(crate) const MAX_SECS: i64 = days_from_civil(MAX_YEAR + 1, 1, 1) * SECS_PER_DAY - 1;
/// Go's zero time, January 1, year 1, 00:00:00 UTC, in Unix seconds.
const ZERO_SECS: i64 = days_from_civil(1, 1, 1) * SECS_PER_DAY;

/// An instant with a location (Go's `time.Time`).
///
/// Equality and order compare instants only, like Go's `Equal` and `Before`.
#[derive(Clone, Debug)]
pub struct Time {
    secs: i64,
    nsec: u32,
    loc: Location,
}

/// The calendar fields of a [`Time`] in its location.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fields {
    /// The year (astronomical: 0 is 1 BC).
    pub year: i64,
    /// The month, 1..=12.
    pub month: u32,
    /// The day of the month, 1..=31.
    pub day: u32,
    /// The day of the year, 1..=366.
    pub yday: u32,
    /// The weekday, 0 (Sunday)..=6.
    pub weekday: u32,
    /// The hour, 0..=23.
    pub hour: u32,
    /// The minute, 0..=59.
    pub minute: u32,
    /// The second, 0..=59.
    pub second: u32,
    /// The nanoseconds within the second.
    pub nsec: u32,
    /// The zone's offset in seconds east of UTC.
    pub offset: i32,
    /// The zone's abbreviation (may be empty for unnamed fixed zones).
    pub zone: String,
}

/// Why a [`Time`] could not be made.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TimeError {
    /// The result falls outside the years -[`MAX_YEAR`]..=[`MAX_YEAR`].
    #[error("time out of range (years -{max}..{max})", max = MAX_YEAR)]
    OutOfRange,
    /// Text that does not match a layout (Go's parse error texts).
    #[error(transparent)]
    Parse(#[from] ParseError),
    /// A zone that cannot be made (a parsed offset of 24 hours or more).
    #[error(transparent)]
    Location(#[from] LocationError),
}

impl Time {
    /// The current time, in the local zone (like Go's `time.Now`).
    pub fn now() -> Time {
        let now = chrono::Utc::now();
        Time {
            secs: now.timestamp(),
            nsec: now.timestamp_subsec_nanos() % 1_000_000_000,
            loc: Location::local(),
        }
    }

    /// The instant `secs` seconds and `nsec` nanoseconds (any value) after the Unix epoch.
    pub fn from_unix(secs: i64, nsec: i64, loc: Location) -> Result<Time, TimeError> {
        Time::from_total_nanos(i128::from(secs) * NS + i128::from(nsec), loc)
    }

    /// Go's `time.Date` with `[year, month, day, hour, minute, second, nanosecond]`:
    /// values out of their usual ranges carry over (month 13 is January next year).
    pub fn date(parts: [i64; 7], loc: &Location) -> Result<Time, TimeError> {
        Time::civil(parts.map(i128::from), loc)
    }

    /// Parses `value` with a Go layout. Without `loc`, like Go's `time.Parse` (UTC
    /// unless the text names a zone); with it, like `time.ParseInLocation`.
    pub fn parse(layout: &str, value: &str, loc: Option<&Location>) -> Result<Time, TimeError> {
        match loc {
            Some(loc) => parse_layout(layout, value, loc, loc),
            None => parse_layout(layout, value, &Location::utc(), &Location::local()),
        }
    }

    /// Formats with a Go layout (`"2006-01-02T15:04:05Z07:00"`).
    pub fn format(&self, layout: &str) -> String {
        format_layout(&self.fields(), layout)
    }

    /// Seconds since the Unix epoch.
    pub fn unix(&self) -> i64 {
        self.secs
    }

    /// The nanoseconds within the second (0..1e9).
    pub fn nanosecond(&self) -> u32 {
        self.nsec
    }

    /// Nanoseconds since the Unix epoch, saturating outside the years 1678..2262.
    pub fn unix_nano(&self) -> i64 {
        saturate(self.total_nanos())
    }

    /// The location.
    pub fn location(&self) -> &Location {
        &self.loc
    }

    /// The same instant in `loc`.
    pub fn in_location(&self, loc: Location) -> Time {
        Time {
            loc,
            ..self.clone()
        }
    }

    /// `self + nanos`.
    pub fn add(&self, nanos: i64) -> Result<Time, TimeError> {
        Time::from_total_nanos(self.total_nanos() + i128::from(nanos), self.loc.clone())
    }

    /// `self - other` in nanoseconds, saturating at the `i64` range.
    pub fn sub(&self, other: &Time) -> i64 {
        saturate(self.total_nanos() - other.total_nanos())
    }

    /// Go's `AddDate`: adds to the calendar fields, then normalizes.
    pub fn add_date(&self, years: i64, months: i64, days: i64) -> Result<Time, TimeError> {
        let f = self.fields();
        Time::civil(
            [
                i128::from(f.year) + i128::from(years),
                i128::from(f.month) + i128::from(months),
                i128::from(f.day) + i128::from(days),
                f.hour.into(),
                f.minute.into(),
                f.second.into(),
                f.nsec.into(),
            ],
            &self.loc,
        )
    }

    /// Rounds down to a multiple of `nanos` since the zero time (unchanged if
    /// `nanos <= 0`).
    pub fn truncate(&self, nanos: i64) -> Result<Time, TimeError> {
        if nanos <= 0 {
            return Ok(self.clone());
        }
        let r = self.since_zero().rem_euclid(i128::from(nanos));
        Time::from_total_nanos(self.total_nanos() - r, self.loc.clone())
    }

    /// Rounds to the nearest multiple of `nanos` since the zero time, halves up
    /// (unchanged if `nanos <= 0`).
    pub fn round(&self, nanos: i64) -> Result<Time, TimeError> {
        if nanos <= 0 {
            return Ok(self.clone());
        }
        let d = i128::from(nanos);
        let r = self.since_zero().rem_euclid(d);
        let total = if r + r < d {
            self.total_nanos() - r
        } else {
            self.total_nanos() + (d - r)
        };
        Time::from_total_nanos(total, self.loc.clone())
    }

    /// Whether this is Go's zero time (January 1, year 1, 00:00:00 UTC).
    pub fn is_zero(&self) -> bool {
        self.secs == ZERO_SECS && self.nsec == 0
    }

    /// The calendar fields in the time's location.
    pub fn fields(&self) -> Fields {
        let (zone, offset) = self.loc.lookup(self.secs);
        let local = self.secs + i64::from(offset);
        let days = local.div_euclid(SECS_PER_DAY);
        let sod = local.rem_euclid(SECS_PER_DAY) as u32;
        let (year, month, day) = civil_from_days(days);
        Fields {
            year,
            month,
            day,
            yday: (days - days_from_civil(year, 1, 1) + 1) as u32,
            weekday: weekday_of_days(days),
            hour: sod / 3600,
            minute: sod / 60 % 60,
            second: sod % 60,
            nsec: self.nsec,
            offset,
            zone,
        }
    }

    fn total_nanos(&self) -> i128 {
        i128::from(self.secs) * NS + i128::from(self.nsec)
    }

    fn since_zero(&self) -> i128 {
        (i128::from(self.secs) - i128::from(ZERO_SECS)) * NS + i128::from(self.nsec)
    }

    fn from_total_nanos(total: i128, loc: Location) -> Result<Time, TimeError> {
        let secs = total.div_euclid(NS);
        if secs < i128::from(MIN_SECS) || secs > i128::from(MAX_SECS) {
            return Err(TimeError::OutOfRange);
        }
        Ok(Time {
            secs: secs as i64,
            nsec: total.rem_euclid(NS) as u32,
            loc,
        })
    }

    /// Go's `Date` on wide integers: normalize, then find the offset of the wall time.
    fn civil(parts: [i128; 7], loc: &Location) -> Result<Time, TimeError> {
        let out_of_range = || TimeError::OutOfRange;
        let [year, month, day, hour, minute, second, nsec] = parts;
        let m0 = month - 1;
        let year = year + m0.div_euclid(12);
        let month = (m0.rem_euclid(12) + 1) as u32;
        let limit = i128::from(MAX_YEAR) * 2;
        if year.abs() > limit || day.abs() > limit * 400 {
            return Err(out_of_range());
        }
        let days = i128::from(days_from_civil(year as i64, month, 1)) + day - 1;
        let wall = days * i128::from(SECS_PER_DAY) * NS
            + hour.checked_mul(3600 * NS).ok_or_else(out_of_range)?
            + minute.checked_mul(60 * NS).ok_or_else(out_of_range)?
            + second.checked_mul(NS).ok_or_else(out_of_range)?
            + nsec;
        let local = wall.div_euclid(NS);
        let slack = i128::from(SECS_PER_DAY);
        if local < i128::from(MIN_SECS) - slack || local > i128::from(MAX_SECS) + slack {
            return Err(out_of_range());
        }
        let local = local as i64;
        // Go's approach: the offset at the wall time read as UTC, corrected once
        let first = loc.lookup(local).1;
        let offset = loc.lookup(local - i64::from(first)).1;
        let secs = i128::from(local - i64::from(offset));
        Time::from_total_nanos(secs * NS + wall.rem_euclid(NS), loc.clone())
    }
}

impl PartialEq for Time {
    fn eq(&self, other: &Time) -> bool {
        (self.secs, self.nsec) == (other.secs, other.nsec)
    }
}

impl Eq for Time {}

impl PartialOrd for Time {
    fn partial_cmp(&self, other: &Time) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Time {
    fn cmp(&self, other: &Time) -> Ordering {
        (self.secs, self.nsec).cmp(&(other.secs, other.nsec))
    }
}

impl fmt::Display for Time {
    /// Go's `Time.String` form: `2006-01-02 15:04:05.999999999 -0700 MST`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.format(STRING_LAYOUT))
    }
}

/// Clamps to the `i64` range.
fn saturate(v: i128) -> i64 {
    v.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
}
