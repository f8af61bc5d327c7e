//! Security values that flow with every call: [`Actor`], [`Scope`], [`Policy`].
//!
//! The policy kinds themselves (`security.policy`) are registered by the crate that owns
//! them; here is only what a context carries and how a scope decides.

use std::fmt;
use std::sync::Arc;

use indexmap::IndexMap;

use crate::{EntryId, Map};

/// Who is acting: an id and free-form metadata.
#[derive(Clone, PartialEq)]
pub struct Actor(Arc<ActorInner>);

#[derive(PartialEq)]
struct ActorInner {
    id: String,
    meta: Map,
}

impl Actor {
    /// An actor with `id` and `meta`.
    pub fn new(id: impl Into<String>, meta: Map) -> Actor {
        Actor(Arc::new(ActorInner {
            id: id.into(),
            meta,
        }))
    }

    /// The actor's id.
    pub fn id(&self) -> &str {
        &self.0.id
    }

    /// The actor's metadata.
    pub fn meta(&self) -> &Map {
        &self.0.meta
    }

    /// True when the actor has neither an id nor metadata.
    pub fn is_empty(&self) -> bool {
        self.0.id.is_empty() && self.0.meta.is_empty()
    }
}

impl fmt::Debug for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Actor({:?})", self.0.id)
    }
}

/// The outcome of evaluating a policy or a scope.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// The policy allows the action.
    Allow,
    /// The policy denies the action.
    Deny,
    /// The policy does not apply.
    Undefined,
}

impl Decision {
    /// The Lua name: `"allow"`, `"deny"` or `"undefined"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Allow => "allow",
            Decision::Deny => "deny",
            Decision::Undefined => "undefined",
        }
    }
}

/// A policy: decides one `(actor, action, resource, meta)` question.
pub trait Policy: Send + Sync + 'static {
    /// The policy's entry id.
    fn id(&self) -> &EntryId;
    /// Evaluates the policy.
    fn evaluate(&self, actor: &Actor, action: &str, resource: &str, meta: Option<&Map>)
    -> Decision;
}

/// An immutable set of policies keyed by id.
#[derive(Clone, Default)]
pub struct Scope(Arc<IndexMap<EntryId, Arc<dyn Policy>>>);

impl Scope {
    /// A scope holding `policies` (later duplicates replace earlier ones).
    pub fn new(policies: impl IntoIterator<Item = Arc<dyn Policy>>) -> Scope {
        Scope(Arc::new(
            policies.into_iter().map(|p| (p.id().clone(), p)).collect(),
        ))
    }

    /// A new scope with `policy` added.
    pub fn with(&self, policy: Arc<dyn Policy>) -> Scope {
        let mut map = (*self.0).clone();
        map.insert(policy.id().clone(), policy);
        Scope(Arc::new(map))
    }

    /// A new scope without the policy `id`.
    pub fn without(&self, id: &str) -> Scope {
        let mut map = (*self.0).clone();
        map.retain(|k, _| k.as_str() != id);
        Scope(Arc::new(map))
    }

    /// True when the scope holds the policy `id`.
    pub fn contains(&self, id: &str) -> bool {
        self.0.keys().any(|k| k.as_str() == id)
    }

    /// The policies, in insertion order.
    pub fn policies(&self) -> impl Iterator<Item = &Arc<dyn Policy>> {
        self.0.values()
    }

    /// True when the scope holds no policy.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Any Deny wins, else any Allow, else Undefined (an empty scope is Undefined).
    pub fn evaluate(
        &self,
        actor: &Actor,
        action: &str,
        resource: &str,
        meta: Option<&Map>,
    ) -> Decision {
        let mut allowed = false;
        for policy in self.0.values() {
            match policy.evaluate(actor, action, resource, meta) {
                Decision::Deny => return Decision::Deny,
                Decision::Allow => allowed = true,
                Decision::Undefined => {}
            }
        }
        if allowed {
            Decision::Allow
        } else {
            Decision::Undefined
        }
    }
}

impl fmt::Debug for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.0.keys()).finish()
    }
}
