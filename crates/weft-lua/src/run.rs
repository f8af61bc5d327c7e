//! The state of one run (a call or a process) in a VM: the tasks it started and, for a
//! process, its inbox, events and topic listeners.
//!
//! Tasks started by the run (managed coroutines, timers) are aborted when
//! the run ends, so nothing outlives the function or process that made it.

use std::future::Future;
use std::sync::Arc;

use mlua::Lua;
use parking_lot::Mutex;
use tokio::sync::mpsc::{Receiver, UnboundedReceiver};
use tokio::task::AbortHandle;
use weft_core::{CallContext, Error, Result, Value};
use weft_runtime::SendError;
use weft_runtime::{Full, Message, Proc};

use crate::chan::{Item, LuaChannel};
use crate::{errors, frame};

/// The state of the run in progress in a VM.
#[derive(Default)]
pub struct RunState {
    tasks: Mutex<Vec<AbortHandle>>,
    io: Mutex<Option<ProcessIo>>,
}

/// A process' receiving side, set up on first use.
struct ProcessIo {
    proc: Arc<Proc>,
    mailbox: Option<Receiver<Message>>,
    events_rx: Option<UnboundedReceiver<weft_runtime::Event>>,
    inbox: LuaChannel,
    events: Option<LuaChannel>,
    listeners: Arc<Mutex<Vec<Listener>>>,
}

/// A `process.listen` subscription.
struct Listener {
    topic: String,
    channel: LuaChannel,
    as_message: bool,
}

/// Ends the run when dropped: aborts its tasks and restores the previous run state.
pub struct RunGuard {
    lua: Lua,
    previous: Option<Arc<RunState>>,
}

/// Starts a run in `lua`.
pub fn begin(lua: &Lua) -> RunGuard {
    let previous = lua.set_app_data(Arc::new(RunState::default()));
    RunGuard {
        lua: lua.clone(),
        previous,
    }
}

impl Drop for RunGuard {
    fn drop(&mut self) {
        let ended = match self.previous.take() {
            Some(prev) => self.lua.set_app_data(prev),
            None => self.lua.remove_app_data::<Arc<RunState>>(),
        };
        if let Some(state) = ended {
            for task in state.tasks.lock().drain(..) {
                task.abort();
            }
        }
    }
}

/// Runs `fut` on its own task for as long as the current run lasts.
pub fn spawn_task(lua: &Lua, fut: impl Future<Output = ()> + Send + 'static) -> AbortHandle {
    let handle = tokio::spawn(fut).abort_handle();
    match state(lua) {
        Some(state) => state.tasks.lock().push(handle.clone()),
        None => handle.abort(),
    }
    handle
}

/// The process' inbox: messages whose topic nobody `listen`s to.
pub fn inbox(lua: &Lua) -> Result<LuaChannel> {
    with_io(lua, |io| {
        route_mailbox(io);
        Ok(io.inbox.clone())
    })
}

/// The process' lifecycle events (queued from its start).
pub fn events(lua: &Lua) -> Result<LuaChannel> {
    with_io(lua, |io| {
        if let Some(ch) = &io.events {
            return Ok(ch.clone());
        }
        let ch = LuaChannel::new(usize::MAX);
        if let Some(rx) = io.events_rx.take() {
            let tx = ch.0.clone();
            io.proc.route_events(
                Arc::new(move |event| match tx.try_send(Item::Event(event)) {
                    Err(SendError::Full(_)) => Err(Full),
                    Ok(()) | Err(SendError::Closed(_)) => Ok(()),
                }),
                rx,
            );
        }
        io.events = Some(ch.clone());
        Ok(ch)
    })
}

/// A channel receiving the messages of `topic` (raw values, or Message objects). A new
/// subscription to a topic replaces (and closes) the previous one. Like the inbox, it
/// holds at most the host's `host.mailbox_size` unread messages.
pub fn listen(lua: &Lua, topic: &str, as_message: bool) -> Result<LuaChannel> {
    if topic.is_empty() {
        return Err(Error::invalid("topic cannot be empty"));
    }
    if topic.starts_with('@') {
        return Err(Error::invalid(format!("topic {topic:?} is reserved")));
    }
    with_io(lua, |io| {
        let channel = LuaChannel::new(io.proc.mailbox_size());
        let mut listeners = io.listeners.lock();
        listeners.retain(|l| {
            let same = l.topic == topic;
            if same {
                l.channel.0.close();
            }
            !same
        });
        listeners.push(Listener {
            topic: topic.to_string(),
            channel: channel.clone(),
            as_message,
        });
        drop(listeners);
        route_mailbox(io);
        Ok(channel)
    })
}

/// Removes the subscription whose channel is `channel`; it is closed.
pub fn unlisten(lua: &Lua, channel: &LuaChannel) -> Result<()> {
    with_io(lua, |io| {
        io.listeners
            .lock()
            .retain(|l| !l.channel.0.same(&channel.0));
        channel.0.close();
        Ok(())
    })
}

fn state(lua: &Lua) -> Option<Arc<RunState>> {
    lua.app_data_ref::<Arc<RunState>>().map(|s| s.clone())
}

/// Runs `f` on the process' I/O, setting it up on first use. Only a process' own frame
/// (not a function it calls) has an inbox and events.
fn with_io<T>(lua: &Lua, f: impl FnOnce(&mut ProcessIo) -> Result<T>) -> Result<T> {
    let cx: CallContext = frame::current(lua);
    let state = state(lua).ok_or_else(|| Error::internal("no run in progress"))?;
    let mut io = state.io.lock();
    if io.is_none() {
        let rt = frame::runtime(lua).map_err(|e| errors::from_mlua(&e))?;
        let proc = cx
            .pid()
            .and_then(|pid| rt.processes.get(pid))
            .filter(|p| Some(p.entry()) == cx.entry())
            .ok_or_else(|| Error::invalid("only a process has an inbox, events and listeners"))?;
        let receivers = proc
            .take_receivers()
            .ok_or_else(|| Error::internal("the process' mailbox is already taken"))?;
        *io = Some(ProcessIo {
            inbox: LuaChannel::new(proc.mailbox_size()),
            proc,
            mailbox: Some(receivers.mailbox),
            events_rx: Some(receivers.events),
            events: None,
            listeners: Arc::default(),
        });
    }
    match io.as_mut() {
        Some(io) => f(io),
        None => Err(Error::internal("process I/O missing")),
    }
}

/// Starts routing mailbox messages to listeners and the inbox (once): senders deliver
/// straight into these channels, with no task in between. A full channel (the process
/// left `host.mailbox_size` messages unread there) refuses the message and the sender is
/// told; a message for a channel the process closed is dropped.
fn route_mailbox(io: &mut ProcessIo) {
    let Some(rx) = io.mailbox.take() else {
        return;
    };
    let inbox = io.inbox.0.clone();
    let listeners = io.listeners.clone();
    let route = move |msg: Message| -> std::result::Result<(), Full> {
        let target = listeners
            .lock()
            .iter()
            .find(|l| l.topic == msg.topic)
            .map(|l| (l.channel.0.clone(), l.as_message));
        let sent = match target {
            Some((ch, true)) => ch.try_send(Item::Message(msg)),
            Some((ch, false)) => ch.try_send(Item::Value(payload_value(&msg))),
            None => inbox.try_send(Item::Message(msg)),
        };
        match sent {
            Ok(()) => Ok(()),
            Err(SendError::Full(_)) => Err(Full),
            Err(SendError::Closed(_)) => {
                tracing::debug!(target: "weft::lua", "a message arrived for a closed channel");
                Ok(())
            }
        }
    };
    io.proc.route_messages(Arc::new(route), rx);
}

/// One payload as its value, several as an array.
fn payload_value(msg: &Message) -> Value {
    match msg.payload.as_slice() {
        [] => Value::Nil,
        [one] => one.clone(),
        many => Value::array(many.to_vec()),
    }
}
