//! The `time` module: instants ([`Time`]), durations ([`Duration`]), locations
//! ([`Location`]), Go layouts (format and parse with Go's reference time
//! `Mon Jan 2 15:04:05 MST 2006`) and the async `time.sleep`.
//!
//! This is the Lua binding only: the semantics (Go durations, layouts, calendar and
//! zones) live in [`weft_time`]. Any duration argument is nanoseconds (integer or
//! float), a Go duration string (`"1h30m"`) or a Duration userdata: see
//! [`parse_duration_arg`]. Times span the years -200000..=200000; arithmetic that leaves
//! that range fails.

use std::fmt;
use std::ops::Deref;

use mlua::{
    IntoLua, Lua, MetaMethod, Table, UserData, UserDataMethods, Value as LuaValue, Variadic,
};
use weft_core::Error;
use weft_time::{DurationError, LocationError, MONTH_NAMES, TimeError, WEEKDAY_NAMES};

use crate::errors;

pub use weft_time::{
    HOUR, MICROSECOND, MILLISECOND, MINUTE, NANOSECOND, RFC3339, RFC3339_NANO, SECOND,
};

/// The layout constants of the module (Lua name, Go layout).
const LAYOUTS: &[(&str, &str)] = &[
    ("ANSIC", weft_time::ANSIC),
    ("UNIX_DATE", weft_time::UNIX_DATE),
    ("RUBY_DATE", weft_time::RUBY_DATE),
    ("RFC822", weft_time::RFC822),
    ("RFC822Z", weft_time::RFC822Z),
    ("RFC850", weft_time::RFC850),
    ("RFC1123", weft_time::RFC1123),
    ("RFC1123Z", weft_time::RFC1123Z),
    ("RFC3339", RFC3339),
    ("RFC3339NANO", RFC3339_NANO),
    ("KITCHEN", weft_time::KITCHEN),
    ("STAMP", weft_time::STAMP),
    ("STAMP_MILLI", weft_time::STAMP_MILLI),
    ("STAMP_MICRO", weft_time::STAMP_MICRO),
    ("STAMP_NANO", weft_time::STAMP_NANO),
    ("DATE_TIME", weft_time::DATE_TIME),
    ("DATE_ONLY", weft_time::DATE_ONLY),
    ("TIME_ONLY", weft_time::TIME_ONLY),
];

/// 2^63: floats at or past it in magnitude do not fit an i64.
const TWO_POW_63: f64 = -(i64::MIN as f64);

/// A span of time in nanoseconds (Go's `time.Duration`); a Lua userdata.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Duration(pub i64);

/// A time zone (Go's `*time.Location`); a Lua userdata.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Location(pub weft_time::Location);

/// An instant with a location (Go's `time.Time`); a Lua userdata.
///
/// Equality and order compare instants only, like Go's `Equal` and `Before`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Time(pub weft_time::Time);

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
    for (i, month) in MONTH_NAMES.iter().enumerate() {
        t.set(month.to_ascii_uppercase(), i + 1)?;
    }
    for (i, day) in WEEKDAY_NAMES.iter().enumerate() {
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
                let nsec = opt_int_arg(&nsec, "nanoseconds")?;
                time_result(weft_time::Time::from_unix(
                    sec,
                    nsec,
                    weft_time::Location::local(),
                ))
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
                    time_result(weft_time::Time::parse(
                        &layout,
                        &value,
                        loc.as_ref().map(|l| &l.0),
                    ))
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
            let r = str_arg(&name, "location name").and_then(|name| {
                weft_time::Location::load(&name)
                    .map(Location)
                    .map_err(location_error)
            });
            value_or_fail(lua, r)
        })?,
    )?;
    t.set(
        "fixed_zone",
        lua.create_function(|lua, (name, offset): (LuaValue, LuaValue)| {
            let r = str_arg(&name, "zone name").and_then(|name| {
                let offset = int_arg(&offset, "offset")?;
                weft_time::Location::fixed(&name, offset)
                    .map(Location)
                    .map_err(location_error)
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
        LuaValue::String(s) => {
            weft_time::parse_duration(&s.to_string_lossy()).map_err(duration_error)
        }
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

impl Duration {
    /// The duration as a [`std::time::Duration`]; negative durations become zero.
    pub fn to_std(self) -> std::time::Duration {
        std::time::Duration::from_nanos(self.0.max(0) as u64)
    }
}

impl fmt::Display for Duration {
    /// Go's form: `1h30m45s`, `1.5s`, `250ms`, `1µs`, `0s`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&weft_time::format_duration(self.0))
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
        Location(weft_time::Location::utc())
    }

    /// The host's zone (Go's `time.Local`).
    pub fn local() -> Location {
        Location(weft_time::Location::local())
    }
}

impl UserData for Location {
    fn add_methods<M: UserDataMethods<Self>>(methods: &mut M) {
        methods.add_method("string", |_, loc, ()| Ok(loc.0.name().to_string()));
        methods.add_meta_method(MetaMethod::ToString, |_, loc, ()| {
            Ok(loc.0.name().to_string())
        });
        methods.add_meta_function(MetaMethod::Eq, |_, (a, b): (LuaValue, LuaValue)| {
            Ok(matches!((location_of(&a), location_of(&b)), (Some(a), Some(b)) if a == b))
        });
    }
}

impl Time {
    /// The current time, in the local zone (like Go's `time.Now`).
    pub fn now() -> Time {
        Time(weft_time::Time::now())
    }
}

impl Deref for Time {
    type Target = weft_time::Time;

    fn deref(&self) -> &weft_time::Time {
        &self.0
    }
}

impl fmt::Display for Time {
    /// Go's `Time.String` form: `2006-01-02 15:04:05.999999999 -0700 MST`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl UserData for Time {
    fn add_methods<M: UserDataMethods<Self>>(methods: &mut M) {
        methods.add_method("add", |_, t, d: LuaValue| {
            let d = parse_duration_arg(&d).map_err(raise)?;
            time_result(t.0.add(d)).map_err(raise)
        });
        methods.add_method("sub", |_, t, u: LuaValue| {
            Ok(Duration(t.0.sub(&time_arg(&u)?.0)))
        });
        methods.add_method(
            "add_date",
            |_, t, (y, m, d): (LuaValue, LuaValue, LuaValue)| {
                let years = opt_int_arg(&y, "years").map_err(raise)?;
                let months = opt_int_arg(&m, "months").map_err(raise)?;
                let days = opt_int_arg(&d, "days").map_err(raise)?;
                time_result(t.0.add_date(years, months, days)).map_err(raise)
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
            Ok(Time(t.in_location(loc.0)))
        });
        methods.add_method("location", |_, t, ()| Ok(Location(t.location().clone())));
        methods.add_method("utc", |_, t, ()| {
            Ok(Time(t.in_location(weft_time::Location::utc())))
        });
        methods.add_method("in_local", |_, t, ()| {
            Ok(Time(t.in_location(weft_time::Location::local())))
        });
        methods.add_method("round", |_, t, d: LuaValue| {
            let d = parse_duration_arg(&d).map_err(raise)?;
            time_result(t.0.round(d)).map_err(raise)
        });
        methods.add_method("truncate", |_, t, d: LuaValue| {
            let d = parse_duration_arg(&d).map_err(raise)?;
            time_result(t.0.truncate(d)).map_err(raise)
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
        time_result(weft_time::Time::date(parts, &loc.0))
    })();
    value_or_fail(lua, r)
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

/// A [`weft_time`] result as a Time userdata or a weft error.
fn time_result(r: Result<weft_time::Time, TimeError>) -> Result<Time, Error> {
    r.map(Time).map_err(|e| match e {
        TimeError::Location(e) => location_error(e),
        e => Error::invalid(e.to_string()),
    })
}

/// An unknown zone name is NotFound; every other location error is Invalid.
fn location_error(e: LocationError) -> Error {
    match e {
        LocationError::UnknownZone(_) => Error::not_found(e.to_string()),
        e => Error::invalid(e.to_string()),
    }
}

/// A Go duration text that does not parse is Invalid, with Go's message.
fn duration_error(e: DurationError) -> Error {
    Error::invalid(e.to_string())
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

#[cfg(test)]
mod tests;
