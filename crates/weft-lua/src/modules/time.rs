//! The `time` module: instants ([`Time`]), durations ([`Duration`]), locations
//! ([`Location`]), Go layouts (format and parse with Go's reference time
//! `Mon Jan 2 15:04:05 MST 2006`) and the async `time.sleep`.
//!
//! Any duration argument is nanoseconds (integer or float), a Go duration string
//! (`"1h30m"`) or a Duration userdata: see [`parse_duration_arg`]. A [`Time`] is Unix
//! seconds plus nanoseconds and a location; calendar fields are computed in the location.
//! Times span the years -200000..=200000; arithmetic that leaves that range fails.

use std::cmp::Ordering;
use std::fmt;
use std::sync::{Arc, OnceLock};

use chrono::{DateTime, Offset, TimeZone};
use chrono_tz::{OffsetName, Tz};
use mlua::{
    IntoLua, Lua, MetaMethod, Table, UserData, UserDataMethods, Value as LuaValue, Variadic,
};
use weft_core::Error;

use crate::errors;

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

/// Go's `time.RFC3339` layout.
pub const RFC3339: &str = "2006-01-02T15:04:05Z07:00";
/// Go's `time.RFC3339Nano` layout.
pub const RFC3339_NANO: &str = "2006-01-02T15:04:05.999999999Z07:00";

/// The layout constants of the module (Lua name, Go layout).
const LAYOUTS: &[(&str, &str)] = &[
    ("ANSIC", "Mon Jan _2 15:04:05 2006"),
    ("UNIX_DATE", "Mon Jan _2 15:04:05 MST 2006"),
    ("RUBY_DATE", "Mon Jan 02 15:04:05 -0700 2006"),
    ("RFC822", "02 Jan 06 15:04 MST"),
    ("RFC822Z", "02 Jan 06 15:04 -0700"),
    ("RFC850", "Monday, 02-Jan-06 15:04:05 MST"),
    ("RFC1123", "Mon, 02 Jan 2006 15:04:05 MST"),
    ("RFC1123Z", "Mon, 02 Jan 2006 15:04:05 -0700"),
    ("RFC3339", RFC3339),
    ("RFC3339NANO", RFC3339_NANO),
    ("KITCHEN", "3:04PM"),
    ("STAMP", "Jan _2 15:04:05"),
    ("STAMP_MILLI", "Jan _2 15:04:05.000"),
    ("STAMP_MICRO", "Jan _2 15:04:05.000000"),
    ("STAMP_NANO", "Jan _2 15:04:05.000000000"),
    ("DATE_TIME", "2006-01-02 15:04:05"),
    ("DATE_ONLY", "2006-01-02"),
    ("TIME_ONLY", "15:04:05"),
];

/// Go's `Time.String` layout.
const STRING_LAYOUT: &str = "2006-01-02 15:04:05.999999999 -0700 MST";

const LONG_MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const LONG_DAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];

const NS: i128 = 1_000_000_000;
/// 2^63: floats at or past it in magnitude do not fit an i64.
const TWO_POW_63: f64 = -(i64::MIN as f64);
const SECS_PER_DAY: i64 = 86_400;
/// The earliest and latest years a [`Time`] may fall in.
const MAX_YEAR: i64 = 200_000;
const MIN_SECS: i64 = days_from_civil(-MAX_YEAR, 1, 1) * SECS_PER_DAY;
const MAX_SECS: i64 = days_from_civil(MAX_YEAR + 1, 1, 1) * SECS_PER_DAY - 1;
/// Go's zero time, January 1, year 1, 00:00:00 UTC, in Unix seconds.
const ZERO_SECS: i64 = days_from_civil(1, 1, 1) * SECS_PER_DAY;

/// A span of time in nanoseconds (Go's `time.Duration`); a Lua userdata.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Duration(pub i64);

/// A time zone (Go's `*time.Location`); a Lua userdata.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Location(Zone);

#[derive(Clone, Debug, PartialEq, Eq)]
enum Zone {
    Utc,
    /// The host's zone (`time.localtz`, Go's `time.Local`).
    Local,
    Fixed {
        name: Arc<str>,
        offset: i32,
    },
    Iana(Tz),
}

/// An instant with a location (Go's `time.Time`); a Lua userdata.
///
/// Equality and order compare instants only, like Go's `Equal` and `Before`.
#[derive(Clone, Debug)]
pub struct Time {
    secs: i64,
    nsec: u32,
    loc: Location,
}

/// The calendar fields of a [`Time`] in its location.
struct Fields {
    year: i64,
    month: u32,
    day: u32,
    yday: u32,
    weekday: u32,
    hour: u32,
    minute: u32,
    second: u32,
    nsec: u32,
    offset: i32,
    zone: String,
}

/// Builds the `time` module table.
pub fn module(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    for (name, value) in [
        ("NANOSECOND", NANOSECOND),
        ("MICROSECOND", MICROSECOND),
        ("MILLISECOND", MILLISECOND),
        ("SECOND", SECOND),
        ("MINUTE", MINUTE),
        ("HOUR", HOUR),
    ] {
        t.set(name, value)?;
    }
    for (name, layout) in LAYOUTS {
        t.set(*name, *layout)?;
    }
    for (i, month) in LONG_MONTHS.iter().enumerate() {
        t.set(month.to_ascii_uppercase(), i + 1)?;
    }
    for (i, day) in LONG_DAYS.iter().enumerate() {
        t.set(day.to_ascii_uppercase(), i)?;
    }
    t.set("utc", Location::utc())?;
    t.set("localtz", Location::local())?;
    t.set(
        "sleep",
        lua.create_async_function(|_, d: LuaValue| {
            let d = parse_duration_arg(&d);
            async move {
                let d = Duration(d.map_err(raise)?);
                if d.0 > 0 {
                    tokio::time::sleep(d.to_std()).await;
                }
                Ok(())
            }
        })?,
    )?;
    t.set("now", lua.create_function(|_, ()| Ok(Time::now()))?)?;
    t.set(
        "unix",
        lua.create_function(|lua, (sec, nsec): (LuaValue, LuaValue)| {
            let r = int_arg(&sec, "seconds").and_then(|sec| {
                Time::from_unix(sec, opt_int_arg(&nsec, "nanoseconds")?, Location::local())
            });
            value_or_fail(lua, r)
        })?,
    )?;
    t.set("date", lua.create_function(date)?)?;
    t.set(
        "parse",
        lua.create_function(
            |lua, (layout, value, loc): (LuaValue, LuaValue, LuaValue)| {
                let r = (|| {
                    let layout = str_arg(&layout, "layout")?;
                    let value = str_arg(&value, "value")?;
                    let loc = opt_location_arg(&loc)?;
                    Time::parse(&layout, &value, loc.as_ref())
                })();
                value_or_fail(lua, r)
            },
        )?,
    )?;
    t.set(
        "parse_duration",
        lua.create_function(|lua, v: LuaValue| {
            value_or_fail(lua, parse_duration_arg(&v).map(Duration))
        })?,
    )?;
    t.set(
        "load_location",
        lua.create_function(|lua, name: LuaValue| {
            let r = str_arg(&name, "location name").and_then(|name| Location::load(&name));
            value_or_fail(lua, r)
        })?,
    )?;
    t.set(
        "fixed_zone",
        lua.create_function(|lua, (name, offset): (LuaValue, LuaValue)| {
            let r = str_arg(&name, "zone name").and_then(|name| {
                let offset = int_arg(&offset, "offset")?;
                Location::fixed(&name, offset)
            });
            value_or_fail(lua, r)
        })?,
    )?;
    Ok(t)
}

/// Reads a duration argument: integer or float nanoseconds, a Go duration string or a
/// Duration userdata. Gives the nanoseconds (possibly zero or negative).
pub fn parse_duration_arg(v: &LuaValue) -> Result<i64, Error> {
    match v {
        LuaValue::Integer(n) => Ok(*n),
        LuaValue::Number(f) => {
            if f.is_finite() && f.abs() < TWO_POW_63 {
                Ok(f.trunc() as i64)
            } else {
                Err(Error::invalid(format!("invalid duration: {f} nanoseconds")))
            }
        }
        LuaValue::String(s) => parse_go_duration(&s.to_string_lossy()),
        LuaValue::UserData(ud) => match ud.borrow::<Duration>() {
            Ok(d) => Ok(d.0),
            Err(_) => Err(Error::invalid(
                "invalid duration: expected a number, a string or a Duration, got userdata",
            )),
        },
        other => Err(Error::invalid(format!(
            "invalid duration: expected a number, a string or a Duration, got {}",
            other.type_name()
        ))),
    }
}

/// Parses a Go duration string (`"1h30m"`, `"1.5s"`, `"-2m"`, `"300ms"`; units ns, us,
/// µs, ms, s, m, h) into nanoseconds, with Go's error messages.
pub fn parse_go_duration(text: &str) -> Result<i64, Error> {
    let invalid = || Error::invalid(format!("time: invalid duration {}", quote(text)));
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
            return Err(Error::invalid(format!(
                "time: missing unit in duration {}",
                quote(text)
            )));
        }
        let (unit_name, rest) = s.split_at(unit_len);
        s = rest;
        let unit: u64 = match unit_name {
            b"ns" => 1,
            // "µs" (micro sign) and "μs" (Greek mu)
            b"us" | b"\xc2\xb5s" | b"\xce\xbcs" => 1_000,
            b"ms" => 1_000_000,
            b"s" => 1_000_000_000,
            b"m" => 60_000_000_000,
            b"h" => 3_600_000_000_000,
            _ => {
                return Err(Error::invalid(format!(
                    "time: unknown unit {} in duration {}",
                    quote(&String::from_utf8_lossy(unit_name)),
                    quote(text)
                )));
            }
        };
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

impl Duration {
    /// The duration as a [`std::time::Duration`]; negative durations become zero.
    pub fn to_std(self) -> std::time::Duration {
        std::time::Duration::from_nanos(self.0.max(0) as u64)
    }
}

impl fmt::Display for Duration {
    /// Go's form: `1h30m45s`, `1.5s`, `250ms`, `1µs`, `0s`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut u = self.0.unsigned_abs();
        let mut out = String::new();
        if u < SECOND as u64 {
            if u == 0 {
                return f.write_str("0s");
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
        if self.0 < 0 {
            f.write_str("-")?;
        }
        f.write_str(&out)
    }
}

impl UserData for Duration {
    fn add_methods<M: UserDataMethods<Self>>(methods: &mut M) {
        methods.add_method("nanoseconds", |_, d, ()| Ok(d.0));
        methods.add_method("microseconds", |_, d, ()| Ok(d.0 / MICROSECOND));
        methods.add_method("milliseconds", |_, d, ()| Ok(d.0 / MILLISECOND));
        methods.add_method("seconds", |_, d, ()| Ok(split_float(d.0, SECOND)));
        methods.add_method("minutes", |_, d, ()| Ok(split_float(d.0, MINUTE)));
        methods.add_method("hours", |_, d, ()| Ok(split_float(d.0, HOUR)));
        methods.add_meta_method(MetaMethod::ToString, |_, d, ()| Ok(d.to_string()));
        methods.add_meta_function(MetaMethod::Eq, |_, (a, b): (LuaValue, LuaValue)| {
            Ok(matches!((parse_duration_arg(&a), parse_duration_arg(&b)), (Ok(a), Ok(b)) if a == b))
        });
        methods.add_meta_function(MetaMethod::Lt, |_, (a, b): (LuaValue, LuaValue)| {
            let (a, b) = duration_pair(&a, &b)?;
            Ok(a < b)
        });
        methods.add_meta_function(MetaMethod::Le, |_, (a, b): (LuaValue, LuaValue)| {
            let (a, b) = duration_pair(&a, &b)?;
            Ok(a <= b)
        });
        methods.add_meta_function(MetaMethod::Add, |_, (a, b): (LuaValue, LuaValue)| {
            let (a, b) = duration_pair(&a, &b)?;
            a.checked_add(b)
                .map(Duration)
                .ok_or_else(|| raise(Error::invalid("duration overflow")))
        });
        methods.add_meta_function(MetaMethod::Sub, |_, (a, b): (LuaValue, LuaValue)| {
            let (a, b) = duration_pair(&a, &b)?;
            a.checked_sub(b)
                .map(Duration)
                .ok_or_else(|| raise(Error::invalid("duration overflow")))
        });
        methods.add_meta_method(MetaMethod::Unm, |_, d, ()| {
            d.0.checked_neg()
                .map(Duration)
                .ok_or_else(|| raise(Error::invalid("duration overflow")))
        });
    }
}

impl Location {
    /// UTC.
    pub fn utc() -> Location {
        Location(Zone::Utc)
    }

    /// The host's zone (Go's `time.Local`: `$TZ`, else `/etc/localtime`, else UTC).
    pub fn local() -> Location {
        Location(Zone::Local)
    }

    /// A zone always `offset` seconds east of UTC (`|offset|` under 24 hours).
    pub fn fixed(name: &str, offset: i64) -> Result<Location, Error> {
        match i32::try_from(offset) {
            Ok(offset) if offset.unsigned_abs() < SECS_PER_DAY as u32 => {
                Ok(Location(Zone::Fixed {
                    name: name.into(),
                    offset,
                }))
            }
            _ => Err(Error::invalid(format!(
                "zone offset {offset} out of range (must be under 24 hours)"
            ))),
        }
    }

    /// Loads `"UTC"`, `"Local"` or an IANA zone name; `""` is Invalid, an unknown name
    /// NotFound.
    pub fn load(name: &str) -> Result<Location, Error> {
        match name {
            "" => Err(Error::invalid("location name cannot be empty")),
            "UTC" => Ok(Location::utc()),
            "Local" => Ok(Location::local()),
            _ => name
                .parse::<Tz>()
                .map(|tz| Location(Zone::Iana(tz)))
                .map_err(|_| Error::not_found(format!("unknown time zone {name}"))),
        }
    }

    /// The name: `"UTC"`, `"Local"`, the IANA name or the fixed zone's name.
    pub fn name(&self) -> &str {
        match &self.0 {
            Zone::Utc => "UTC",
            Zone::Local => "Local",
            Zone::Fixed { name, .. } => name,
            Zone::Iana(tz) => tz.name(),
        }
    }

    /// The zone in effect: fixed zones as they are, `Local` resolved.
    fn resolved(&self) -> Zone {
        match &self.0 {
            Zone::Local => local_tz().map_or(Zone::Utc, Zone::Iana),
            other => other.clone(),
        }
    }

    /// The abbreviation and offset (seconds east of UTC) in effect at Unix second `secs`.
    fn lookup(&self, secs: i64) -> (String, i32) {
        match self.resolved() {
            Zone::Utc | Zone::Local => ("UTC".into(), 0),
            Zone::Fixed { name, offset } => (name.to_string(), offset),
            Zone::Iana(tz) => {
                let secs = within_zone_tables(secs.clamp(MIN_SECS, MAX_SECS));
                match DateTime::from_timestamp(secs, 0) {
                    Some(at) => {
                        let off = tz.offset_from_utc_datetime(&at.naive_utc());
                        let offset = off.fix().local_minus_utc();
                        let abbrev = match off.abbreviation() {
                            Some(a) if !a.is_empty() => a.to_string(),
                            _ => numeric_abbreviation(offset),
                        };
                        (abbrev, offset)
                    }
                    None => ("UTC".into(), 0),
                }
            }
        }
    }

    /// The offset of the zone abbreviation `name` near local second `local_secs` (Go's
    /// `lookupName`): one in effect then if any, else the first period with that name
    /// within a year, else in the zone's history since 1800.
    fn lookup_name(&self, name: &str, local_secs: i64) -> Option<i32> {
        match self.resolved() {
            Zone::Utc | Zone::Local => (name == "UTC").then_some(0),
            Zone::Fixed { name: n, offset } => (&*n == name).then_some(offset),
            Zone::Iana(_) => {
                let step = 30 * SECS_PER_DAY;
                let named = |at: i64| {
                    let (abbrev, offset) = self.lookup(at);
                    (abbrev == name).then_some(offset)
                };
                let mut offsets: Vec<i32> = (-13..=13)
                    .filter_map(|k| named(local_secs.saturating_add(k * step)))
                    .collect();
                if offsets.is_empty() {
                    let from = days_from_civil(1800, 1, 1) * SECS_PER_DAY;
                    let to = days_from_civil(2100, 1, 1) * SECS_PER_DAY;
                    offsets.extend((from..to).step_by(step as usize).filter_map(named));
                }
                offsets
                    .iter()
                    .find_map(|offset| named(local_secs - i64::from(*offset)))
                    .or_else(|| offsets.first().copied())
            }
        }
    }
}

impl UserData for Location {
    fn add_methods<M: UserDataMethods<Self>>(methods: &mut M) {
        methods.add_method("string", |_, loc, ()| Ok(loc.name().to_string()));
        methods.add_meta_method(MetaMethod::ToString, |_, loc, ()| {
            Ok(loc.name().to_string())
        });
        methods.add_meta_function(MetaMethod::Eq, |_, (a, b): (LuaValue, LuaValue)| {
            Ok(matches!((location_of(&a), location_of(&b)), (Some(a), Some(b)) if a == b))
        });
    }
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
    pub fn from_unix(secs: i64, nsec: i64, loc: Location) -> Result<Time, Error> {
        Time::from_total_nanos(i128::from(secs) * NS + i128::from(nsec), loc)
    }

    /// Go's `time.Date` with `[year, month, day, hour, minute, second, nanosecond]`:
    /// values out of their usual ranges carry over (month 13 is January next year).
    pub fn date(parts: [i64; 7], loc: &Location) -> Result<Time, Error> {
        Time::civil(parts.map(i128::from), loc)
    }

    /// Parses `value` with a Go layout. Without `loc`, like Go's `time.Parse` (UTC
    /// unless the text names a zone); with it, like `time.ParseInLocation`. Failures are
    /// Invalid with Go's message.
    pub fn parse(layout: &str, value: &str, loc: Option<&Location>) -> Result<Time, Error> {
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

    /// `self + d`.
    pub fn add(&self, d: Duration) -> Result<Time, Error> {
        Time::from_total_nanos(self.total_nanos() + i128::from(d.0), self.loc.clone())
    }

    /// `self - other`, saturating at the Duration range.
    pub fn sub(&self, other: &Time) -> Duration {
        Duration(saturate(self.total_nanos() - other.total_nanos()))
    }

    /// Go's `AddDate`: adds to the calendar fields, then normalizes.
    pub fn add_date(&self, years: i64, months: i64, days: i64) -> Result<Time, Error> {
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

    /// Rounds down to a multiple of `d` since the zero time (unchanged if `d <= 0`).
    pub fn truncate(&self, d: Duration) -> Result<Time, Error> {
        if d.0 <= 0 {
            return Ok(self.clone());
        }
        let r = self.since_zero().rem_euclid(i128::from(d.0));
        Time::from_total_nanos(self.total_nanos() - r, self.loc.clone())
    }

    /// Rounds to the nearest multiple of `d` since the zero time, halves up (unchanged if
    /// `d <= 0`).
    pub fn round(&self, d: Duration) -> Result<Time, Error> {
        if d.0 <= 0 {
            return Ok(self.clone());
        }
        let d = i128::from(d.0);
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

    fn total_nanos(&self) -> i128 {
        i128::from(self.secs) * NS + i128::from(self.nsec)
    }

    fn since_zero(&self) -> i128 {
        (i128::from(self.secs) - i128::from(ZERO_SECS)) * NS + i128::from(self.nsec)
    }

    fn from_total_nanos(total: i128, loc: Location) -> Result<Time, Error> {
        let secs = total.div_euclid(NS);
        if secs < i128::from(MIN_SECS) || secs > i128::from(MAX_SECS) {
            return Err(out_of_range());
        }
        Ok(Time {
            secs: secs as i64,
            nsec: total.rem_euclid(NS) as u32,
            loc,
        })
    }

    /// Go's `Date` on wide integers: normalize, then find the offset of the wall time.
    fn civil(parts: [i128; 7], loc: &Location) -> Result<Time, Error> {
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

    fn fields(&self) -> Fields {
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
            weekday: (days + 4).rem_euclid(7) as u32,
            hour: sod / 3600,
            minute: sod / 60 % 60,
            second: sod % 60,
            nsec: self.nsec,
            offset,
            zone,
        }
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

impl UserData for Time {
    fn add_methods<M: UserDataMethods<Self>>(methods: &mut M) {
        methods.add_method("add", |_, t, d: LuaValue| {
            let d = parse_duration_arg(&d).map_err(raise)?;
            t.add(Duration(d)).map_err(raise)
        });
        methods.add_method("sub", |_, t, u: LuaValue| Ok(t.sub(&time_arg(&u)?)));
        methods.add_method(
            "add_date",
            |_, t, (y, m, d): (LuaValue, LuaValue, LuaValue)| {
                let years = opt_int_arg(&y, "years").map_err(raise)?;
                let months = opt_int_arg(&m, "months").map_err(raise)?;
                let days = opt_int_arg(&d, "days").map_err(raise)?;
                t.add_date(years, months, days).map_err(raise)
            },
        );
        methods.add_method("after", |_, t, u: LuaValue| Ok(*t > time_arg(&u)?));
        methods.add_method("before", |_, t, u: LuaValue| Ok(*t < time_arg(&u)?));
        methods.add_method("equal", |_, t, u: LuaValue| Ok(*t == time_arg(&u)?));
        methods.add_method("format", |_, t, layout: LuaValue| {
            Ok(t.format(&str_arg(&layout, "layout").map_err(raise)?))
        });
        methods.add_method("format_rfc3339", |_, t, ()| Ok(t.format(RFC3339)));
        methods.add_method("unix", |_, t, ()| Ok(t.unix()));
        methods.add_method("unix_nano", |_, t, ()| Ok(t.unix_nano()));
        methods.add_method("date", |_, t, ()| {
            let f = t.fields();
            Ok((f.year, f.month, f.day))
        });
        methods.add_method("clock", |_, t, ()| {
            let f = t.fields();
            Ok((f.hour, f.minute, f.second))
        });
        methods.add_method("year", |_, t, ()| Ok(t.fields().year));
        methods.add_method("month", |_, t, ()| Ok(t.fields().month));
        methods.add_method("day", |_, t, ()| Ok(t.fields().day));
        methods.add_method("hour", |_, t, ()| Ok(t.fields().hour));
        methods.add_method("minute", |_, t, ()| Ok(t.fields().minute));
        methods.add_method("second", |_, t, ()| Ok(t.fields().second));
        methods.add_method("nanosecond", |_, t, ()| Ok(t.nanosecond()));
        methods.add_method("weekday", |_, t, ()| Ok(t.fields().weekday));
        methods.add_method("year_day", |_, t, ()| Ok(t.fields().yday));
        methods.add_method("is_zero", |_, t, ()| Ok(t.is_zero()));
        methods.add_method("in_location", |_, t, loc: LuaValue| {
            let loc = location_of(&loc).ok_or_else(|| {
                raise(Error::invalid(format!(
                    "in_location expects a Location, got {}",
                    loc.type_name()
                )))
            })?;
            Ok(t.in_location(loc))
        });
        methods.add_method("location", |_, t, ()| Ok(t.loc.clone()));
        methods.add_method("utc", |_, t, ()| Ok(t.in_location(Location::utc())));
        methods.add_method("in_local", |_, t, ()| Ok(t.in_location(Location::local())));
        methods.add_method("round", |_, t, d: LuaValue| {
            let d = parse_duration_arg(&d).map_err(raise)?;
            t.round(Duration(d)).map_err(raise)
        });
        methods.add_method("truncate", |_, t, d: LuaValue| {
            let d = parse_duration_arg(&d).map_err(raise)?;
            t.truncate(Duration(d)).map_err(raise)
        });
        methods.add_meta_method(MetaMethod::ToString, |_, t, ()| Ok(t.to_string()));
        methods.add_meta_function(MetaMethod::Eq, |_, (a, b): (LuaValue, LuaValue)| {
            Ok(matches!((time_arg(&a), time_arg(&b)), (Ok(a), Ok(b)) if a == b))
        });
        methods.add_meta_function(MetaMethod::Lt, |_, (a, b): (LuaValue, LuaValue)| {
            Ok(time_arg(&a)? < time_arg(&b)?)
        });
        methods.add_meta_function(MetaMethod::Le, |_, (a, b): (LuaValue, LuaValue)| {
            Ok(time_arg(&a)? <= time_arg(&b)?)
        });
    }
}

/// `time.date(y, m, d, h?, mi?, s?, ns?, loc?)`: Time, or `nil, err`.
fn date(lua: &Lua, args: Variadic<LuaValue>) -> mlua::Result<(LuaValue, LuaValue)> {
    let arg = |i: usize| args.get(i).unwrap_or(&LuaValue::Nil);
    let r = (|| {
        let parts = [
            int_arg(arg(0), "year")?,
            int_arg(arg(1), "month")?,
            int_arg(arg(2), "day")?,
            opt_int_arg(arg(3), "hour")?,
            opt_int_arg(arg(4), "minute")?,
            opt_int_arg(arg(5), "second")?,
            opt_int_arg(arg(6), "nanosecond")?,
        ];
        let loc = opt_location_arg(arg(7))?.unwrap_or_else(Location::local);
        Time::date(parts, &loc)
    })();
    value_or_fail(lua, r)
}

// ---------------------------------------------------------------------------------------
// Go layouts

/// A layout element (Go's `std*` codes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Std {
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
    fn is_iso_tz(self) -> bool {
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
fn next_chunk(layout: &[u8]) -> (&[u8], Option<Std>, &[u8]) {
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
fn format_layout(f: &Fields, layout: &str) -> String {
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
            Std::Month => out.extend_from_slice(&LONG_MONTHS[month_index(f.month)].as_bytes()[..3]),
            Std::LongMonth => out.extend_from_slice(LONG_MONTHS[month_index(f.month)].as_bytes()),
            Std::NumMonth => push_int(&mut out, f.month.into(), 0),
            Std::ZeroMonth => push_int(&mut out, f.month.into(), 2),
            Std::WeekDay => {
                out.extend_from_slice(&LONG_DAYS[f.weekday as usize % 7].as_bytes()[..3])
            }
            Std::LongWeekDay => out.extend_from_slice(LONG_DAYS[f.weekday as usize % 7].as_bytes()),
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

/// Go's `time.parse`: `default_loc` applies when the text names no zone; `local` is the
/// zone a parsed offset or abbreviation is matched against.
fn parse_layout(
    layout: &str,
    value: &str,
    default_loc: &Location,
    local: &Location,
) -> Result<Time, Error> {
    let cannot = |elem: &[u8], what: &[u8]| {
        Error::invalid(format!(
            "parsing time {} as {}: cannot parse {} as {}",
            quote(value),
            quote(layout),
            quote(&String::from_utf8_lossy(elem)),
            quote(&String::from_utf8_lossy(what)),
        ))
    };
    let mut fields = Parsed::new();
    let (mut lay, mut val) = (layout.as_bytes(), value.as_bytes());
    loop {
        let (prefix, std, suffix) = next_chunk(lay);
        let std_text = &lay[prefix.len()..lay.len() - suffix.len()];
        val = skip(val, prefix).map_err(|at| cannot(at, prefix))?;
        let Some(std) = std else {
            if !val.is_empty() {
                let extra = quote(&String::from_utf8_lossy(val));
                return Err(parse_failure(value, &format!(": extra text: {extra}")));
            }
            break;
        };
        lay = suffix;
        let rest = fields.read(std, val, lay);
        if let Some(what) = fields.out_of_range {
            return Err(parse_failure(value, &format!(": {what} out of range")));
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
                let names = LONG_MONTHS.map(|m| if std == Std::Month { &m[..3] } else { m });
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
                let names = LONG_DAYS.map(|d| if std == Std::WeekDay { &d[..3] } else { d });
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
    ) -> Result<Time, Error> {
        if self.pm && self.hour < 12 {
            self.hour += 12;
        } else if self.am && self.hour == 12 {
            self.hour = 0;
        }
        if self.yday >= 0 {
            let (m, d) = month_day_of_year(self.year, self.yday)
                .ok_or_else(|| parse_failure(value, ": day-of-year out of range"))?;
            if self.month >= 0 && self.month != m {
                return Err(parse_failure(value, ": day-of-year does not match month"));
            }
            if self.day >= 0 && self.day != d {
                return Err(parse_failure(value, ": day-of-year does not match day"));
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
            return Err(parse_failure(value, ": day out of range"));
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
            let t = Time::from_unix(wall.secs - offset, wall.nsec.into(), Location::utc())?;
            let (name, local_offset) = local.lookup(t.secs);
            let same_name = self.zone_name.as_ref().is_none_or(|z| *z == name);
            if i64::from(local_offset) == offset && same_name {
                return Ok(t.in_location(local.clone()));
            }
            let name = self.zone_name.unwrap_or_default();
            return Ok(t.in_location(Location::fixed(&name, offset)?));
        }
        if let Some(name) = self.zone_name {
            if let Some(offset) = local.lookup_name(&name, wall.secs) {
                let secs = wall.secs - i64::from(offset);
                return Time::from_unix(secs, wall.nsec.into(), local.clone());
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

/// A parse error with a message after the quoted value (`parsing time "x": ...`).
fn parse_failure(value: &str, msg: &str) -> Error {
    Error::invalid(format!("parsing time {}{msg}", quote(value)))
}

// ---------------------------------------------------------------------------------------
// Helpers

/// Wraps a weft error as a raised Lua error.
fn raise(err: Error) -> mlua::Error {
    mlua::Error::external(err)
}

/// `value, nil` on success, `nil, err` on failure.
fn value_or_fail<T: IntoLua>(lua: &Lua, r: Result<T, Error>) -> mlua::Result<(LuaValue, LuaValue)> {
    match r {
        Ok(v) => Ok((v.into_lua(lua)?, LuaValue::Nil)),
        Err(e) => errors::fail(lua, e),
    }
}

fn out_of_range() -> Error {
    Error::invalid(format!("time out of range (years -{MAX_YEAR}..{MAX_YEAR})"))
}

/// A Time argument, or an Invalid error.
fn time_arg(v: &LuaValue) -> mlua::Result<Time> {
    match v {
        LuaValue::UserData(ud) => match ud.borrow::<Time>() {
            Ok(t) => Ok(t.clone()),
            Err(_) => Err(raise(Error::invalid("expected a Time, got userdata"))),
        },
        other => Err(raise(Error::invalid(format!(
            "expected a Time, got {}",
            other.type_name()
        )))),
    }
}

fn location_of(v: &LuaValue) -> Option<Location> {
    match v {
        LuaValue::UserData(ud) => ud.borrow::<Location>().ok().map(|l| l.clone()),
        _ => None,
    }
}

/// An optional Location argument (nil gives `None`).
fn opt_location_arg(v: &LuaValue) -> Result<Option<Location>, Error> {
    if v.is_nil() {
        return Ok(None);
    }
    location_of(v)
        .map(Some)
        .ok_or_else(|| Error::invalid(format!("expected a Location, got {}", v.type_name())))
}

/// An integer argument: a Lua integer or a float with an integral value.
fn int_arg(v: &LuaValue, what: &str) -> Result<i64, Error> {
    match v {
        LuaValue::Integer(n) => Ok(*n),
        LuaValue::Number(f) if f.fract() == 0.0 && f.abs() < TWO_POW_63 => Ok(*f as i64),
        other => Err(Error::invalid(format!(
            "{what} must be an integer, got {}",
            match other {
                LuaValue::Number(f) => f.to_string(),
                other => other.type_name().to_string(),
            }
        ))),
    }
}

/// Like [`int_arg`], with nil meaning zero.
fn opt_int_arg(v: &LuaValue, what: &str) -> Result<i64, Error> {
    if v.is_nil() { Ok(0) } else { int_arg(v, what) }
}

fn str_arg(v: &LuaValue, what: &str) -> Result<String, Error> {
    match v {
        LuaValue::String(s) => Ok(s.to_string_lossy()),
        other => Err(Error::invalid(format!(
            "{what} must be a string, got {}",
            other.type_name()
        ))),
    }
}

/// Both operands of a Duration metamethod as nanoseconds.
fn duration_pair(a: &LuaValue, b: &LuaValue) -> mlua::Result<(i64, i64)> {
    Ok((
        parse_duration_arg(a).map_err(raise)?,
        parse_duration_arg(b).map_err(raise)?,
    ))
}

/// `d / unit` as a float, exact in the integer part (Go's `Seconds`/`Minutes`/`Hours`).
fn split_float(d: i64, unit: i64) -> f64 {
    (d / unit) as f64 + (d % unit) as f64 / unit as f64
}

fn saturate(v: i128) -> i64 {
    v.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
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

/// Go's `leadingInt`: the leading digits as a number, `None` past 2^63.
fn leading_int(s: &[u8]) -> Option<(u64, &[u8])> {
    let mut x: u64 = 0;
    let mut i = 0;
    while let Some(&c) = s.get(i)
        && c.is_ascii_digit()
    {
        if x > (1 << 63) / 10 {
            return None;
        }
        x = x * 10 + u64::from(c - b'0');
        if x > 1 << 63 {
            return None;
        }
        i += 1;
    }
    Some((x, &s[i..]))
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

/// Go's quoting in time error messages: double quotes, `\xNN` for non-ASCII bytes.
fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for &b in s.as_bytes() {
        match b {
            b'"' | b'\\' => {
                out.push('\\');
                out.push(b as char);
            }
            0x20..=0x7e => out.push(b as char),
            _ => out.push_str(&format!("\\x{b:02x}")),
        }
    }
    out.push('"');
    out
}

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

fn month_index(month: u32) -> usize {
    (month as usize).saturating_sub(1) % 12
}

fn is_leap(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Month and day of day-of-year `yday` (Go's parse rules: 1..=365, or 366 in leap
/// years).
fn month_day_of_year(year: i64, yday: i64) -> Option<(i64, i64)> {
    let max = if is_leap(year) { 366 } else { 365 };
    if !(1..=max).contains(&yday) {
        return None;
    }
    let mut rest = yday;
    for month in 1..=12 {
        let n = days_in_month(year, month);
        if rest <= n {
            return Some((month, rest));
        }
        rest -= n;
    }
    None
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
const fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = month as i64;
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + day as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day count since 1970-01-01.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Maps an instant past the zone tables (chrono-tz lists transitions through 2099) to
/// the same wall-calendar moment of a year 2060..2087 with the same calendar (leap year
/// and weekday of January 1), where the current rules are tabulated. Go applies the
/// rules of the zone file's footer there instead; the result is the same.
fn within_zone_tables(secs: i64) -> i64 {
    const TABLE_END_YEAR: i64 = 2100;
    let days = secs.div_euclid(SECS_PER_DAY);
    let (year, _, _) = civil_from_days(days);
    if year < TABLE_END_YEAR {
        return secs;
    }
    let calendar = |y: i64| (is_leap(y), days_from_civil(y, 1, 1).rem_euclid(7));
    let twin = (2060..2088)
        .find(|&y| calendar(y) == calendar(year))
        .unwrap_or(2060);
    secs - (days_from_civil(year, 1, 1) - days_from_civil(twin, 1, 1)) * SECS_PER_DAY
}

/// The tz database's name for zones without letters: `+04`, `+0545`, `-03`.
fn numeric_abbreviation(offset: i32) -> String {
    let abs = offset.unsigned_abs();
    let sign = if offset < 0 { '-' } else { '+' };
    let (h, m, s) = (abs / 3600, abs / 60 % 60, abs % 60);
    match (m, s) {
        (0, 0) => format!("{sign}{h:02}"),
        (m, 0) => format!("{sign}{h:02}{m:02}"),
        (m, s) => format!("{sign}{h:02}{m:02}{s:02}"),
    }
}

/// The host's IANA zone: `$TZ` (`""` means UTC), else the target of `/etc/localtime`,
/// else `/etc/timezone`; `None` means UTC.
fn local_tz() -> Option<Tz> {
    static LOCAL: OnceLock<Option<Tz>> = OnceLock::new();
    *LOCAL.get_or_init(|| {
        let from_path = |p: &str| -> Option<Tz> {
            let name = p.rsplit_once("zoneinfo/").map_or(p, |(_, n)| n);
            name.trim().trim_start_matches(':').parse().ok()
        };
        if let Ok(tz) = std::env::var("TZ") {
            return from_path(&tz);
        }
        if let Ok(target) = std::fs::read_link("/etc/localtime")
            && let Some(tz) = from_path(&target.to_string_lossy())
        {
            return Some(tz);
        }
        std::fs::read_to_string("/etc/timezone")
            .ok()
            .and_then(|s| from_path(&s))
    })
}

#[cfg(test)]
mod tests {
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

    fn utc(parts: [i64; 7]) -> Time {
        Time::date(parts, &Location::utc()).unwrap()
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
            assert_eq!(parse_go_duration(text).unwrap(), ns, "{text}");
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
            let err = parse_go_duration(text).unwrap_err();
            assert!(err.message().starts_with(msg), "{text}: {err}");
            assert_eq!(err.kind(), weft_core::ErrorKind::Invalid);
        }
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
            assert_eq!(Duration(ns).to_string(), text);
            if ns != i64::MIN {
                assert_eq!(parse_go_duration(text).unwrap(), ns, "{text}");
            }
        }
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
                let back = Time::parse(layout, &text, None)
                    .unwrap_or_else(|e| panic!("{layout} {text}: {e}"));
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
        assert_eq!(t.utc_string(), "2024-12-29T19:30:00Z");
        // abbreviation known to the location
        let t = Time::parse("2006-01-02 15:04 MST", "2024-07-01 10:00 EDT", Some(&ny)).unwrap();
        assert_eq!(t.utc_string(), "2024-07-01T14:00:00Z");
        let t = Time::parse("2006-01-02 15:04 MST", "2024-07-01 10:00 EST", Some(&ny)).unwrap();
        assert_eq!(t.utc_string(), "2024-07-01T15:00:00Z");
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
        assert_eq!(t.format(time_date_only()), "2024-02-29");
        let t = Time::parse("Jan _2", "Feb  9", None).unwrap();
        assert_eq!(t.format("01-02"), "02-09");
        let t = Time::parse("2006-01-02 15:04:05 MST", "2024-01-01 00:00:00 GMT+3", None).unwrap();
        assert_eq!(t.format("15:04 -0700"), "03:00 +0300");
    }

    fn time_date_only() -> &'static str {
        "2006-01-02"
    }

    impl Time {
        fn utc_string(&self) -> String {
            self.in_location(Location::utc()).format(RFC3339)
        }
    }

    #[test]
    fn parse_failures_are_invalid_with_go_messages() {
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
            assert_eq!(err.kind(), weft_core::ErrorKind::Invalid);
            assert!(err.message().contains(msg), "{layout} {value}: {err}");
        }
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
        let (day, diff, later, before, after, equal): (String, f64, String, bool, bool, bool) =
            eval(
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
    fn round_and_truncate_since_zero_time() {
        let t = utc([2024, 5, 6, 10, 37, 29, 500_000_000]);
        let fmt = |t: Result<Time, Error>| t.unwrap().format(RFC3339_NANO);
        assert_eq!(fmt(t.truncate(Duration(HOUR))), "2024-05-06T10:00:00Z");
        assert_eq!(fmt(t.round(Duration(HOUR))), "2024-05-06T11:00:00Z");
        assert_eq!(
            fmt(t.truncate(Duration(15 * MINUTE))),
            "2024-05-06T10:30:00Z"
        );
        assert_eq!(fmt(t.round(Duration(SECOND))), "2024-05-06T10:37:30Z");
        assert_eq!(fmt(t.round(Duration(0))), "2024-05-06T10:37:29.5Z");
        assert_eq!(fmt(t.truncate(Duration(-5))), "2024-05-06T10:37:29.5Z");
        // 7h boundaries count from year 1 (from 1970 it would be 09:00), as in Go
        assert_eq!(fmt(t.truncate(Duration(7 * HOUR))), "2024-05-06T07:00:00Z");
        // rounding works on the absolute time, not the wall clock
        let ist = t.in_location(Location::fixed("IST", 19_800).unwrap());
        assert_eq!(
            ist.truncate(Duration(HOUR)).unwrap().format("15:04"),
            "15:30"
        );
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
        let t = utc([MAX_YEAR, 12, 31, 23, 59, 59, 999_999_999]);
        assert!(t.add(Duration(1)).is_err());
        assert!(t.add_date(0, 0, 1).is_err());
        assert!(t.round(Duration(HOUR)).is_err());
        assert_eq!(
            t.sub(&utc([-MAX_YEAR, 1, 1, 0, 0, 0, 0])),
            Duration(i64::MAX)
        );
        assert_eq!(t.unix_nano(), i64::MAX);
        assert_eq!(t.format("2006"), "200000");
        assert!(Time::from_unix(i64::MAX, i64::MAX, Location::utc()).is_err());
        assert!(Location::fixed("x", i64::MIN).is_err());
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
        assert!(t.sub(&Time::now()).0 <= 0);
    }
}
