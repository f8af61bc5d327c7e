//! [`Channel`]: a Go-style channel (buffered or unbuffered, closable) and [`select`].
//!
//! Channels never block a thread: a blocked sender or receiver awaits a `Notify`. The
//! semantics are Go's: a send blocks until there is buffer space or a waiting receiver;
//! a receive blocks until a value is there; after `close`, buffered values are still
//! delivered, then receives return `None`, and sends fail.

use std::collections::VecDeque;
use std::pin::pin;
use std::sync::Arc;

use futures::future::select_all;
use parking_lot::Mutex;
use tokio::sync::Notify;

/// A channel of `T`; clones share it.
pub struct Channel<T> {
    inner: Arc<Inner<T>>,
}

struct Inner<T> {
    state: Mutex<State<T>>,
    changed: Notify,
}

struct State<T> {
    queue: VecDeque<T>,
    capacity: usize,
    closed: bool,
    /// Receivers blocked right now (an unbuffered send hands off to one of them).
    waiting_receivers: usize,
}

/// Why a send did not happen.
#[derive(Debug, PartialEq, Eq)]
pub enum SendError<T> {
    /// The channel is closed; the value is handed back.
    Closed(T),
    /// No space and no waiting receiver (only from [`Channel::try_send`]).
    Full(T),
}

/// The outcome of a non-blocking receive.
#[derive(Debug, PartialEq, Eq)]
pub enum TryRecv<T> {
    /// A value.
    Value(T),
    /// The channel is closed and drained.
    Closed,
    /// Nothing yet.
    Empty,
}

/// One case of a [`select`].
pub enum Case<T> {
    /// Send the value on the channel.
    Send(Channel<T>, T),
    /// Receive from the channel.
    Recv(Channel<T>),
}

/// What a [`select`] did.
#[derive(Debug, PartialEq)]
pub enum Selected<T> {
    /// Case `index` sent its value.
    Sent(usize),
    /// Case `index` received a value (`None`: the channel is closed).
    Received(usize, Option<T>),
    /// No case was ready and the select had a default.
    Default,
}

impl<T> Clone for Channel<T> {
    fn clone(&self) -> Self {
        Channel {
            inner: self.inner.clone(),
        }
    }
}

impl<T: Send> Channel<T> {
    /// A channel with room for `capacity` values (0: unbuffered).
    pub fn new(capacity: usize) -> Channel<T> {
        Channel {
            inner: Arc::new(Inner {
                state: Mutex::new(State {
                    queue: VecDeque::new(),
                    capacity,
                    closed: false,
                    waiting_receivers: 0,
                }),
                changed: Notify::new(),
            }),
        }
    }

    /// True when both handles are the same channel.
    pub fn same(&self, other: &Channel<T>) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }

    /// Sends without waiting.
    pub fn try_send(&self, value: T) -> Result<(), SendError<T>> {
        let mut state = self.inner.state.lock();
        if state.closed {
            return Err(SendError::Closed(value));
        }
        let handoff = state.capacity == 0 && state.waiting_receivers > state.queue.len();
        if state.queue.len() < state.capacity || handoff {
            state.queue.push_back(value);
            drop(state);
            self.inner.changed.notify_waiters();
            Ok(())
        } else {
            Err(SendError::Full(value))
        }
    }

    /// Sends, waiting for space or a receiver; fails once the channel is closed.
    pub async fn send(&self, value: T) -> Result<(), T> {
        let mut value = value;
        loop {
            let mut changed = pin!(self.inner.changed.notified());
            changed.as_mut().enable();
            match self.try_send(value) {
                Ok(()) => return Ok(()),
                Err(SendError::Closed(v)) => return Err(v),
                Err(SendError::Full(v)) => value = v,
            }
            changed.await;
        }
    }

    /// Receives without waiting.
    pub fn try_recv(&self) -> TryRecv<T> {
        let mut state = self.inner.state.lock();
        match state.queue.pop_front() {
            Some(v) => {
                drop(state);
                self.inner.changed.notify_waiters();
                TryRecv::Value(v)
            }
            None if state.closed => TryRecv::Closed,
            None => TryRecv::Empty,
        }
    }

    /// Receives, waiting for a value; `None` once the channel is closed and drained.
    pub async fn recv(&self) -> Option<T> {
        let _waiting = self.wait_as_receiver();
        loop {
            let mut changed = pin!(self.inner.changed.notified());
            changed.as_mut().enable();
            match self.try_recv() {
                TryRecv::Value(v) => return Some(v),
                TryRecv::Closed => return None,
                TryRecv::Empty => changed.await,
            }
        }
    }

    /// Closes the channel: wakes every waiter. Returns false if it was closed already.
    pub fn close(&self) -> bool {
        let mut state = self.inner.state.lock();
        let was_open = !state.closed;
        state.closed = true;
        drop(state);
        self.inner.changed.notify_waiters();
        was_open
    }

    /// True once closed.
    pub fn is_closed(&self) -> bool {
        self.inner.state.lock().closed
    }

    /// Values buffered now.
    pub fn len(&self) -> usize {
        self.inner.state.lock().queue.len()
    }

    /// True when nothing is buffered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Counts this caller as a blocked receiver until the guard drops.
    fn wait_as_receiver(&self) -> ReceiverGuard<'_, T> {
        self.inner.state.lock().waiting_receivers += 1;
        self.inner.changed.notify_waiters();
        ReceiverGuard(self)
    }
}

/// Decrements the waiting-receiver count of a channel when dropped.
struct ReceiverGuard<'a, T>(&'a Channel<T>);

impl<T> Drop for ReceiverGuard<'_, T> {
    fn drop(&mut self) {
        let mut state = self.0.inner.state.lock();
        state.waiting_receivers = state.waiting_receivers.saturating_sub(1);
    }
}

/// Waits for the first ready case, in order (`default`: return at once when none is).
///
/// A send case whose channel is closed counts as ready and fails: it is reported as
/// `Err(index)`, as a Go select panics on such a send.
pub async fn select<T: Send>(cases: Vec<Case<T>>, default: bool) -> Result<Selected<T>, usize> {
    // Split the cases into channels and the values still to send (None: a receive).
    let (chans, mut values): (Vec<Channel<T>>, Vec<Option<T>>) = cases
        .into_iter()
        .map(|case| match case {
            Case::Send(c, v) => (c, Some(v)),
            Case::Recv(c) => (c, None),
        })
        .unzip();
    let is_send: Vec<bool> = values.iter().map(Option::is_some).collect();
    let mut guards = Vec::new();
    loop {
        let mut waits = Vec::with_capacity(chans.len());
        for chan in &chans {
            let mut wait = Box::pin(chan.inner.changed.notified());
            wait.as_mut().enable();
            waits.push(wait);
        }
        for (i, chan) in chans.iter().enumerate() {
            if is_send[i] {
                let Some(value) = values[i].take() else {
                    continue;
                };
                match chan.try_send(value) {
                    Ok(()) => return Ok(Selected::Sent(i)),
                    Err(SendError::Closed(_)) => return Err(i),
                    Err(SendError::Full(v)) => values[i] = Some(v),
                }
            } else {
                match chan.try_recv() {
                    TryRecv::Value(v) => return Ok(Selected::Received(i, Some(v))),
                    TryRecv::Closed => return Ok(Selected::Received(i, None)),
                    TryRecv::Empty => {}
                }
            }
        }
        if default {
            return Ok(Selected::Default);
        }
        if guards.is_empty() {
            guards = chans
                .iter()
                .zip(&is_send)
                .filter(|(_, send)| !**send)
                .map(|(c, _)| c.wait_as_receiver())
                .collect();
            if !guards.is_empty() {
                // Registering as receivers may let an unbuffered sender hand off: re-check.
                continue;
            }
        }
        if waits.is_empty() {
            // No case and no default: block forever, as Go does.
            std::future::pending::<()>().await;
        }
        let _ = select_all(waits).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn buffered_channel_delivers_in_order_and_after_close() {
        let ch = Channel::new(2);
        ch.send(1).await.unwrap();
        ch.send(2).await.unwrap();
        assert_eq!(ch.try_send(3), Err(SendError::Full(3)));
        ch.close();
        assert_eq!(ch.send(4).await, Err(4));
        assert_eq!(ch.recv().await, Some(1));
        assert_eq!(ch.recv().await, Some(2));
        assert_eq!(ch.recv().await, None);
    }

    #[tokio::test]
    async fn unbuffered_send_waits_for_a_receiver() {
        let ch: Channel<i32> = Channel::new(0);
        assert_eq!(ch.try_send(1), Err(SendError::Full(1)));
        let tx = ch.clone();
        let sender = tokio::spawn(async move { tx.send(7).await });
        tokio::time::sleep(Duration::from_millis(10)).await;
        assert!(!sender.is_finished());
        assert_eq!(ch.recv().await, Some(7));
        assert_eq!(sender.await.unwrap(), Ok(()));
    }

    #[tokio::test]
    async fn close_wakes_blocked_receivers_and_senders() {
        let ch: Channel<i32> = Channel::new(0);
        let rx = ch.clone();
        let receiver = tokio::spawn(async move { rx.recv().await });
        let tx = ch.clone();
        tokio::time::sleep(Duration::from_millis(5)).await;
        ch.close();
        assert_eq!(receiver.await.unwrap(), None);
        assert_eq!(tx.send(1).await, Err(1));
    }

    #[tokio::test]
    async fn select_picks_a_ready_case_or_default() {
        let a: Channel<i32> = Channel::new(1);
        let b: Channel<i32> = Channel::new(1);
        b.send(5).await.unwrap();
        let got = select(vec![Case::Recv(a.clone()), Case::Recv(b.clone())], false).await;
        assert_eq!(got, Ok(Selected::Received(1, Some(5))));
        let got = select(vec![Case::Recv(a.clone())], true).await;
        assert_eq!(got, Ok(Selected::Default));
        let got = select(vec![Case::Send(a.clone(), 9)], false).await;
        assert_eq!(got, Ok(Selected::Sent(0)));
        assert_eq!(a.recv().await, Some(9));
    }

    #[tokio::test]
    async fn select_waits_until_a_case_becomes_ready() {
        let a: Channel<i32> = Channel::new(0);
        let tx = a.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(10)).await;
            tx.send(3).await.unwrap();
        });
        let got = select(vec![Case::Recv(a.clone())], false).await;
        assert_eq!(got, Ok(Selected::Received(0, Some(3))));
    }

    #[tokio::test]
    async fn select_on_closed_channels() {
        let a: Channel<i32> = Channel::new(0);
        a.close();
        assert_eq!(
            select(vec![Case::Recv(a.clone())], false).await,
            Ok(Selected::Received(0, None))
        );
        assert_eq!(select(vec![Case::Send(a.clone(), 1)], false).await, Err(0));
    }

    #[tokio::test]
    async fn many_senders_and_receivers_lose_nothing() {
        let ch: Channel<u32> = Channel::new(0);
        let mut senders = Vec::new();
        for s in 0..8 {
            let tx = ch.clone();
            senders.push(tokio::spawn(async move {
                for i in 0..100 {
                    tx.send(s * 1000 + i).await.unwrap();
                }
            }));
        }
        let mut got = Vec::new();
        for _ in 0..800 {
            got.push(ch.recv().await.unwrap());
        }
        for s in senders {
            s.await.unwrap();
        }
        got.sort();
        got.dedup();
        assert_eq!(got.len(), 800);
    }
}
