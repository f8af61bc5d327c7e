//! weft-time: Go's `time` package semantics in plain Rust, shared by the config loader,
//! the services and the Lua `time` module.
//!
//! - Durations: [`parse_duration`] (Go's `time.ParseDuration`, exact, with Go's error
//!   texts), [`parse_std_duration`] (the same, non-negative, as a [`std::time::Duration`])
//!   and [`format_duration`] (Go's `Duration.String`).
//! - Instants: [`Time`] (Unix seconds, nanoseconds and a [`Location`]) with Go's `Date`
//!   normalization, `AddDate`, `Round` and `Truncate`; its calendar [`Fields`].
//! - Layouts: [`Time::format`] and [`Time::parse`] with Go's reference time
//!   `Mon Jan 2 15:04:05 MST 2006` and Go's parse error texts ([`ParseError`]).
//! - Zones: [`Location`] (UTC, the host's zone, fixed offsets and IANA zones).
//!
//! Times span the years -200000..=200000 ([`MAX_YEAR`]); arithmetic that leaves that
//! range fails with [`TimeError::OutOfRange`].

#![deny(missing_docs)]

mod calendar;
mod duration;
mod instant;
mod layout;
mod parse;
mod text;
mod zone;

pub use calendar::{MONTH_NAMES, WEEKDAY_NAMES};
pub use duration::{
    DurationError, HOUR, MICROSECOND, MILLISECOND, MINUTE, NANOSECOND, SECOND, format_duration,
    parse_duration, parse_std_duration,
};
pub use instant::{Fields, MAX_YEAR, Time, TimeError};
pub use layout::{
    ANSIC, DATE_ONLY, DATE_TIME, KITCHEN, RFC822, RFC822Z, RFC850, RFC1123, RFC1123Z, RFC3339,
    RFC3339_NANO, RUBY_DATE, STAMP, STAMP_MICRO, STAMP_MILLI, STAMP_NANO, STRING_LAYOUT, TIME_ONLY,
    UNIX_DATE,
};
pub use parse::ParseError;
pub use zone::{Location, LocationError};
