//! A function call is a frame with a pid of its own (reference §4.5): every process-API
//! call made from a `function.lua`, and the frame's end as a process exit.

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
    source: "return {main = function(x) return x * 2 end}"
    method: main
  - name: failing
    kind: process.lua
    source: "return {main = function() error('child failed') end}"
    method: main
  - name: idle
    kind: process.lua
    source: "return {main = function() process.inbox():receive() return 'woken' end}"
    method: main
  - name: echo
    kind: process.lua
    source: |
      return {main = function(to)
        local m = process.inbox():receive()
        process.send(m:from(), "echo", (m:payload():data()))
        if to then process.send(to, "direct", "hi") end
        return true
      end}
    method: main
  - name: watch_frame
    kind: process.lua
    source: |
      return {main = function()
        local m = process.inbox():receive()
        local pid = m:payload():data()
        process.monitor(pid)
        process.send(pid, "watching", true)
        local ev = process.events():receive()
        return {kind = ev.kind, from = ev.from, value = ev.result.value}
      end}
    method: main

  # Functions using the process API.
  - name: pids
    kind: function.lua
    source: "return {run = function() return {a = process.pid(), b = process.pid()} end}"
    method: run
  - name: plain
    kind: function.lua
    source: "return {run = function() return 1 end}"
    method: run
  - name: monitored
    kind: function.lua
    source: |
      return {run = function()
        local events = process.events()
        local child = process.spawn_monitored("t:answer", "t:host", 21)
        local ev = events:receive()
        return {kind = ev.kind, from_child = ev.from == child, value = ev.result.value}
      end}
    method: run
  - name: linked
    kind: function.lua
    source: |
      return {run = function()
        local ok = process.set_options({trap_links = true})
        local trapping = process.get_options().trap_links
        local child = process.spawn_linked("t:failing", "t:host")
        local ev = process.events():receive()
        return {set = ok, trapping = trapping, kind = ev.kind, from_child = ev.from == child,
                failed = ev.result.error ~= nil}
      end}
    method: run
  - name: link_dies
    kind: function.lua
    source: |
      return {run = function()
        process.spawn_linked("t:failing", "t:host")
        process.inbox():receive()
        return "not reached"
      end}
    method: run
  - name: messages
    kind: function.lua
    source: |
      return {run = function()
        local direct = process.listen("direct")
        local child = process.spawn("t:echo", "t:host", process.pid())
        process.send(child, "ping", "payload")
        local m = process.inbox():receive()
        local d = direct:receive()
        process.unlisten(direct)
        return {topic = m:topic(), data = m:payload():data(), from_child = m:from() == child,
                direct = d}
      end}
    method: run
  - name: monitor_terminate
    kind: function.lua
    source: |
      return {run = function()
        local target = process.spawn("t:idle", "t:host")
        local events = process.events()
        assert(process.monitor(target))
        assert(process.terminate(target))
        local ev = events:receive()
        return {kind = ev.kind, from = ev.from == target}
      end}
    method: run
  - name: named
    kind: function.lua
    source: |
      return {run = function(name)
        local ok, err = process.registry.register(name)
        local found = process.registry.lookup(name)
        return {ok = ok, mine = found == process.pid()}
      end}
    method: run
  - name: watched
    kind: function.lua
    source: |
      return {run = function(watcher)
        process.send(watcher, "here", process.pid())
        process.inbox():receive()
        return "done"
      end}
    method: run
  - name: blocked
    kind: function.lua
    source: |
      return {run = function(announce)
        process.registry.register(announce)
        process.inbox():receive()
        return "not reached"
      end}
    method: run
  - name: spawner_options
    kind: function.lua
    source: |
      return {run = function()
        local idle = process.with_options({name = "opt-child", priority = 3}):spawn("t:idle", "t:host")
        local named = process.registry.lookup("opt-child") == idle
        process.terminate(idle)
        process.with_options({}):with_message("ping", "first"):spawn("t:echo", "t:host")
        local m = process.inbox():receive()
        return {data = m:payload():data(), named = named}
      end}
    method: run
  - name: napping
    kind: function.lua
    source: "return {run = function() time.sleep('1s') return 1 end}"
    method: run
    modules: [time]
  - name: exec_child
    kind: function.lua
    source: |
      return {run = function()
        local v, err = process.exec("t:answer", "t:host", 5)
        return {v = v, ok = err == nil, me = process.pid() ~= nil}
      end}
    method: run
"#;

include!("frames_shared/cases.rs");
