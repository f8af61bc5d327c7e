//! Typed handles a call frame carries: a terminal, an HTTP request, … Each handle type
//! says how it passes from a frame to the frames it starts ([`Inherit`]), so the context
//! itself knows nothing of terminals or requests.

use std::any::{Any, TypeId};
use std::sync::Arc;

/// How a handle passes from a frame to the frames it starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Inherit {
    /// To every call and every spawned process, transitively.
    CallsAndProcesses,
    /// To every call, transitively; not to spawned processes (a terminal).
    Calls,
    /// To the direct callee only; neither further nor to processes (an HTTP request
    /// goes to the endpoint's function, not to what that function calls).
    DirectCallee,
}

/// A value a [`CallContext`](crate::CallContext) can carry, one per type.
pub trait Handle: Any + Send + Sync {
    /// How the handle passes on.
    const INHERIT: Inherit;
}

/// The handles of one frame; empty for most frames, and then free to pass on.
#[derive(Clone, Default)]
pub(crate) struct Handles(Option<Arc<[Slot]>>);

/// One handle and where it still goes.
#[derive(Clone)]
struct Slot {
    ty: TypeId,
    value: Arc<dyn Any + Send + Sync>,
    pass: Pass,
}

/// A slot's passing state.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Pass {
    /// As the handle type's rule says.
    Rule(Inherit),
    /// Seen by this frame only (a direct callee's request).
    Here,
}

impl Handles {
    /// The handle of type `T`.
    pub(crate) fn get<T: Handle>(&self) -> Option<Arc<T>> {
        let slots = self.0.as_deref()?;
        let slot = slots.iter().find(|s| s.ty == TypeId::of::<T>())?;
        slot.value.clone().downcast::<T>().ok()
    }

    /// These handles plus `handle` (replacing one of its type).
    pub(crate) fn with<T: Handle>(&self, handle: Arc<T>) -> Handles {
        let ty = TypeId::of::<T>();
        let mut slots: Vec<Slot> = self
            .0
            .iter()
            .flat_map(|s| s.iter())
            .filter(|s| s.ty != ty)
            .cloned()
            .collect();
        slots.push(Slot {
            ty,
            value: handle,
            pass: Pass::Rule(T::INHERIT),
        });
        Handles(Some(slots.into()))
    }

    /// The handles a callee gets.
    pub(crate) fn for_call(&self) -> Handles {
        self.pass_on(|pass| match pass {
            Pass::Rule(Inherit::DirectCallee) => Some(Pass::Here),
            Pass::Here => None,
            rule => Some(rule),
        })
    }

    /// The handles a spawned process gets.
    pub(crate) fn for_process(&self) -> Handles {
        self.pass_on(|pass| (pass == Pass::Rule(Inherit::CallsAndProcesses)).then_some(pass))
    }

    /// The slots `next` keeps, with their new state; shares the slots when nothing changes.
    fn pass_on(&self, next: impl Fn(Pass) -> Option<Pass>) -> Handles {
        let Some(slots) = &self.0 else {
            return Handles(None);
        };
        if slots.iter().all(|s| next(s.pass) == Some(s.pass)) {
            return self.clone();
        }
        let kept: Vec<Slot> = slots
            .iter()
            .filter_map(|s| next(s.pass).map(|pass| Slot { pass, ..s.clone() }))
            .collect();
        Handles((!kept.is_empty()).then(|| kept.into()))
    }
}
