//! [`PolicyRegistry`]: the compiled policies by id and by group, and [`PolicyHandler`],
//! the kind handler that fills it.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use parking_lot::RwLock;
use weft_core::{BoxFuture, CallContext, EntryId, Error, Policy, Result};
use weft_registry::{BootMode, Entry, KindHandler, Staged, Undo, restore};

use crate::CompiledPolicy;

/// The condition policy kind [`PolicyHandler`] accepts.
pub const KIND: &str = "security.policy";

/// The expression policy kind [`PolicyHandler`] accepts.
pub const EXPR_KIND: &str = "security.policy.expr";

/// The policies of a running app. Cloning shares the same registry.
#[derive(Clone, Default)]
pub struct PolicyRegistry(Arc<RwLock<Index>>);

#[derive(Default)]
struct Index {
    /// Policy id → policy.
    policies: HashMap<String, Arc<CompiledPolicy>>,
    /// Group id → (policy id → policy); a group with no policy is removed.
    groups: HashMap<String, BTreeMap<String, Arc<CompiledPolicy>>>,
}

impl PolicyRegistry {
    /// The policy `id` (a full id) for the caller `cx`: PermissionDenied without
    /// `security.policy.get` on the id (checked first), NotFound when there is none.
    pub fn read(&self, cx: &CallContext, id: &str) -> Result<Arc<dyn Policy>> {
        cx.check("security.policy.get", id)?;
        self.get(id)
            .ok_or_else(|| Error::not_found(format!("policy not found: {id}")))
    }

    /// The policies of group `group_id` for the caller `cx`: PermissionDenied without
    /// `security.policy_group.get` on the group (checked first), NotFound when no policy
    /// lists it (an empty scope would silently deny everything).
    pub fn read_group(&self, cx: &CallContext, group_id: &str) -> Result<Vec<Arc<dyn Policy>>> {
        cx.check("security.policy_group.get", group_id)?;
        let policies = self.group(group_id);
        if policies.is_empty() {
            return Err(Error::not_found(format!(
                "policy group not found: {group_id} (no policy lists it)"
            )));
        }
        Ok(policies)
    }

    /// The policy `id` (a full `ns:name` id), for the runtime itself (a service's
    /// declared `lifecycle.security`); callers go through [`read`](Self::read).
    pub fn get(&self, id: &str) -> Option<Arc<dyn Policy>> {
        let policy = self.0.read().policies.get(id).cloned()?;
        Some(policy)
    }

    /// Policies in group `group_id` (`ns:group`), sorted by policy id, for the runtime
    /// itself; callers go through [`read_group`](Self::read_group).
    pub fn group(&self, group_id: &str) -> Vec<Arc<dyn Policy>> {
        self.0
            .read()
            .groups
            .get(group_id)
            .map_or_else(Vec::new, |members| {
                members
                    .values()
                    .map(|p| Arc::clone(p) as Arc<dyn Policy>)
                    .collect()
            })
    }

    /// Registers `policy`, replacing an earlier policy with the same id (and its groups).
    pub fn insert(&self, policy: CompiledPolicy) {
        self.put(Arc::new(policy));
    }

    /// [`insert`](Self::insert), returning the policy it replaced.
    fn put(&self, policy: Arc<CompiledPolicy>) -> Option<Arc<CompiledPolicy>> {
        let id = policy.id().as_str().to_string();
        let mut index = self.0.write();
        let old = index.remove(&id);
        for group in policy.groups() {
            index
                .groups
                .entry(group.as_str().to_string())
                .or_default()
                .insert(id.clone(), Arc::clone(&policy));
        }
        index.policies.insert(id, policy);
        old
    }

    /// Removes the policy `id` from the registry and its groups; false when it was absent.
    pub fn remove(&self, id: &str) -> bool {
        self.0.write().remove(id).is_some()
    }

    /// The undo of a change to policy `id` that replaced `old` (`None`: there was none).
    fn restore(&self, id: EntryId, old: Option<Arc<CompiledPolicy>>) -> Undo {
        let (put, remove) = (self.clone(), self.clone());
        restore(
            id,
            old,
            move |_, p| drop(put.put(p)),
            move |id| drop(remove.0.write().remove(id.as_str())),
        )
    }

    /// The number of registered policies.
    pub fn len(&self) -> usize {
        self.0.read().policies.len()
    }

    /// True when no policy is registered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl std::fmt::Debug for PolicyRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let index = self.0.read();
        let mut ids: Vec<&String> = index.policies.keys().collect();
        ids.sort();
        f.debug_tuple("PolicyRegistry").field(&ids).finish()
    }
}

impl Index {
    /// Drops the policy `id` and its group memberships, returning it.
    fn remove(&mut self, id: &str) -> Option<Arc<CompiledPolicy>> {
        let old = self.policies.remove(id)?;
        for group in old.groups() {
            if let Some(members) = self.groups.get_mut(group.as_str()) {
                members.remove(id);
                if members.is_empty() {
                    self.groups.remove(group.as_str());
                }
            }
        }
        Some(old)
    }
}

/// The `security.policy` and `security.policy.expr` kind handler: compiles each entry
/// into a [`PolicyRegistry`].
pub struct PolicyHandler(PolicyRegistry);

impl PolicyHandler {
    /// A handler registering into `registry` (shared, not copied).
    pub fn new(registry: &PolicyRegistry) -> PolicyHandler {
        PolicyHandler(registry.clone())
    }
}

impl KindHandler for PolicyHandler {
    fn kinds(&self) -> &[&'static str] {
        &[KIND, EXPR_KIND]
    }

    fn stage(&self, entry: Arc<Entry>, _mode: BootMode) -> BoxFuture<Result<Staged>> {
        let registry = self.0.clone();
        let staged = CompiledPolicy::from_entry(&entry).map(|p| {
            Staged::new(move || {
                let old = registry.put(Arc::new(p));
                registry.restore(entry.id.clone(), old)
            })
        });
        Box::pin(async move { staged })
    }

    fn stage_remove(&self, entry: Arc<Entry>) -> Result<Staged> {
        let registry = self.0.clone();
        Ok(Staged::new(move || {
            let old = registry.0.write().remove(entry.id.as_str());
            registry.restore(entry.id.clone(), old)
        }))
    }
}

#[cfg(test)]
mod tests {
    use weft_core::{EntryId, ErrorKind, Value};

    use super::*;

    fn compiled(id: &str, groups: &str) -> CompiledPolicy {
        let data: Value = serde_yaml_ng::from_str(&format!(
            "policy: {{actions: '*', resources: '*', effect: allow}}\ngroups: {groups}"
        ))
        .unwrap();
        CompiledPolicy::compile(EntryId::parse(id).unwrap(), &data).unwrap()
    }

    fn ids(policies: &[Arc<dyn Policy>]) -> Vec<&str> {
        policies.iter().map(|p| p.id().as_str()).collect()
    }

    #[test]
    fn get_and_group_by_full_ids() {
        let reg = PolicyRegistry::default();
        reg.insert(compiled("app:zeta", "[staff]"));
        reg.insert(compiled("app:alpha", "[staff, 'other:ops']"));
        reg.insert(compiled("lib:beta", "['app:staff']"));
        assert_eq!(reg.len(), 3);
        assert_eq!(reg.get("app:alpha").unwrap().id().as_str(), "app:alpha");
        assert!(reg.get("alpha").is_none());
        assert!(reg.get("app:nope").is_none());
        // Sorted by policy id, whatever the order of registration.
        assert_eq!(
            ids(&reg.group("app:staff")),
            ["app:alpha", "app:zeta", "lib:beta"]
        );
        assert_eq!(ids(&reg.group("other:ops")), ["app:alpha"]);
        assert!(reg.group("staff").is_empty());
        assert!(reg.group("app:nope").is_empty());
    }

    #[test]
    fn callers_read_policies_and_groups_through_the_checks() {
        use weft_core::{Actor, Map, Scope};
        let reg = PolicyRegistry::default();
        reg.insert(compiled("app:alpha", "[staff]"));
        let open = CallContext::root(false);
        assert_eq!(
            reg.read(&open, "app:alpha").unwrap().id().as_str(),
            "app:alpha"
        );
        assert_eq!(
            reg.read(&open, "app:nope").err().unwrap().kind(),
            ErrorKind::NotFound
        );
        assert_eq!(
            ids(&reg.read_group(&open, "app:staff").unwrap()),
            ["app:alpha"]
        );
        let err = reg.read_group(&open, "app:nobody").err().unwrap();
        assert_eq!(err.kind(), ErrorKind::NotFound);
        assert!(err.message().contains("no policy lists it"), "{err}");
        // A denied caller learns nothing, not even whether the id exists.
        let denied = open
            .with_actor(Some(Actor::new("eve", Map::new())))
            .with_scope(Some(Scope::default()));
        for id in ["app:alpha", "app:nope"] {
            let err = reg.read(&denied, id).err().unwrap();
            assert_eq!(
                err.message(),
                format!("not allowed: security.policy.get on {id}")
            );
        }
        let err = reg.read_group(&denied, "app:staff").err().unwrap();
        assert_eq!(
            err.message(),
            "not allowed: security.policy_group.get on app:staff"
        );
    }

    #[test]
    fn replacing_a_policy_moves_its_groups() {
        let reg = PolicyRegistry::default();
        reg.insert(compiled("app:p", "[a, b]"));
        reg.insert(compiled("app:p", "[b, c]"));
        assert_eq!(reg.len(), 1);
        assert!(reg.group("app:a").is_empty());
        assert_eq!(ids(&reg.group("app:b")), ["app:p"]);
        assert_eq!(ids(&reg.group("app:c")), ["app:p"]);
        assert!(reg.remove("app:p"));
        assert!(!reg.remove("app:p"));
        assert!(reg.is_empty());
        assert!(reg.group("app:b").is_empty());
    }

    #[test]
    fn clones_share_one_registry() {
        let reg = PolicyRegistry::default();
        let other = reg.clone();
        other.insert(compiled("app:p", "[]"));
        assert!(reg.get("app:p").is_some());
    }

    #[tokio::test]
    async fn the_handler_registers_valid_entries_and_names_bad_fields() {
        let reg = PolicyRegistry::default();
        let handler = PolicyHandler::new(&reg);
        assert_eq!(handler.kinds(), [KIND, EXPR_KIND]);
        let mut entry = Entry::new(EntryId::new("app", "ok"), KIND);
        entry.data = serde_yaml_ng::from_str(
            "policy: {actions: '*', resources: '*', effect: allow}\ngroups: [g]",
        )
        .unwrap();
        handler.apply(Arc::new(entry), BootMode::Run).await.unwrap();
        assert_eq!(ids(&reg.group("app:g")), ["app:ok"]);

        let mut bad = Entry::new(EntryId::new("app", "bad"), KIND);
        bad.data = serde_yaml_ng::from_str("policy: {actions: '*', resources: '*', effect: maybe}")
            .unwrap();
        let err = handler
            .apply(Arc::new(bad), BootMode::Run)
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Invalid);
        assert_eq!(err.context_chain(), ["field policy.effect"]);
        assert!(reg.get("app:bad").is_none());
    }
}
