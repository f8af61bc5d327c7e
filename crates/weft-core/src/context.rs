//! [`CallContext`]: what flows from a caller to its callee.
//!
//! A context is immutable; every `with_*` returns a new one. A callee's context is made by
//! [`CallContext::for_call`]: it keeps the caller's actor, scope, values, deadline and
//! terminal, and names the callee's entry.

use std::sync::Arc;
use std::time::Instant;

use crate::security::{Actor, Decision, Scope};
use crate::{EntryId, Error, Map, Result, Terminal, Value};

/// The context of one call frame.
#[derive(Clone, Default)]
pub struct CallContext(Arc<Frame>);

#[derive(Clone, Default)]
struct Frame {
    actor: Option<Actor>,
    scope: Option<Scope>,
    values: Arc<Map>,
    deadline: Option<Instant>,
    entry: Option<EntryId>,
    pid: Option<Arc<str>>,
    terminal: Option<Arc<Terminal>>,
    strict: bool,
    /// The runtime acting for itself (starting a command or a service): checks pass.
    /// Never inherited by a callee or a process.
    system: bool,
}

impl CallContext {
    /// A root context with no actor, scope or values.
    ///
    /// `strict` is the app's `security.strict_mode`: with it, a check in a context that
    /// lacks an actor or a scope is denied instead of allowed.
    pub fn root(strict: bool) -> CallContext {
        CallContext(Arc::new(Frame {
            strict,
            ..Frame::default()
        }))
    }

    /// The context in which the runtime acts for itself: a terminal host starting a
    /// command, a supervisor starting or stopping a service. Its checks pass even in
    /// strict mode; whatever it calls or spawns runs in an ordinary context (without
    /// this privilege), with the actor and scope the runtime gives it.
    pub fn system(strict: bool) -> CallContext {
        CallContext(Arc::new(Frame {
            strict,
            system: true,
            ..Frame::default()
        }))
    }

    /// The context a callee runs in: the same actor, scope, values, deadline and terminal.
    pub fn for_call(&self, entry: &EntryId) -> CallContext {
        let mut frame = (*self.0).clone();
        frame.system = false;
        frame.entry = Some(entry.clone());
        CallContext(Arc::new(frame))
    }

    /// The context a spawned process starts in: the same actor, scope and values (they
    /// are inheritable), its own entry and pid, no deadline and no terminal.
    pub fn for_process(&self, entry: &EntryId, pid: Arc<str>) -> CallContext {
        let mut frame = (*self.0).clone();
        frame.system = false;
        frame.entry = Some(entry.clone());
        frame.pid = Some(pid);
        frame.deadline = None;
        frame.terminal = None;
        CallContext(Arc::new(frame))
    }

    /// The acting actor.
    pub fn actor(&self) -> Option<&Actor> {
        self.0.actor.as_ref()
    }

    /// The security scope.
    pub fn scope(&self) -> Option<&Scope> {
        self.0.scope.as_ref()
    }

    /// The context values (`ctx.get`).
    pub fn values(&self) -> &Map {
        &self.0.values
    }

    /// One context value.
    pub fn value(&self, key: &str) -> Option<&Value> {
        self.0.values.get(key)
    }

    /// The deadline, if the caller set one.
    pub fn deadline(&self) -> Option<Instant> {
        self.0.deadline
    }

    /// The entry this frame runs (`None` at the root).
    pub fn entry(&self) -> Option<&EntryId> {
        self.0.entry.as_ref()
    }

    /// The pid of the process this frame belongs to.
    pub fn pid(&self) -> Option<&str> {
        self.0.pid.as_deref()
    }

    /// The terminal, for frames of a CLI process.
    pub fn terminal(&self) -> Option<&Arc<Terminal>> {
        self.0.terminal.as_ref()
    }

    /// Whether `security.strict_mode` is on.
    pub fn strict(&self) -> bool {
        self.0.strict
    }

    /// Replaces the actor.
    pub fn with_actor(&self, actor: Option<Actor>) -> CallContext {
        self.edit(|f| f.actor = actor)
    }

    /// Replaces the scope.
    pub fn with_scope(&self, scope: Option<Scope>) -> CallContext {
        self.edit(|f| f.scope = scope)
    }

    /// Merges `values` over the current values.
    pub fn with_values(&self, values: &Map) -> CallContext {
        self.edit(|f| {
            let mut merged = (*f.values).clone();
            merged.extend(values.iter().map(|(k, v)| (k.clone(), v.clone())));
            f.values = Arc::new(merged);
        })
    }

    /// Sets the deadline (an earlier existing deadline is kept).
    pub fn with_deadline(&self, deadline: Instant) -> CallContext {
        self.edit(|f| f.deadline = Some(f.deadline.map_or(deadline, |d| d.min(deadline))))
    }

    /// Sets the pid.
    pub fn with_pid(&self, pid: impl Into<Arc<str>>) -> CallContext {
        let pid = pid.into();
        self.edit(|f| f.pid = Some(pid))
    }

    /// Sets the terminal.
    pub fn with_terminal(&self, terminal: Option<Arc<Terminal>>) -> CallContext {
        self.edit(|f| f.terminal = terminal)
    }

    /// Sets the entry id.
    pub fn with_entry(&self, entry: EntryId) -> CallContext {
        self.edit(|f| f.entry = Some(entry))
    }

    /// The permission check of every module and host operation.
    ///
    /// With both an actor and a scope, only an Allow passes. With either missing, the
    /// check passes unless strict mode is on. A denial is a PermissionDenied error naming
    /// the action and the resource.
    pub fn check(&self, action: &str, resource: &str) -> Result<()> {
        self.check_with(action, resource, None)
    }

    /// [`check`](Self::check) with resource metadata.
    pub fn check_with(&self, action: &str, resource: &str, meta: Option<&Map>) -> Result<()> {
        if self.0.system {
            return Ok(());
        }
        let allowed = match (&self.0.actor, &self.0.scope) {
            (Some(actor), Some(scope)) => {
                scope.evaluate(actor, action, resource, meta) == Decision::Allow
            }
            _ => !self.0.strict,
        };
        if allowed {
            Ok(())
        } else {
            Err(Error::permission_denied(format!(
                "not allowed: {action} on {resource}"
            )))
        }
    }

    /// `security.can`: true only with both an actor and a scope that allows.
    pub fn can(&self, action: &str, resource: &str, meta: Option<&Map>) -> bool {
        match (&self.0.actor, &self.0.scope) {
            (Some(actor), Some(scope)) => {
                scope.evaluate(actor, action, resource, meta) == Decision::Allow
            }
            _ => false,
        }
    }

    fn edit(&self, change: impl FnOnce(&mut Frame)) -> CallContext {
        let mut frame = (*self.0).clone();
        change(&mut frame);
        CallContext(Arc::new(frame))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_system_context_passes_checks_but_does_not_pass_them_on() {
        let system = CallContext::system(true);
        assert!(system.check("process.exec", "app:cmd").is_ok());
        assert!(!system.can("process.exec", "app:cmd", None));
        let id = EntryId::new("app", "cmd");
        let callee = system.for_call(&id);
        assert!(callee.check("funcs.call", "app:x").is_err());
        let child = system.for_process(&id, Arc::from("{h|1}"));
        assert!(child.check("funcs.call", "app:x").is_err());
        // Without strict mode an ordinary context passes anyway.
        assert!(
            CallContext::system(false)
                .for_call(&id)
                .check("funcs.call", "app:x")
                .is_ok()
        );
    }
    use crate::ErrorKind;
    use crate::security::Policy;

    struct AllowPrefix(EntryId, &'static str);

    impl Policy for AllowPrefix {
        fn id(&self) -> &EntryId {
            &self.0
        }
        fn evaluate(&self, _: &Actor, action: &str, _: &str, _: Option<&Map>) -> Decision {
            if action.starts_with(self.1) {
                Decision::Allow
            } else {
                Decision::Undefined
            }
        }
    }

    #[test]
    fn without_security_everything_passes_unless_strict() {
        assert!(CallContext::root(false).check("funcs.call", "a:b").is_ok());
        let err = CallContext::root(true)
            .check("funcs.call", "a:b")
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::PermissionDenied);
        assert!(err.message().contains("funcs.call") && err.message().contains("a:b"));
        assert!(!CallContext::root(false).can("funcs.call", "a:b", None));
    }

    #[test]
    fn actor_with_empty_scope_is_denied_everywhere() {
        let cx = CallContext::root(false)
            .with_actor(Some(Actor::new("bob", Map::new())))
            .with_scope(Some(Scope::default()));
        assert!(cx.check("funcs.call", "a:b").is_err());
    }

    #[test]
    fn scope_decides_when_actor_and_scope_are_present() {
        let policy: Arc<dyn Policy> = Arc::new(AllowPrefix(EntryId::new("p", "funcs"), "funcs."));
        let cx = CallContext::root(false)
            .with_actor(Some(Actor::new("bob", Map::new())))
            .with_scope(Some(Scope::new([policy])));
        assert!(cx.check("funcs.call", "a:b").is_ok());
        assert!(cx.check("process.spawn", "a:b").is_err());
        assert!(cx.can("funcs.call", "a:b", None));
    }

    #[test]
    fn child_frames_inherit_and_values_merge() {
        let mut m = Map::new();
        m.insert("user".into(), Value::str("ann"));
        let cx = CallContext::root(false)
            .with_values(&m)
            .with_actor(Some(Actor::new("ann", Map::new())));
        let child = cx.for_call(&EntryId::new("app", "f"));
        assert_eq!(child.value("user").unwrap().as_str(), Some("ann"));
        assert_eq!(child.actor().unwrap().id(), "ann");
        assert_eq!(child.entry().unwrap().as_str(), "app:f");
        assert!(cx.entry().is_none());
    }
}
