//! The `os` global: Wippy's `ostime` subset (`time`, `clock`, `date`, `difftime`,
//! `platform`). Nothing here reaches the host's processes or files.

use std::sync::OnceLock;
use std::time::Instant;

use chrono::{DateTime, Datelike, Local, TimeZone, Timelike, Utc};
use mlua::{Lua, Table, Value as LuaValue};

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
    t.set(
        "clock",
        lua.create_function(|_, ()| {
            static START: OnceLock<Instant> = OnceLock::new();
            Ok(START.get_or_init(Instant::now).elapsed().as_secs_f64())
        })?,
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
        render(lua, &at, &format)
    } else {
        render(lua, &at.with_timezone(&Local), &format)
    }
}

fn render<Tz: TimeZone>(lua: &Lua, at: &DateTime<Tz>, format: &str) -> mlua::Result<LuaValue>
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
        t.set("isdst", false)?;
        return Ok(LuaValue::Table(t));
    }
    let items: Vec<_> = chrono::format::StrftimeItems::new(format).collect();
    if items
        .iter()
        .any(|i| matches!(i, chrono::format::Item::Error))
    {
        return Err(mlua::Error::runtime(format!(
            "invalid conversion specifier in {format:?}"
        )));
    }
    let text = at.format_with_items(items.into_iter()).to_string();
    Ok(LuaValue::String(lua.create_string(text)?))
}

/// `os.time{year=, month=, day=, hour=, min=, sec=}` in local time.
fn from_fields(f: &Table) -> mlua::Result<i64> {
    let get = |k: &str, default: Option<i64>| -> mlua::Result<i64> {
        match f.get::<Option<i64>>(k)? {
            Some(v) => Ok(v),
            None => default
                .ok_or_else(|| mlua::Error::runtime(format!("field '{k}' missing in date table"))),
        }
    };
    let (year, month, day) = (get("year", None)?, get("month", None)?, get("day", None)?);
    let (hour, min, sec) = (
        get("hour", Some(12))?,
        get("min", Some(0))?,
        get("sec", Some(0))?,
    );
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

    #[test]
    fn date_table_and_formats_in_utc() {
        let lua = Lua::new();
        lua.globals().set("os", module(&lua).unwrap()).unwrap();
        let (y, m, d, text): (i64, i64, i64, String) = lua
            .load("local t = os.date('!*t', 86400) return t.year, t.month, t.day, os.date('!%Y-%m-%d %H:%M', 86400)")
            .eval()
            .unwrap();
        assert_eq!((y, m, d, text.as_str()), (1970, 1, 2, "1970-01-02 00:00"));
        assert!(lua.load("return os.date('%Q')").exec().is_err());
        assert_eq!(
            lua.load("return os.platform").eval::<String>().unwrap(),
            "wippy"
        );
    }

    #[test]
    fn time_from_fields_round_trips_through_date() {
        let lua = Lua::new();
        lua.globals().set("os", module(&lua).unwrap()).unwrap();
        let same: bool = lua
            .load("local t = os.time{year=2024, month=2, day=29, hour=10} local d = os.date('*t', t) return d.year == 2024 and d.month == 2 and d.day == 29 and d.hour == 10")
            .eval()
            .unwrap();
        assert!(same);
        assert!(lua.load("return os.time{year=2024}").exec().is_err());
    }
}
