//! `frames.rs` in Wippy's typed Lua: the same frames tests (reference §4.5), every source
//! annotated, with casts, `type` aliases validating the events and a `!` assertion, and
//! the same results, so typed code behaves as untyped code once its types are erased.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{app, boot_dir};
use weft_core::{ErrorKind, Result, Value};
use weft_runtime::{Runtime, Spawn};

const APP: &str = r#"
namespace: t
entries:
  - {name: host, kind: process.host, lifecycle: {auto_start: true}}

  # Processes the functions talk to.
  - name: answer
    kind: process.lua
    source: "return {main = function(x: integer @min(0)): integer return x * 2 end}"
    method: main
  - name: failing
    kind: process.lua
    source: "return {main = function(): never error('child failed') end}"
    method: main
  - name: idle
    kind: process.lua
    source: "return {main = function(): string process.inbox():receive() return 'woken' end}"
    method: main
  - name: echo
    kind: process.lua
    source: |
      return {main = function(to: string?): boolean
        local m = process.inbox():receive()
        process.send(m:from() :: string, "echo", (m:payload():data()) :: string)
        if to then process.send(to, "direct", "hi") end
        return true
      end}
    method: main
  - name: watch_frame
    kind: process.lua
    source: |
      type Event = {kind: string, from: string, at: number, result: {value: any, error: any?}}
      return {main = function(): {[string]: any}
        local m = process.inbox():receive()
        local pid: string = (m:payload():data()) :: string
        process.monitor(pid)
        process.send(pid, "watching", true)
        local ev: Event = Event(process.events():receive())
        return {kind = ev.kind, from = ev.from, value = ev.result.value}
      end}
    method: main

  # Functions using the process API.
  - name: pids
    kind: function.lua
    source: "return {run = function(): {[string]: string} return {a = process.pid(), b = process.pid()} end}"
    method: run
  - name: plain
    kind: function.lua
    source: "return {run = function(): integer return 1 end}"
    method: run
  - name: monitored
    kind: function.lua
    source: |
      type Event = {kind: string, from: string, at: number, result: {value: any, error: any?}}
      return {run = function(): {[string]: any}
        local events = process.events()
        local child: string = process.spawn_monitored("t:answer", "t:host", 21)
        local ev: Event = Event(events:receive())
        return {kind = ev.kind, from_child = ev.from == child, value = ev.result.value}
      end}
    method: run
  - name: linked
    kind: function.lua
    source: |
      type Event = {kind: string, from: string, at: number, result: {value: any, error: any?}}
      return {run = function(): {[string]: any}
        local ok: boolean = process.set_options({trap_links = true})
        local trapping = process.get_options().trap_links as boolean
        local child: string = process.spawn_linked("t:failing", "t:host")
        local ev: Event = Event(process.events():receive())
        return {set = ok, trapping = trapping, kind = ev.kind, from_child = ev.from == child,
                failed = ev.result.error ~= nil}
      end}
    method: run
  - name: link_dies
    kind: function.lua
    source: |
      return {run = function(): string
        process.spawn_linked("t:failing", "t:host")
        process.inbox():receive()
        return "not reached"
      end}
    method: run
  - name: messages
    kind: function.lua
    source: |
      return {run = function(): {[string]: any}
        local direct = process.listen("direct")
        local child: string = process.spawn("t:echo", "t:host", process.pid())
        process.send(child, "ping", "payload")
        local m = process.inbox():receive()
        local d: string = direct:receive()
        process.unlisten(direct)
        return {topic = m:topic(), data = (m:payload():data()) :: string,
                from_child = (m:from() :: string) == child, direct = d}
      end}
    method: run
  - name: monitor_terminate
    kind: function.lua
    source: |
      type Event = {kind: string, from: string, at: number, result: {value: any, error: any?}}
      return {run = function(): {[string]: any}
        local target: string = process.spawn("t:idle", "t:host")
        local events = process.events()
        assert(process.monitor(target))
        assert(process.terminate(target))
        local ev: Event = Event(events:receive())
        return {kind = ev.kind, from = ev.from == target}
      end}
    method: run
  - name: named
    kind: function.lua
    source: |
      return {run = function(name: string): {[string]: boolean}
        local ok: boolean?, err: any = process.registry.register(name)
        local found: string? = process.registry.lookup(name)
        return {ok = ok, mine = (found!) == process.pid()}
      end}
    method: run
  - name: watched
    kind: function.lua
    source: |
      return {run = function(watcher: string): string
        process.send(watcher, "here", process.pid())
        process.inbox():receive()
        return "done"
      end}
    method: run
  - name: blocked
    kind: function.lua
    source: |
      return {run = function(announce: string): string
        process.registry.register(announce)
        process.inbox():receive()
        return "not reached"
      end}
    method: run
  - name: spawner_options
    kind: function.lua
    source: |
      return {run = function(): {[string]: any}
        local idle: string = process.with_options({name = "opt-child", priority = 3}):spawn("t:idle", "t:host")
        local named: boolean = process.registry.lookup("opt-child") == idle
        process.terminate(idle)
        process.with_options({}):with_message("ping", "first"):spawn("t:echo", "t:host")
        local m = process.inbox():receive()
        return {data = (m:payload():data()) :: string, named = named}
      end}
    method: run
  - name: napping
    kind: function.lua
    source: "return {run = function(): integer time.sleep('1s') return 1 end}"
    method: run
    modules: [time]
  - name: exec_child
    kind: function.lua
    source: |
      return {run = function(): {[string]: any}
        local v: integer?, err: any = process.exec("t:answer", "t:host", 5)
        return {v = v, ok = err == nil, me = process.pid() ~= nil}
      end}
    method: run
"#;

include!("frames_shared/cases.rs");
