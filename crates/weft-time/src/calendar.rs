//! Proleptic Gregorian calendar arithmetic on day counts since 1970-01-01, and the
//! English month and weekday names Go uses.

/// Seconds in a day (no leap seconds, as in Go).
pub(crate) const SECS_PER_DAY: i64 = 86_400;

/// The months' English names, January first (Go's `Month.String`).
pub const MONTH_NAMES: [&str; 12] = [
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

/// The weekdays' English names, Sunday first (Go's `Weekday.String`).
pub const WEEKDAY_NAMES: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];

/// Whether `year` is a leap year.
pub(crate) fn is_leap(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

/// The number of days in `month` (1..=12) of `year`.
pub(crate) fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Month and day of day-of-year `yday` (Go's parse rules: 1..=365, or 366 in leap
/// years).
pub(crate) fn month_day_of_year(year: i64, yday: i64) -> Option<(i64, i64)> {
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
pub(crate) const fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = month as i64;
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + day as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date (year, month, day) of a day count since 1970-01-01.
pub(crate) fn civil_from_days(days: i64) -> (i64, u32, u32) {
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

/// The weekday (0 = Sunday) of a day count since 1970-01-01 (a Thursday).
pub(crate) fn weekday_of_days(days: i64) -> u32 {
    (days + 4).rem_euclid(7) as u32
}

/// The index into [`MONTH_NAMES`] of `month` (1..=12; others wrap).
pub(crate) fn month_index(month: u32) -> usize {
    (month as usize).saturating_sub(1) % 12
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leap_years_and_month_lengths() {
        assert!(is_leap(2024) && is_leap(2000) && is_leap(0) && is_leap(-4));
        assert!(!is_leap(1900) && !is_leap(2023) && !is_leap(-1));
        assert_eq!(days_in_month(2024, 2), 29);
        assert_eq!(days_in_month(2023, 2), 28);
        assert_eq!(days_in_month(2023, 4), 30);
        assert_eq!(days_in_month(2023, 12), 31);
    }

    #[test]
    fn day_of_year_to_month_and_day() {
        assert_eq!(month_day_of_year(2024, 60), Some((2, 29)));
        assert_eq!(month_day_of_year(2023, 60), Some((3, 1)));
        assert_eq!(month_day_of_year(2024, 366), Some((12, 31)));
        assert_eq!(month_day_of_year(2023, 366), None);
        assert_eq!(month_day_of_year(2023, 0), None);
    }

    #[test]
    fn day_counts_round_trip() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(days_from_civil(1, 1, 1), -719_162);
        for days in [-800_000_000, -719_162, -1, 0, 1, 11_016, 19_723, 73_000_000] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days, "{days}");
        }
        assert_eq!(civil_from_days(19_723), (2024, 1, 1));
        assert_eq!(weekday_of_days(0), 4);
        assert_eq!(weekday_of_days(19_723), 1);
        assert_eq!(weekday_of_days(-1), 3);
        assert_eq!((month_index(1), month_index(12)), (0, 11));
    }
}
