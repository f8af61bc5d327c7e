//! The state of one run (a call or a process) in a VM: the tasks it started, its frame
//! and, once its code asks for them, its inbox, events and topic listeners.
//!
//! Tasks started by the run (managed coroutines, timers) are aborted when
//! the run ends, so nothing outlives the function or process that made it.
//!
//! A process has its pid from the start. A call opens its frame (a pid of its own,
//! `weft_runtime::ProcessTable::open_frame`) the first time its code uses the process
//! API, and the run ends that frame with the call's result, as a process exit.

use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::task::Poll;

use futures::task::AtomicWaker;
use mlua::Lua;
use parking_lot::Mutex;
use tokio::sync::mpsc::{Receiver, UnboundedReceiver};
use tokio::task::AbortHandle;
use weft_core::{CallContext, Error, Result, Value};
use weft_runtime::SendError;
use weft_runtime::{Full, Message, Pid, Proc};

use crate::chan::{Item, LuaChannel};
use crate::{errors, frame};

/// The state of the run in progress in a VM.
#[derive(Default)]
pub struct RunState {
    tasks: Mutex<Vec<AbortHandle>>,
    io: Mutex<Option<ProcessIo>>,
    /// The call's own frame, once its code opened one (never set for a process).
    frame: Mutex<Option<Pid>>,
    /// How the frame, once open, is stopped from outside.
    stop: StopSignal,
}

/// Set when an open frame is stopped from outside (terminated, a linked process failed):
/// the call ends with the error at its next poll.
#[derive(Default)]
struct StopSignal {
    /// Whether a frame is open (only then is the call's waker registered).
    armed: AtomicBool,
    error: Mutex<Option<Error>>,
    waker: AtomicWaker,
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

/// Ends the run when dropped: aborts its tasks, ends its frame if it opened one, and
/// restores the previous run state.
pub struct RunGuard {
    lua: Lua,
    state: Arc<RunState>,
    previous: Option<Arc<RunState>>,
}

/// Starts a run in `lua`.
pub fn begin(lua: &Lua) -> RunGuard {
    let state = Arc::new(RunState::default());
    let previous = lua.set_app_data(state.clone());
    RunGuard {
        lua: lua.clone(),
        state,
        previous,
    }
}

impl RunGuard {
    /// Runs the call's `body` until it returns, or until its frame is stopped from
    /// outside: then the error it was stopped with, and `body` is dropped where it was.
    pub async fn until_stopped<T>(&self, body: impl Future<Output = T>) -> Result<T> {
        let mut body = pin!(body);
        let stop = &self.state.stop;
        std::future::poll_fn(|cx| {
            if let Some(e) = stop.take_error() {
                return Poll::Ready(Err(e));
            }
            if let Poll::Ready(out) = body.as_mut().poll(cx) {
                // Stopped while it ran (its code then failed on the ended frame, say):
                // the call ends with why it was stopped.
                return Poll::Ready(stop.take_error().map_or(Ok(out), Err));
            }
            if stop.armed.load(Ordering::Acquire) {
                stop.waker.register(cx.waker());
                if let Some(e) = stop.take_error() {
                    return Poll::Ready(Err(e));
                }
            }
            Poll::Pending
        })
        .await
    }

    /// Ends the run with the call's `result`: a frame it opened exits with it.
    pub fn end(self, result: &Result<Value>) {
        if let Some(pid) = self.state.opened_frame() {
            finish_frame(&self.lua, &pid, result.clone());
        }
    }
}

impl Drop for RunGuard {
    fn drop(&mut self) {
        // A call dropped before it returned (its caller's deadline, its caller gone).
        if let Some(pid) = self.state.opened_frame() {
            let why = Error::canceled("the call ended before it returned");
            finish_frame(&self.lua, &pid, Err(why));
        }
        match self.previous.take() {
            Some(prev) => self.lua.set_app_data(prev),
            None => self.lua.remove_app_data::<Arc<RunState>>(),
        };
        for task in self.state.tasks.lock().drain(..) {
            task.abort();
        }
    }
}

impl RunState {
    /// Takes the frame this run opened, if it opened one.
    fn opened_frame(&self) -> Option<Pid> {
        if !self.stop.armed.load(Ordering::Acquire) {
            return None;
        }
        self.frame.lock().take()
    }
}

/// Ends a call's frame like a process exit.
fn finish_frame(lua: &Lua, pid: &str, result: Result<Value>) {
    if let Ok(rt) = frame::runtime(lua) {
        rt.processes.finish(pid, result);
    }
}

impl StopSignal {
    fn take_error(&self) -> Option<Error> {
        if !self.armed.load(Ordering::Acquire) {
            return None;
        }
        self.error.lock().take()
    }

    /// The frame was stopped with `error`: wakes the call to end it.
    fn fire(&self, error: Error) {
        *self.error.lock() = Some(error);
        self.waker.wake();
    }
}

/// The context of the running frame with its own pid: a process' as it is, a call's
/// after opening its frame on first use. Fails outside a run (a library's chunk while
/// its VM is built).
pub fn own_context(lua: &Lua) -> Result<CallContext> {
    let cx = frame::current(lua);
    if cx.pid().is_some() {
        return Ok(cx);
    }
    let state = state(lua).ok_or_else(|| Error::invalid("no call is running here"))?;
    let rt = frame::runtime(lua).map_err(|e| errors::from_mlua(&e))?;
    let weak: Weak<RunState> = Arc::downgrade(&state);
    let (cx, proc) = rt.processes.open_frame(
        &cx,
        Box::new(move |error| {
            if let Some(state) = weak.upgrade() {
                state.stop.fire(error);
            }
        }),
    )?;
    state.stop.armed.store(true, Ordering::Release);
    *state.frame.lock() = Some(proc.pid().clone());
    frame::replace(lua, cx.clone());
    Ok(cx)
}

/// The running frame's own process (a call's frame is opened on first use).
pub fn own_process(lua: &Lua) -> Result<Arc<Proc>> {
    let cx = own_context(lua)?;
    let rt = frame::runtime(lua).map_err(|e| errors::from_mlua(&e))?;
    cx.pid()
        .and_then(|pid| rt.processes.get(pid))
        .ok_or_else(|| Error::canceled("this frame has ended"))
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

/// Runs `f` on the frame's I/O, setting it up on first use (a call's frame is opened
/// then).
fn with_io<T>(lua: &Lua, f: impl FnOnce(&mut ProcessIo) -> Result<T>) -> Result<T> {
    let state = state(lua).ok_or_else(|| Error::internal("no run in progress"))?;
    let mut io = state.io.lock();
    if io.is_none() {
        let proc = own_process(lua)?;
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
