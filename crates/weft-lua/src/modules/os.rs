//! The `os` global (spec `wippy-modules/os.md`): `time`, `date`, `clock`, `difftime` and
//! `platform`. Nothing here reaches the host's processes, environment or files.
//!
//! - `time(spec?)`: now, or the local time of a `{year, month, day, hour, min, sec}`
//!   table (missing date fields are today's, missing time fields 0; out-of-range fields
//!   carry over as C's `mktime` does).
//! - `date(format?, time?)`: strftime directives (`%c` by default), `*t` for a table,
//!   a leading `!` for UTC; an unknown directive is kept as written (`%Q` → `%Q`).
//! - `clock()`: seconds since this VM was built.
//! - `difftime(t2, t1?)`: `t2 - t1`.

use std::fmt::Write;
use std::time::Instant;

use chrono::{DateTime, Datelike, Local, TimeZone, Timelike, Utc};
use mlua::{Lua, Table, Value as LuaValue};

/// The strftime directives `date` renders: Wippy's set plus C's other common ones.
/// Any other `%x` is kept as written.
const DIRECTIVES: &str = "aAbBcdHIjmMpSUwWxXyYzZ%eDFTRntCgGVuhr";

/// Builds the `os` table.
pub fn module(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    t.set("platform", "wippy")?;
    t.set(
        "time",
        lua.create_function(|_, fields: Option<Table>| match fields {
            None => Ok(Utc::now().timestamp()),
            Some(f) => from_fields(&f),
        })?,
    )?;
    let built = Instant::now();
    t.set(
        "clock",
        lua.create_function(move |_, ()| Ok(built.elapsed().as_secs_f64()))?,
    )?;
    t.set(
        "difftime",
        lua.create_function(|_, (a, b): (f64, Option<f64>)| Ok(a - b.unwrap_or(0.0)))?,
    )?;
    t.set("date", lua.create_function(date)?)?;
    Ok(t)
}

/// `os.date(format?, time?)`: `*t` / `!*t` give a table, other formats use strftime
/// directives; a leading `!` means UTC.
fn date(lua: &Lua, (format, time): (Option<String>, Option<i64>)) -> mlua::Result<LuaValue> {
    let format = format.unwrap_or_else(|| "%c".to_string());
    let secs = time.unwrap_or_else(|| Utc::now().timestamp());
    let (utc, format) = match format.strip_prefix('!') {
        Some(rest) => (true, rest.to_string()),
        None => (false, format),
    };
    let Some(at) = DateTime::<Utc>::from_timestamp(secs, 0) else {
        return Err(mlua::Error::runtime(format!("time out of range: {secs}")));
    };
    if utc {
        render(lua, &at, &format, false)
    } else {
        let local = at.with_timezone(&Local);
        render(lua, &local, &format, is_dst(&local))
    }
}

fn render<Tz: TimeZone>(
    lua: &Lua,
    at: &DateTime<Tz>,
    format: &str,
    dst: bool,
) -> mlua::Result<LuaValue>
where
    Tz::Offset: std::fmt::Display,
{
    if format == "*t" {
        let t = lua.create_table()?;
        t.set("year", at.year())?;
        t.set("month", at.month())?;
        t.set("day", at.day())?;
        t.set("hour", at.hour())?;
        t.set("min", at.minute())?;
        t.set("sec", at.second())?;
        t.set("wday", at.weekday().num_days_from_sunday() + 1)?;
        t.set("yday", at.ordinal())?;
        t.set("isdst", dst)?;
        return Ok(LuaValue::Table(t));
    }
    let format = keep_unknown(format);
    let mut text = String::new();
    write!(text, "{}", at.format(&format))
        .map_err(|_| mlua::Error::runtime(format!("cannot format the date with {format:?}")))?;
    Ok(LuaValue::String(lua.create_string(text)?))
}

/// `format` with every directive outside [`DIRECTIVES`] (and a lone trailing `%`)
/// escaped, so it is printed as written.
fn keep_unknown(format: &str) -> String {
    let mut out = String::with_capacity(format.len() + 8);
    let mut chars = format.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some(d) if DIRECTIVES.contains(d) => {
                out.push('%');
                out.push(d);
            }
            Some(d) => {
                out.push_str("%%");
                out.push(d);
            }
            None => out.push_str("%%"),
        }
    }
    out
}

/// Whether daylight saving time is in force at `at`: its offset is the larger of the
/// zone's January and July offsets, when they differ.
fn is_dst(at: &DateTime<Local>) -> bool {
    let offset_on = |month| {
        Local
            .with_ymd_and_hms(at.year(), month, 1, 0, 0, 0)
            .earliest()
            .map(|d| d.offset().local_minus_utc())
    };
    match (offset_on(1), offset_on(7)) {
        (Some(jan), Some(jul)) if jan != jul => at.offset().local_minus_utc() == jan.max(jul),
        _ => false,
    }
}

/// `os.time{year=, month=, day=, hour=, min=, sec=}` in local time: a missing date
/// field is today's, a missing time field 0.
fn from_fields(f: &Table) -> mlua::Result<i64> {
    let today = Local::now();
    let get = |k: &str, default: i64| -> mlua::Result<i64> {
        Ok(f.get::<Option<i64>>(k)?.unwrap_or(default))
    };
    let (year, month, day) = (
        get("year", today.year().into())?,
        get("month", today.month().into())?,
        get("day", today.day().into())?,
    );
    let (hour, min, sec) = (get("hour", 0)?, get("min", 0)?, get("sec", 0)?);
    let base = i32::try_from(year)
        .ok()
        .and_then(|y| chrono::NaiveDate::from_ymd_opt(y, 1, 1))
        .ok_or_else(|| mlua::Error::runtime(format!("year out of range: {year}")))?;
    let naive = base
        .and_hms_opt(0, 0, 0)
        .ok_or_else(|| mlua::Error::runtime("date out of range"))?;
    // Normalise out-of-range fields like C mktime: add them as offsets.
    let months = month - 1;
    let shifted = if months >= 0 {
        naive.checked_add_months(chrono::Months::new(
            u32::try_from(months).unwrap_or(u32::MAX),
        ))
    } else {
        naive.checked_sub_months(chrono::Months::new(
            u32::try_from(-months).unwrap_or(u32::MAX),
        ))
    }
    .and_then(|d| {
        d.checked_add_signed(chrono::TimeDelta::try_days(day - 1)?)?
            .checked_add_signed(chrono::TimeDelta::try_hours(hour)?)?
            .checked_add_signed(chrono::TimeDelta::try_minutes(min)?)?
            .checked_add_signed(chrono::TimeDelta::try_seconds(sec)?)
    })
    .ok_or_else(|| mlua::Error::runtime("date out of range"))?;
    Local
        .from_local_datetime(&shifted)
        .earliest()
        .map(|d| d.timestamp())
        .ok_or_else(|| mlua::Error::runtime("date does not exist in the local time zone"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lua() -> Lua {
        let lua = Lua::new();
        lua.globals().set("os", module(&lua).unwrap()).unwrap();
        lua
    }

    fn text(lua: &Lua, code: &str) -> String {
        lua.load(code).eval::<String>().unwrap()
    }

    #[test]
    fn utc_formats_match_c_strftime() {
        // Expected values from Python's time.strftime(fmt, time.gmtime(t)).
        let lua = lua();
        let t = 1718454645; // 2024-06-15 12:30:45 UTC, a Saturday
        for (format, expected) in [
            ("%a %A %b %B", "Sat Saturday Jun June"),
            ("%d %H %I %j %m %M %p %S", "15 12 12 167 06 30 PM 45"),
            ("%U %w %W", "23 6 24"),
            ("%x %X %y %Y", "06/15/24 12:30:45 24 2024"),
            (
                "%e|%D|%F|%T|%R|%u|%V|%G|%C|%h|%r",
                "15|06/15/24|2024-06-15|12:30:45|12:30|6|24|2024|20|Jun|12:30:45 PM",
            ),
            ("%z %Z %%", "+0000 UTC %"),
        ] {
            assert_eq!(
                text(&lua, &format!("return os.date('!{format}', {t})")),
                expected,
                "{format}"
            );
        }
        assert_eq!(
            text(&lua, "return os.date('!%c', 0)"),
            "Thu Jan  1 00:00:00 1970"
        );
        assert_eq!(
            text(&lua, "return os.date('!%j %U %W', 1704153600)"),
            "002 00 01"
        );
    }

    #[test]
    fn unknown_directives_are_kept_as_written() {
        let lua = lua();
        assert_eq!(text(&lua, "return os.date('!%Q %Y %', 0)"), "%Q 1970 %");
        assert_eq!(
            text(&lua, "return os.date('!%-d|%.3f|%:z', 0)"),
            "%-d|%.3f|%:z"
        );
        assert_eq!(text(&lua, "return os.date('!héllo %é', 0)"), "héllo %é");
        assert!(lua.load("return os.date('%Y', 2^62)").exec().is_err());
    }

    #[test]
    fn date_tables() {
        let lua = lua();
        let (y, m, d, h, wday, yday, dst): (i64, i64, i64, i64, i64, i64, bool) = lua
            .load("local t = os.date('!*t', 1718454645) return t.year, t.month, t.day, t.hour, t.wday, t.yday, t.isdst")
            .eval()
            .unwrap();
        assert_eq!(
            (y, m, d, h, wday, yday, dst),
            (2024, 6, 15, 12, 7, 167, false)
        );
        // Local time has no zone abbreviation: %Z is the offset, with a colon.
        let (z, zz): (String, String) = lua
            .load("return os.date('%z', 0), os.date('%Z', 0)")
            .eval()
            .unwrap();
        assert_eq!(zz, format!("{}:{}", &z[..3], &z[3..]));
        let kind: String = lua.load("return type(os.date('*t').isdst)").eval().unwrap();
        assert_eq!(kind, "boolean");
        assert_eq!(
            lua.load("return os.platform").eval::<String>().unwrap(),
            "wippy"
        );
    }

    #[test]
    fn time_from_fields_defaults_like_the_spec() {
        let lua = lua();
        let same: bool = lua
            .load("local t = os.time{year=2024, month=2, day=29, hour=10} local d = os.date('*t', t) return d.year == 2024 and d.month == 2 and d.day == 29 and d.hour == 10 and d.min == 0")
            .eval()
            .unwrap();
        assert!(same);
        // Missing time fields are 0 (not C's noon); missing date fields are today's.
        let (midnight, today): (bool, bool) = lua
            .load(
                "local a = os.date('*t', os.time{year=2024, month=6, day=15})
                 local now, t = os.date('*t'), os.date('*t', os.time{})
                 return a.hour == 0 and a.min == 0 and a.sec == 0 and a.day == 15,
                        t.year == now.year and t.month == now.month and t.day == now.day and t.hour == 0",
            )
            .eval()
            .unwrap();
        assert!(midnight && today);
        // Out-of-range fields carry over.
        let carried: bool = lua
            .load(
                "return os.time{year=2024, month=13, day=1} == os.time{year=2025, month=1, day=1}",
            )
            .eval()
            .unwrap();
        assert!(carried);
        assert!(lua.load("return os.time{year='x'}").exec().is_err());
    }

    #[test]
    fn clock_and_difftime() {
        let lua = lua();
        let start: f64 = lua.load("return os.clock()").eval().unwrap();
        assert!(start >= 0.0);
        std::thread::sleep(std::time::Duration::from_millis(20));
        let later: f64 = lua.load("return os.clock()").eval().unwrap();
        assert!(later - start >= 0.02, "{start} {later}");
        let diff: f64 = lua
            .load("return os.difftime(os.time{year=2024, month=1, day=2}, os.time{year=2024, month=1, day=1})")
            .eval()
            .unwrap();
        assert_eq!(diff, 86400.0);
        let neg: f64 = lua.load("return os.difftime(5, 7)").eval().unwrap();
        assert_eq!(neg, -2.0);
    }
}
