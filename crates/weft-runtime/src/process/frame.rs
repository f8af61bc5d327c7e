//! A call's frame as a process (reference §4.5: every function call runs in a frame with
//! a pid). The frame gets its identity only when its code first asks for one (its pid, its
//! inbox or events, a monitored or linked child, a relation, a name), so a call that uses
//! none of the process API pays nothing. From then on it is a process like any other:
//! others send to it, monitor it, link to it and terminate it. The engine ends it with
//! the call's result through [`ProcessTable::finish`], so its monitors get EXIT, its
//! links fire, its names are released and its unread messages are dropped.

use std::sync::Arc;

use weft_core::{CallContext, Error, Result};

use super::{Pid, Proc, ProcessTable, Stop};
use crate::limits::Host;
use crate::terminal::new_pid;

impl ProcessTable {
    /// Gives the call running in `cx` a pid of its own, hosted by the called entry
    /// (`{ns:name|…}`), and returns its context with that pid and the process.
    ///
    /// `stop` is how the engine hears that the frame was stopped from outside
    /// (terminated, a linked process failed, a cancel deadline passed): it must end the
    /// call with that error. The frame is already finished by then.
    pub fn open_frame(
        &self,
        cx: &CallContext,
        stop: Box<dyn FnOnce(Error) + Send>,
    ) -> Result<(CallContext, Arc<Proc>)> {
        if let Some(pid) = cx.pid() {
            return Err(Error::internal(format!(
                "this frame already has a pid: {pid}"
            )));
        }
        let entry = cx
            .entry()
            .ok_or_else(|| Error::invalid("only a call of an entry has a frame of its own"))?
            .clone();
        let host = Arc::new(Host::frame(entry.as_str()));
        let pid: Pid = new_pid(entry.as_str()).into();
        let proc = Proc::new(pid.clone(), entry, host, None, None);
        *proc.stop.lock() = Some(Stop::Frame(stop));
        self.procs.write().insert(pid.clone(), proc.clone());
        Ok((cx.with_pid(pid), proc))
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use parking_lot::Mutex;
    use weft_core::{EntryId, ErrorKind, Value};
    use weft_registry::Config;

    use super::*;
    use crate::{EventKind, Runtime};

    fn call_of(rt: &Runtime, name: &str) -> CallContext {
        rt.root_context().for_call(&EntryId::new("app", name))
    }

    #[test]
    fn a_frame_is_a_process_until_its_call_ends() {
        let rt = Runtime::new(PathBuf::from("."), Config::default());
        let stopped = Arc::new(Mutex::new(None));
        let seen = stopped.clone();
        let (watcher, me) = rt
            .processes
            .open_frame(&call_of(&rt, "watcher"), Box::new(|_| {}))
            .unwrap();
        let (target, _) = rt
            .processes
            .open_frame(
                &call_of(&rt, "target"),
                Box::new(move |e| *seen.lock() = Some(e)),
            )
            .unwrap();
        let target_pid = target.pid().unwrap().to_string();
        assert!(target_pid.starts_with("{app:target|"), "{target_pid}");
        assert!(rt.processes.open_frame(&target, Box::new(|_| {})).is_err());

        rt.processes.monitor(&watcher, &target_pid).unwrap();
        rt.processes
            .send(&watcher, &target_pid, "hello", vec![Value::from(1)])
            .unwrap();
        rt.processes.terminate(&watcher, &target_pid).unwrap();

        let why = stopped
            .lock()
            .take()
            .expect("the engine was told to stop the call");
        assert_eq!(why.kind(), ErrorKind::Canceled);
        assert!(
            rt.processes.get(&target_pid).is_none(),
            "a stopped frame leaves the table"
        );
        let mut events = me.take_receivers().unwrap().events;
        let exit = events.try_recv().unwrap();
        assert!(matches!(exit.kind, EventKind::Exit(Err(_))));
        assert_eq!(&*exit.from, target_pid);

        // The call's end finishes the watcher like a process exit.
        rt.processes.finish(watcher.pid().unwrap(), Ok(Value::Nil));
        assert!(rt.processes.is_empty());
    }

    #[test]
    fn only_a_call_of_an_entry_opens_a_frame() {
        let rt = Runtime::new(PathBuf::from("."), Config::default());
        let opened = rt
            .processes
            .open_frame(&rt.root_context(), Box::new(|_| {}));
        assert!(matches!(opened, Err(e) if e.kind() == ErrorKind::Invalid));
    }
}
