//! [`CallContext`]: what flows from a caller to its callee.
//!
//! A context is immutable; every `with_*` returns a new one. A callee's context is made by
//! [`CallContext::for_call`]: it keeps the caller's actor, scope, values and deadline,
//! names the callee's entry, and passes on the typed handles whose [`Inherit`] rule
//! says so (a terminal to calls, an HTTP request to the direct callee only).

use std::sync::Arc;
use std::time::Instant;

use crate::handles::{Handle, Handles};
use crate::security::{Actor, Decision, Scope};
use crate::{EntryId, Error, Map, Result, Value};

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
    handles: Handles,
    strict: bool,
    /// The runtime acting for itself (starting a command or a service): checks pass.
    /// Never inherited by a callee or a process.
    system: bool,
    /// The caller's frame (`None` at a root or a process start): the call chain.
    caller: Option<CallContext>,
    /// How many calls lead to this frame from its root or process.
    depth: u32,
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

    /// The context a callee runs in: the same actor, scope, values and deadline, and the
    /// handles inherited by calls. A call is a frame of its own: it has no pid until it
    /// asks for one (an engine opens it with `ProcessTable::open_frame`).
    pub fn for_call(&self, entry: &EntryId) -> CallContext {
        let f = &*self.0;
        CallContext(Arc::new(Frame {
            actor: f.actor.clone(),
            scope: f.scope.clone(),
            values: f.values.clone(),
            deadline: f.deadline,
            entry: Some(entry.clone()),
            pid: None,
            handles: f.handles.for_call(),
            strict: f.strict,
            system: false,
            caller: Some(self.clone()),
            depth: f.depth.saturating_add(1),
        }))
    }

    /// The context a spawned process starts in: the same actor, scope and values (they
    /// are inheritable), its own entry and pid, no deadline, and the handles inherited
    /// by processes.
    pub fn for_process(&self, entry: &EntryId, pid: Arc<str>) -> CallContext {
        let f = &*self.0;
        CallContext(Arc::new(Frame {
            actor: f.actor.clone(),
            scope: f.scope.clone(),
            values: f.values.clone(),
            deadline: None,
            entry: Some(entry.clone()),
            pid: Some(pid),
            handles: f.handles.for_process(),
            strict: f.strict,
            system: false,
            caller: None,
            depth: 0,
        }))
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

    /// The pid of this frame: a process' own, or a call's once it opened one.
    pub fn pid(&self) -> Option<&str> {
        self.0.pid.as_deref()
    }

    /// How many calls lead to this frame from its root or its process' start.
    pub fn depth(&self) -> u32 {
        self.0.depth
    }

    /// Whether a frame up this one's call chain (not this frame) runs `entry`: that
    /// caller waits for this call while it holds a slot of `entry`'s pool.
    pub fn caller_runs(&self, entry: &EntryId) -> bool {
        let mut frame = self.0.caller.as_ref();
        while let Some(cx) = frame {
            if cx.entry() == Some(entry) {
                return true;
            }
            frame = cx.0.caller.as_ref();
        }
        false
    }

    /// The handle of type `T` this frame holds (a terminal, an HTTP request…).
    pub fn handle<T: Handle>(&self) -> Option<Arc<T>> {
        self.0.handles.get::<T>()
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

    /// Gives this frame `handle`, replacing one of the same type; it passes on to the
    /// frames this one starts as `T::INHERIT` says.
    pub fn with_handle<T: Handle>(&self, handle: Arc<T>) -> CallContext {
        self.edit(|f| f.handles = f.handles.with(handle))
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

    #[test]
    fn a_call_chain_knows_its_depth_and_the_entries_up_it() {
        let (f, g) = (EntryId::new("app", "f"), EntryId::new("app", "g"));
        let root = CallContext::root(false);
        let in_f = root.for_call(&f);
        let in_g = in_f.with_actor(None).for_call(&g);
        assert_eq!((root.depth(), in_f.depth(), in_g.depth()), (0, 1, 2));
        assert!(!in_f.caller_runs(&f), "a frame is not its own caller");
        assert!(in_g.caller_runs(&f));
        assert!(!in_g.caller_runs(&g));
        // A process starts a chain of its own: its spawner's callers are not up it.
        let p = EntryId::new("app", "p");
        let process = in_g.for_process(&p, Arc::from("{h|1}"));
        assert_eq!(process.depth(), 0);
        assert!(!process.for_call(&g).caller_runs(&f));
        assert!(process.for_call(&g).caller_runs(&p));
    }

    #[test]
    fn a_call_is_a_frame_without_its_callers_pid() {
        let (f, p) = (EntryId::new("app", "f"), EntryId::new("app", "p"));
        let process = CallContext::root(false).for_process(&p, Arc::from("{h|1}"));
        assert_eq!(process.pid(), Some("{h|1}"));
        let call = process.for_call(&f);
        assert_eq!(
            call.pid(),
            None,
            "a callee does not speak for its caller's process"
        );
        assert_eq!(call.with_pid("{app:f|2}").pid(), Some("{app:f|2}"));
    }

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

    struct Tty;
    impl Handle for Tty {
        const INHERIT: crate::Inherit = crate::Inherit::Calls;
    }
    struct Request(u32);
    impl Handle for Request {
        const INHERIT: crate::Inherit = crate::Inherit::DirectCallee;
    }
    struct Tenant;
    impl Handle for Tenant {
        const INHERIT: crate::Inherit = crate::Inherit::CallsAndProcesses;
    }

    #[test]
    fn handles_pass_on_by_their_rule() {
        let f = EntryId::new("app", "f");
        let cx = CallContext::root(false)
            .with_handle(Arc::new(Tty))
            .with_handle(Arc::new(Request(7)))
            .with_handle(Arc::new(Tenant));
        assert_eq!(cx.handle::<Request>().unwrap().0, 7);
        // The direct callee sees every handle…
        let callee = cx.for_call(&f);
        assert!(callee.handle::<Tty>().is_some());
        assert_eq!(callee.handle::<Request>().unwrap().0, 7);
        assert!(callee.handle::<Tenant>().is_some());
        // …its own callee no longer sees the request.
        let nested = callee.for_call(&f);
        assert!(nested.handle::<Tty>().is_some());
        assert!(nested.handle::<Request>().is_none());
        assert!(nested.handle::<Tenant>().is_some());
        // A process keeps only what processes inherit.
        let child = cx.for_process(&f, Arc::from("{h|1}"));
        assert!(child.handle::<Tty>().is_none());
        assert!(child.handle::<Request>().is_none());
        assert!(child.handle::<Tenant>().is_some());
        // A new handle of a type replaces the old one.
        let replaced = cx.with_handle(Arc::new(Request(8)));
        assert_eq!(replaced.handle::<Request>().unwrap().0, 8);
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
