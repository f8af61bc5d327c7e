//! Time zones ([`Location`], Go's `*time.Location`): UTC, the host's zone, fixed offsets
//! and IANA zones from chrono-tz, and the lookups a [`crate::Time`] needs.

use std::sync::{Arc, OnceLock};

use chrono::{DateTime, Offset, TimeZone};
use chrono_tz::{OffsetName, Tz};

use crate::calendar::{SECS_PER_DAY, civil_from_days, days_from_civil, is_leap};
use crate::instant::{MAX_SECS, MIN_SECS};

/// A time zone (Go's `*time.Location`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Location(Zone);

#[derive(Clone, Debug, PartialEq, Eq)]
enum Zone {
    Utc,
    /// The host's zone (Go's `time.Local`).
    Local,
    Fixed {
        name: Arc<str>,
        offset: i32,
    },
    Iana(Tz),
}

/// Why a [`Location`] could not be made.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LocationError {
    /// [`Location::load`] with an empty name.
    #[error("location name cannot be empty")]
    EmptyName,
    /// [`Location::load`] with a name that is no IANA zone.
    #[error("unknown time zone {0}")]
    UnknownZone(String),
    /// [`Location::fixed`] with an offset of 24 hours or more.
    #[error("zone offset {0} out of range (must be under 24 hours)")]
    OffsetOutOfRange(i64),
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
    pub fn fixed(name: &str, offset: i64) -> Result<Location, LocationError> {
        match i32::try_from(offset) {
            Ok(offset) if offset.unsigned_abs() < SECS_PER_DAY as u32 => {
                Ok(Location(Zone::Fixed {
                    name: name.into(),
                    offset,
                }))
            }
            _ => Err(LocationError::OffsetOutOfRange(offset)),
        }
    }

    /// Loads `"UTC"`, `"Local"` or an IANA zone name.
    pub fn load(name: &str) -> Result<Location, LocationError> {
        match name {
            "" => Err(LocationError::EmptyName),
            "UTC" => Ok(Location::utc()),
            "Local" => Ok(Location::local()),
            _ => name
                .parse::<Tz>()
                .map(|tz| Location(Zone::Iana(tz)))
                .map_err(|_| LocationError::UnknownZone(name.into())),
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

    /// The abbreviation and offset (seconds east of UTC) in effect at Unix second `secs`.
    pub(crate) fn lookup(&self, secs: i64) -> (String, i32) {
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
    pub(crate) fn lookup_name(&self, name: &str, local_secs: i64) -> Option<i32> {
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

    /// The zone in effect: fixed zones as they are, `Local` resolved.
    fn resolved(&self) -> Zone {
        match &self.0 {
            Zone::Local => local_tz().map_or(Zone::Utc, Zone::Iana),
            other => other.clone(),
        }
    }
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

    #[test]
    fn numeric_abbreviations_like_the_tz_database() {
        assert_eq!(numeric_abbreviation(4 * 3600), "+04");
        assert_eq!(numeric_abbreviation(5 * 3600 + 45 * 60), "+0545");
        assert_eq!(numeric_abbreviation(-3 * 3600), "-03");
        assert_eq!(numeric_abbreviation(-(3600 + 60 + 1)), "-010101");
    }

    #[test]
    fn far_future_uses_a_twin_year_with_the_same_calendar() {
        let secs = days_from_civil(2024, 7, 1) * SECS_PER_DAY;
        assert_eq!(within_zone_tables(secs), secs);
        let far = days_from_civil(2500, 7, 1) * SECS_PER_DAY + 3600;
        let twin = within_zone_tables(far);
        let (y, m, d) = civil_from_days(twin.div_euclid(SECS_PER_DAY));
        assert!((2060..2088).contains(&y) && (m, d) == (7, 1), "{y}-{m}-{d}");
        assert_eq!(twin.rem_euclid(SECS_PER_DAY), 3600);
        let ny = Location::load("America/New_York").unwrap();
        assert_eq!(ny.lookup(far).0, "EDT");
    }

    #[test]
    fn locations_by_name() {
        assert_eq!(Location::load("UTC").unwrap(), Location::utc());
        assert_eq!(Location::load("Local").unwrap().name(), "Local");
        assert_eq!(Location::load("Asia/Tokyo").unwrap().name(), "Asia/Tokyo");
        assert_eq!(
            Location::load("").unwrap_err().to_string(),
            "location name cannot be empty"
        );
        assert_eq!(
            Location::load("Mars/Olympus").unwrap_err(),
            LocationError::UnknownZone("Mars/Olympus".into())
        );
        assert_eq!(
            Location::fixed("X", 86_400).unwrap_err().to_string(),
            "zone offset 86400 out of range (must be under 24 hours)"
        );
        assert!(Location::fixed("x", i64::MIN).is_err());
        let ist = Location::fixed("IST", 19_800).unwrap();
        assert_eq!(ist.lookup(0), ("IST".into(), 19_800));
        assert_eq!(ist.lookup_name("IST", 0), Some(19_800));
        assert_eq!(ist.lookup_name("EST", 0), None);
    }
}
