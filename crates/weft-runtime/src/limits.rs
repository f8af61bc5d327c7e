//! The caps a host puts on what its processes can grow, so no app, caller or guest can
//! exhaust the runtime's memory through them:
//!
//! - `host.max_processes`: processes running on the host at once (default 100,000);
//! - `host.mailbox_size`: unread messages one process holds (default 65,536);
//! - `max_line_bytes` (a `terminal.host`'s own field): the longest line `io.readline`
//!   reads (default 1 MiB).
//!
//! Both host kinds take the `host:` caps (a terminal host runs its command and whatever
//! is spawned on it). Each cap is checked where the thing grows, and hitting it is an
//! error naming the cap and its field, never a silent drop or an unbounded wait.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use parking_lot::RwLock;
use serde::Deserialize;
use weft_core::{Error, ErrorKind, Result};
use weft_registry::Entry;

/// Processes a host runs at once unless `host.max_processes` says otherwise: 6 KB (a
/// sleeper) to 25 KB (an idle Lua process with its VM) each, so about 0.6 to 2.5 GB.
pub(crate) const DEFAULT_MAX_PROCESSES: usize = 100_000;

/// Unread messages a mailbox holds unless `host.mailbox_size` says otherwise.
pub(crate) const DEFAULT_MAILBOX_SIZE: usize = 65_536;

/// The longest line `io.readline` reads unless the terminal host's `max_line_bytes` says
/// otherwise.
pub(crate) const DEFAULT_MAX_LINE_BYTES: usize = 1 << 20;

/// The caps of one host, as its entry sets them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct HostLimits {
    /// `host.max_processes`.
    pub max_processes: usize,
    /// `host.mailbox_size`.
    pub mailbox_size: usize,
    /// `max_line_bytes` (read from a `terminal.host` only).
    pub max_line_bytes: usize,
}

/// The fields the caps come from.
#[derive(Deserialize, Default)]
#[serde(default)]
struct CapFields {
    host: HostCaps,
    max_line_bytes: Option<i64>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct HostCaps {
    max_processes: Option<i64>,
    mailbox_size: Option<i64>,
}

impl HostLimits {
    /// The caps of the host `entry` (a `process.host` or `terminal.host`); a value that
    /// is not greater than 0 is Invalid naming its field.
    pub fn of(entry: &Entry) -> Result<HostLimits> {
        let fields: CapFields = entry.decode().map_err(Error::from)?;
        let max_line_bytes = match entry.kind.as_str() {
            "terminal.host" => positive(
                "max_line_bytes",
                fields.max_line_bytes,
                DEFAULT_MAX_LINE_BYTES,
            )?,
            _ => DEFAULT_MAX_LINE_BYTES,
        };
        Ok(HostLimits {
            max_processes: positive(
                "host.max_processes",
                fields.host.max_processes,
                DEFAULT_MAX_PROCESSES,
            )?,
            // The mailbox queue cannot hold more permits than this; nobody needs more.
            mailbox_size: positive(
                "host.mailbox_size",
                fields.host.mailbox_size,
                DEFAULT_MAILBOX_SIZE,
            )?
            .min(tokio::sync::Semaphore::MAX_PERMITS),
            max_line_bytes,
        })
    }
}

/// `value` when it is greater than 0, `default` when unset.
fn positive(field: &str, value: Option<i64>, default: usize) -> Result<usize> {
    match value {
        None => Ok(default),
        Some(v) if v <= 0 => {
            Err(Error::invalid(format!("must be greater than 0, got {v}")).in_field(field))
        }
        Some(v) => Ok(usize::try_from(v).unwrap_or(usize::MAX)),
    }
}

/// The hosts processes run on, each with its caps and its count of live processes.
#[derive(Default)]
pub(crate) struct Hosts {
    by_id: RwLock<HashMap<Box<str>, Arc<Host>>>,
}

/// One host as the process table sees it.
pub(crate) struct Host {
    /// The host's entry id.
    pub id: Box<str>,
    /// Its caps.
    pub limits: HostLimits,
    /// The entry the caps were read from (a replaced entry is read again); none for the
    /// frame of a call, which runs on no host entry.
    entry: Option<Arc<Entry>>,
    /// Processes running on it now.
    live: Arc<AtomicUsize>,
}

impl Host {
    /// The host of a call's frame, named by the called entry: the default caps (a
    /// frame's mailbox holds `host.mailbox_size`'s default), counted on no host.
    pub fn frame(entry: &str) -> Host {
        Host {
            id: entry.into(),
            limits: HostLimits {
                max_processes: DEFAULT_MAX_PROCESSES,
                mailbox_size: DEFAULT_MAILBOX_SIZE,
                max_line_bytes: DEFAULT_MAX_LINE_BYTES,
            },
            entry: None,
            live: Arc::default(),
        }
    }
}

/// One admitted process' place on its host; dropping it frees the place.
pub(crate) struct Ticket(Arc<AtomicUsize>);

impl Drop for Ticket {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Hosts {
    /// Admits one more process on the host `entry`, or fails with RateLimited when the
    /// host runs `host.max_processes` already.
    pub fn admit(&self, entry: &Arc<Entry>) -> Result<(Arc<Host>, Ticket)> {
        let host = self.host(entry)?;
        let max = host.limits.max_processes;
        if host.live.fetch_add(1, Ordering::AcqRel) >= max {
            host.live.fetch_sub(1, Ordering::AcqRel);
            return Err(Error::new(
                ErrorKind::RateLimited,
                format!(
                    "process host {} is full (host.max_processes: {max})",
                    host.id
                ),
            )
            .with_retryable(Some(true)));
        }
        let ticket = Ticket(host.live.clone());
        Ok((host, ticket))
    }

    /// Every host that admitted a process: its id, live processes and cap, by id.
    pub fn metrics(&self) -> Vec<crate::HostMetrics> {
        let mut out: Vec<_> = self
            .by_id
            .read()
            .values()
            .map(|h| crate::HostMetrics {
                host: h.id.to_string(),
                running: h.live.load(Ordering::Acquire),
                max_processes: h.limits.max_processes,
            })
            .collect();
        out.sort_by(|a, b| a.host.cmp(&b.host));
        out
    }

    /// How many processes run on the host `id` now.
    pub fn live(&self, id: &str) -> usize {
        self.by_id
            .read()
            .get(id)
            .map_or(0, |h| h.live.load(Ordering::Acquire))
    }

    /// The host of `entry`, its caps read once per entry.
    fn host(&self, entry: &Arc<Entry>) -> Result<Arc<Host>> {
        let known = self.by_id.read().get(entry.id.as_str()).cloned();
        if let Some(host) = &known
            && host.entry.as_ref().is_some_and(|e| Arc::ptr_eq(e, entry))
        {
            return Ok(host.clone());
        }
        let limits = HostLimits::of(entry)?;
        let mut by_id = self.by_id.write();
        // The count survives a replaced entry: its processes still run.
        let live = by_id
            .get(entry.id.as_str())
            .map_or_else(Arc::default, |h| h.live.clone());
        let host = Arc::new(Host {
            id: entry.id.as_str().into(),
            limits,
            entry: Some(entry.clone()),
            live,
        });
        by_id.insert(entry.id.as_str().into(), host.clone());
        Ok(host)
    }
}

#[cfg(test)]
mod tests {
    use weft_core::{EntryId, Value};

    use super::*;

    fn host(kind: &str, data: serde_json::Value) -> Arc<Entry> {
        let mut entry = Entry::new(EntryId::parse("app:h").unwrap(), kind);
        entry.data = serde_json::from_value::<Value>(data).unwrap();
        Arc::new(entry)
    }

    #[test]
    fn caps_default_and_are_read_from_their_fields() {
        let plain = HostLimits::of(&host("process.host", serde_json::json!({}))).unwrap();
        assert_eq!(
            plain,
            HostLimits {
                max_processes: DEFAULT_MAX_PROCESSES,
                mailbox_size: DEFAULT_MAILBOX_SIZE,
                max_line_bytes: DEFAULT_MAX_LINE_BYTES,
            }
        );
        let set = serde_json::json!({
            "host": {"max_processes": 3, "mailbox_size": 4},
            "max_line_bytes": 5,
        });
        let proc_host = HostLimits::of(&host("process.host", set.clone())).unwrap();
        assert_eq!((proc_host.max_processes, proc_host.mailbox_size), (3, 4));
        // max_line_bytes belongs to terminal hosts; a process host ignores it.
        assert_eq!(proc_host.max_line_bytes, DEFAULT_MAX_LINE_BYTES);
        let term = HostLimits::of(&host("terminal.host", set)).unwrap();
        assert_eq!((term.max_processes, term.max_line_bytes), (3, 5));
        let huge = serde_json::json!({"host": {"mailbox_size": i64::MAX}});
        let clamped = HostLimits::of(&host("process.host", huge)).unwrap();
        assert_eq!(clamped.mailbox_size, tokio::sync::Semaphore::MAX_PERMITS);
    }

    #[test]
    fn caps_below_one_are_refused_naming_the_field() {
        for (kind, data, field) in [
            (
                "process.host",
                serde_json::json!({"host": {"max_processes": 0}}),
                "host.max_processes",
            ),
            (
                "process.host",
                serde_json::json!({"host": {"mailbox_size": -1}}),
                "host.mailbox_size",
            ),
            (
                "terminal.host",
                serde_json::json!({"max_line_bytes": 0}),
                "max_line_bytes",
            ),
        ] {
            let err = HostLimits::of(&host(kind, data)).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Invalid);
            assert!(err.to_string().contains(field), "{err}");
            assert!(err.to_string().contains("greater than 0"), "{err}");
        }
    }

    #[test]
    fn a_full_host_refuses_until_a_ticket_is_dropped() {
        let hosts = Hosts::default();
        let entry = host(
            "process.host",
            serde_json::json!({"host": {"max_processes": 2}}),
        );
        let a = hosts.admit(&entry).unwrap();
        let _b = hosts.admit(&entry).unwrap();
        let err = hosts.admit(&entry).err().unwrap();
        assert_eq!(err.kind(), ErrorKind::RateLimited);
        assert_eq!(err.retryable(), Some(true));
        assert_eq!(
            err.to_string(),
            "process host app:h is full (host.max_processes: 2)"
        );
        assert_eq!(hosts.live("app:h"), 2);
        drop(a);
        assert_eq!(hosts.live("app:h"), 1);
        let _c = hosts.admit(&entry).unwrap();
        // A replaced entry is read again and keeps the count of the running processes.
        let bigger = host(
            "process.host",
            serde_json::json!({"host": {"max_processes": 3}}),
        );
        let _d = hosts.admit(&bigger).unwrap();
        assert_eq!(hosts.live("app:h"), 3);
        assert!(hosts.admit(&bigger).is_err());
    }
}
