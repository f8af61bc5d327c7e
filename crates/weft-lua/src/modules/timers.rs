//! `time.after`, `time.timer` and `time.ticker`: timers that deliver Time values on
//! channels, so they work in `channel.select`. Their tasks end with the run that made them.

use std::sync::Arc;
use std::time::Duration;

use mlua::{Lua, Table, UserData, UserDataMethods, Value as LuaValue};
use parking_lot::Mutex;
use tokio::task::AbortHandle;
use weft_core::Error;

use crate::chan::{Item, LuaChannel};
use crate::modules::time::{Time, parse_duration_arg};
use crate::run;

/// Adds `after`, `timer` and `ticker` to the `time` table.
pub fn extend(lua: &Lua, time: &Table) -> mlua::Result<()> {
    time.set(
        "after",
        lua.create_function(|lua, d: LuaValue| {
            let d = positive(&d)?;
            let ch = LuaChannel::new(1);
            fire_once(lua, ch.clone(), d);
            Ok(ch)
        })?,
    )?;
    time.set(
        "timer",
        lua.create_function(|lua, d: LuaValue| {
            let d = positive(&d)?;
            let ch = LuaChannel::new(1);
            let task = fire_once(lua, ch.clone(), d);
            Ok(Timer {
                channel: ch,
                task: Arc::new(Mutex::new(Some(task))),
            })
        })?,
    )?;
    time.set(
        "ticker",
        lua.create_function(|lua, d: LuaValue| {
            let d = positive(&d)?;
            let ch = LuaChannel::new(1);
            let tx = ch.0.clone();
            let vm = lua.clone();
            let task = run::spawn_task(lua, async move {
                let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + d, d);
                ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                loop {
                    ticks.tick().await;
                    // A slow reader misses ticks rather than queueing them, as in Go.
                    let _ = tx.try_send(now_item(&vm));
                }
            });
            Ok(Timer {
                channel: ch,
                task: Arc::new(Mutex::new(Some(task))),
            })
        })?,
    )?;
    Ok(())
}

/// A timer or ticker: `response()`/`channel()`, `stop()`, `reset(d)` (timers).
struct Timer {
    channel: LuaChannel,
    task: Arc<Mutex<Option<AbortHandle>>>,
}

impl UserData for Timer {
    fn add_methods<M: UserDataMethods<Self>>(methods: &mut M) {
        methods.add_method("response", |_, this, ()| Ok(this.channel.clone()));
        methods.add_method("channel", |_, this, ()| Ok(this.channel.clone()));
        methods.add_method("stop", |_, this, ()| {
            Ok(match this.task.lock().take() {
                Some(task) => {
                    let pending = !task.is_finished();
                    task.abort();
                    pending
                }
                None => false,
            })
        });
        methods.add_method("reset", |lua, this, d: LuaValue| {
            let d = positive(&d)?;
            let mut task = this.task.lock();
            let was_pending = task.as_ref().is_some_and(|t| !t.is_finished());
            if let Some(old) = task.take() {
                old.abort();
            }
            *task = Some(fire_once(lua, this.channel.clone(), d));
            Ok(was_pending)
        });
    }
}

/// Sends the time on `ch` once, after `d`.
fn fire_once(lua: &Lua, ch: LuaChannel, d: Duration) -> AbortHandle {
    let vm = lua.clone();
    run::spawn_task(lua, async move {
        tokio::time::sleep(d).await;
        let _ = ch.0.try_send(now_item(&vm));
    })
}

fn now_item(lua: &Lua) -> Item {
    match lua.create_userdata(Time::now()) {
        Ok(ud) => Item::Lua(LuaValue::UserData(ud)),
        Err(_) => Item::Value(weft_core::Value::Nil),
    }
}

/// A duration argument that must be positive.
fn positive(v: &LuaValue) -> mlua::Result<Duration> {
    let nanos = parse_duration_arg(v).map_err(mlua::Error::external)?;
    if nanos <= 0 {
        return Err(mlua::Error::external(Error::invalid(
            "duration must be positive",
        )));
    }
    Ok(Duration::from_nanos(nanos as u64))
}
