//! The `process.service` kind: [`ServiceHandler`] validates an entry (its process and
//! host must be registered; boot defers it until they are) and records its
//! [`ServiceSpec`]; [`Lifecycle`] is the `lifecycle` block shared by every supervised
//! kind, with its [`RestartPolicy`] and `security` (the host kinds validate theirs with
//! it too).

use std::sync::{Arc, Weak};
use std::time::Duration;

use serde::Deserialize;
use weft_core::{Actor, BoxFuture, EntryId, Error, Map, Result, Scope, Value};
use weft_registry::{BootMode, Entry, KindHandler, Staged, duration_of};

use crate::Runtime;

/// Accepts `process.service` entries and records them in the runtime's [`Services`].
pub struct ServiceHandler {
    rt: Weak<Runtime>,
}

impl ServiceHandler {
    /// A handler registering into `rt.services`.
    pub fn new(rt: &Arc<Runtime>) -> ServiceHandler {
        ServiceHandler {
            rt: Arc::downgrade(rt),
        }
    }
}

impl KindHandler for ServiceHandler {
    fn kinds(&self) -> &[&'static str] {
        &["process.service"]
    }

    /// Records the service, in a check as in a run: nothing is started at boot (only
    /// `Services::start_all` starts services).
    fn stage(&self, entry: Arc<Entry>, _mode: BootMode) -> BoxFuture<Result<Staged>> {
        let staged = ServiceSpec::from_entry(&entry).and_then(|spec| {
            let rt = Runtime::upgrade(&self.rt)?;
            check_targets(&rt, &spec)?;
            security_of(&rt, &spec)?;
            Ok(Staged::new(move || rt.services.replace(spec)))
        });
        Box::pin(async move { staged })
    }

    /// A removed service stops (in the background, after CANCEL with
    /// [`RESTART_GRACE`](crate::RESTART_GRACE)).
    fn stage_remove(&self, entry: Arc<Entry>) -> Result<Staged> {
        let rt = Runtime::upgrade(&self.rt)?;
        Ok(Staged::new(move || rt.services.remove(&entry.id)))
    }
}

/// The host must be a registered `process.host` and the process a registered process
/// entry; either not there yet is NotFound, so boot retries after the others.
fn check_targets(rt: &Runtime, spec: &ServiceSpec) -> Result<()> {
    match rt.registry.get(spec.host.as_str()) {
        None => {
            return Err(Error::not_found(format!("host not found: {}", spec.host)).in_field("host"));
        }
        Some(host) if host.kind != "process.host" => {
            return Err(Error::invalid(format!(
                "{} is a {}, not a process.host",
                spec.host, host.kind
            ))
            .in_field("host"));
        }
        Some(_) => {}
    }
    if rt.factories.get(spec.process.as_str()).is_some() {
        return Ok(());
    }
    match rt.registry.get(spec.process.as_str()) {
        Some(e) if !e.kind.starts_with("process.") => Err(Error::invalid(format!(
            "{} is a {}, not a process",
            spec.process, e.kind
        ))
        .in_field("process")),
        _ => Err(
            Error::not_found(format!("process not found: {}", spec.process)).in_field("process"),
        ),
    }
}

/// A validated `process.service` entry.
#[derive(Clone, Debug)]
pub struct ServiceSpec {
    /// The service entry's id.
    pub id: EntryId,
    /// The process entry it runs.
    pub process: EntryId,
    /// The `process.host` it runs on.
    pub host: EntryId,
    /// The process arguments.
    pub input: Vec<Value>,
    /// Start and restart settings.
    pub lifecycle: Lifecycle,
}

/// The fields of a `process.service` entry; unknown keys are ignored.
#[derive(Deserialize)]
struct RawService {
    process: String,
    host: String,
    #[serde(default)]
    input: Value,
    #[serde(default)]
    lifecycle: Option<RawLifecycle>,
}

impl ServiceSpec {
    /// Decodes and validates a `process.service` entry; errors name the field.
    pub fn from_entry(entry: &Entry) -> Result<ServiceSpec> {
        let raw: RawService = entry.decode().map_err(Error::from)?;
        let ns = entry.id.ns();
        let reference = |text: &str, field: &str| {
            let text = text.trim();
            if text.is_empty() {
                return Err(Error::invalid(format!("{field} is required")).in_field(field));
            }
            Ok(EntryId::resolve(text, ns))
        };
        let process = reference(&raw.process, "process")?;
        let host = reference(&raw.host, "host")?;
        let input = match raw.input {
            Value::Nil => Vec::new(),
            Value::Array(items) => items.as_ref().clone(),
            one => vec![one],
        };
        let lifecycle = Lifecycle::from_raw(raw.lifecycle.unwrap_or_default(), ns)?;
        Ok(ServiceSpec {
            id: entry.id.clone(),
            process,
            host,
            input,
            lifecycle,
        })
    }
}

/// The `lifecycle` block of a supervised entry (reference §1.8).
#[derive(Clone, Debug, PartialEq)]
pub struct Lifecycle {
    /// Start at boot (`auto_start`, default false).
    pub auto_start: bool,
    /// Whether a failed auto-start is fatal (`startup`, default required).
    pub startup: Startup,
    /// Services that must run first (`requires`, alias `depends_on`). Kept, not acted on.
    pub requires: Vec<EntryId>,
    /// How crashes are restarted.
    pub restart: RestartPolicy,
    /// `start_timeout` (default 10s). Kept, not acted on.
    pub start_timeout: Duration,
    /// `stop_timeout` (default 10s). Kept, not acted on.
    pub stop_timeout: Duration,
    /// A run at least this long resets the backoff (`stable_threshold`, default 5s).
    pub stable_threshold: Duration,
    /// The service's actor and scope (`security`), given to its process.
    pub security: Option<ServiceSecurity>,
}

/// Whether a failed auto-start stops the app (`lifecycle.startup`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Startup {
    /// A failed start is fatal.
    Required,
    /// A failed start is logged and retried like a crash.
    Optional,
}

/// The restart policy (`lifecycle.restart`).
#[derive(Clone, Debug, PartialEq)]
pub struct RestartPolicy {
    /// The delay before the first restart (default 1s).
    pub initial_delay: Duration,
    /// The largest delay before jitter (default 90s).
    pub max_delay: Duration,
    /// Each consecutive crash multiplies the delay by this (default 2.0, at least 1).
    pub backoff_factor: f64,
    /// The delay varies by up to ± this fraction (default 0.1, within 0..=1).
    pub jitter: f64,
    /// Consecutive restarts before giving up; 0 restarts forever (default 0).
    pub max_attempts: u32,
}

/// `lifecycle.security`: who the service acts as (reference §1.8).
#[derive(Clone, Debug, PartialEq)]
pub struct ServiceSecurity {
    /// The actor (`actor: {id, meta}`).
    pub actor: Option<ServiceActor>,
    /// Policy ids.
    pub policies: Vec<EntryId>,
    /// Policy group ids.
    pub groups: Vec<EntryId>,
}

/// `lifecycle.security.actor`.
#[derive(Clone, Debug, PartialEq)]
pub struct ServiceActor {
    /// The actor id.
    pub id: String,
    /// The actor metadata.
    pub meta: Map,
}

impl Default for Lifecycle {
    fn default() -> Lifecycle {
        Lifecycle {
            auto_start: false,
            startup: Startup::Required,
            requires: Vec::new(),
            restart: RestartPolicy::default(),
            start_timeout: Duration::from_secs(10),
            stop_timeout: Duration::from_secs(10),
            stable_threshold: Duration::from_secs(5),
            security: None,
        }
    }
}

impl Default for RestartPolicy {
    fn default() -> RestartPolicy {
        RestartPolicy {
            initial_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(90),
            backoff_factor: 2.0,
            jitter: 0.1,
            max_attempts: 0,
        }
    }
}

/// An entry's `lifecycle` field alone (for kinds that only validate it).
#[derive(Deserialize)]
struct LifecycleOnly {
    #[serde(default)]
    lifecycle: Option<RawLifecycle>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RawLifecycle {
    auto_start: bool,
    startup: Option<String>,
    #[serde(alias = "depends_on")]
    requires: Vec<String>,
    restart: Option<RawRestart>,
    start_timeout: Option<GoDuration>,
    stop_timeout: Option<GoDuration>,
    stable_threshold: Option<GoDuration>,
    security: Option<RawSecurity>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RawRestart {
    initial_delay: Option<GoDuration>,
    max_delay: Option<GoDuration>,
    backoff_factor: Option<f64>,
    jitter: Option<f64>,
    max_attempts: Option<i64>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RawSecurity {
    actor: Option<RawActor>,
    policies: Vec<String>,
    groups: Vec<String>,
}

#[derive(Deserialize)]
struct RawActor {
    id: String,
    #[serde(default)]
    meta: Map,
}

impl Lifecycle {
    /// The `lifecycle` of any supervised entry (default when absent); errors name the field.
    pub fn of(entry: &Entry) -> Result<Lifecycle> {
        let raw: LifecycleOnly = entry.decode().map_err(Error::from)?;
        Lifecycle::from_raw(raw.lifecycle.unwrap_or_default(), entry.id.ns())
    }

    fn from_raw(raw: RawLifecycle, ns: &str) -> Result<Lifecycle> {
        let defaults = Lifecycle::default();
        let startup = match raw.startup.as_deref().map(str::trim) {
            None | Some("") | Some("required") => Startup::Required,
            Some("optional") => Startup::Optional,
            Some(other) => {
                return Err(Error::invalid(format!(
                    "must be \"required\" or \"optional\", got {other:?}"
                ))
                .in_field("lifecycle.startup"));
            }
        };
        let ids = |list: Vec<String>| -> Vec<EntryId> {
            list.iter()
                .map(|s| s.trim())
                .filter(|s| !s.is_empty())
                .map(|s| EntryId::resolve(s, ns))
                .collect()
        };
        let security = raw.security.map(|s| ServiceSecurity {
            actor: s.actor.map(|a| ServiceActor {
                id: a.id,
                meta: a.meta,
            }),
            policies: ids(s.policies),
            groups: ids(s.groups),
        });
        let pick = |d: Option<GoDuration>, default: Duration| d.map_or(default, |d| d.0);
        Ok(Lifecycle {
            auto_start: raw.auto_start,
            startup,
            requires: ids(raw.requires),
            restart: RestartPolicy::from_raw(raw.restart.unwrap_or_default())?,
            start_timeout: pick(raw.start_timeout, defaults.start_timeout),
            stop_timeout: pick(raw.stop_timeout, defaults.stop_timeout),
            stable_threshold: pick(raw.stable_threshold, defaults.stable_threshold),
            security,
        })
    }
}

impl RestartPolicy {
    fn from_raw(raw: RawRestart) -> Result<RestartPolicy> {
        let d = RestartPolicy::default();
        let field = |name: &str| format!("lifecycle.restart.{name}");
        let backoff_factor = raw.backoff_factor.unwrap_or(d.backoff_factor);
        if !(backoff_factor >= 1.0 && backoff_factor.is_finite()) {
            return Err(
                Error::invalid(format!("must be at least 1, got {backoff_factor}"))
                    .in_field(field("backoff_factor")),
            );
        }
        let jitter = raw.jitter.unwrap_or(d.jitter);
        if !(0.0..=1.0).contains(&jitter) {
            return Err(
                Error::invalid(format!("must be between 0 and 1, got {jitter}"))
                    .in_field(field("jitter")),
            );
        }
        let max_attempts = match raw.max_attempts {
            None => d.max_attempts,
            Some(n) => u32::try_from(n).map_err(|_| {
                Error::invalid(format!("must be between 0 and {}, got {n}", u32::MAX))
                    .in_field(field("max_attempts"))
            })?,
        };
        Ok(RestartPolicy {
            initial_delay: raw.initial_delay.map_or(d.initial_delay, |v| v.0),
            max_delay: raw.max_delay.map_or(d.max_delay, |v| v.0),
            backoff_factor,
            jitter,
            max_attempts,
        })
    }

    /// The delay before restart number `attempt + 1` after consecutive crashes:
    /// `initial_delay × backoff_factor^attempt`, capped at `max_delay`, then moved by up to
    /// ± `jitter` of itself; `rand` in `0..1` picks where (0.5 = no change).
    pub fn delay(&self, attempt: u32, rand: f64) -> Duration {
        if self.initial_delay.is_zero() {
            return Duration::ZERO;
        }
        let exponent = i32::try_from(attempt).unwrap_or(i32::MAX);
        let grown = self.initial_delay.as_secs_f64() * self.backoff_factor.powi(exponent);
        let capped = grown.min(self.max_delay.as_secs_f64());
        let spread = 1.0 + self.jitter * (2.0 * rand.clamp(0.0, 1.0) - 1.0);
        Duration::try_from_secs_f64(capped * spread).unwrap_or(self.max_delay)
    }
}

/// A duration field: Go duration text (`"1s"`, `"250ms"`) or a number of seconds, read
/// by [`weft_registry::duration_of`].
#[derive(Clone, Copy)]
struct GoDuration(Duration);

impl<'de> Deserialize<'de> for GoDuration {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        use serde::de::Error as _;
        let value = Value::deserialize(d)?;
        duration_of(&value)
            .map(GoDuration)
            .map_err(D::Error::custom)
    }
}

/// The actor and scope of a service's process (`lifecycle.security`).
///
/// The scope holds the listed policies and every policy of the listed groups; it is set
/// whenever the block lists any policy or group, even if none resolves (an empty scope
/// denies everything). A listed policy that is not registered is NotFound naming it (at
/// boot this defers the service until the policy is there).
pub(crate) fn security_of(
    rt: &Runtime,
    spec: &ServiceSpec,
) -> Result<(Option<Actor>, Option<Scope>)> {
    let Some(security) = &spec.lifecycle.security else {
        return Ok((None, None));
    };
    let actor = security
        .actor
        .as_ref()
        .map(|a| Actor::new(a.id.clone(), a.meta.clone()));
    if security.policies.is_empty() && security.groups.is_empty() {
        return Ok((actor, None));
    }
    let mut policies = Vec::new();
    for (i, id) in security.policies.iter().enumerate() {
        let policy = rt.policies.get(id.as_str()).ok_or_else(|| {
            Error::not_found(format!("policy not found: {id}"))
                .in_field(format!("lifecycle.security.policies[{i}]"))
        })?;
        policies.push(policy);
    }
    for group in &security.groups {
        let members = rt.policies.group(group.as_str());
        if members.is_empty() {
            tracing::warn!(service = %spec.id, %group,
                "lifecycle.security group has no policy; it adds nothing to the scope");
        }
        policies.extend(members);
    }
    Ok((actor, Some(Scope::new(policies))))
}
