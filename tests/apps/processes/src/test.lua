-- The process / channel / time suite. Each case raises on failure.
local M = {}

local HOST = "app:processes"

local function check(cond, msg)
  if not cond then error(msg or "check failed", 2) end
end

-- Waits for the next event from `pid` on the events channel (with a timeout).
local function exit_of(pid, timeout)
  local events = process.events()
  local deadline = time.after(timeout or "2s")
  while true do
    local r = channel.select({ events:case_receive(), deadline:case_receive() })
    if r.channel == deadline then error("no EXIT from " .. pid) end
    if r.value.from == pid then return r.value end
  end
end

local cases = {}

cases.pid_forms = function()
  local pid = process.pid()
  check(type(pid) == "string" and pid:match("^{app:terminal|0x%x+}$"), "pid " .. tostring(pid))
  check(process.id() == "app:test", "id " .. tostring(process.id()))
end

cases.spawn_monitored_exit_value = function()
  local pid, err = process.spawn_monitored("app:compute", HOST, 6, 7)
  check(pid and not err, tostring(err))
  check(pid:match("^{app:processes|"), pid)
  local ev = exit_of(pid)
  check(ev.kind == process.event.EXIT, ev.kind)
  check(ev.result.value == 42, "value " .. tostring(ev.result.value))
  check(ev.result.error == nil)
  check(type(ev.at) == "number" and ev.at > 0)
end

cases.exit_carries_the_error = function()
  local pid = process.spawn_monitored("app:fail", HOST, "kaboom")
  local ev = exit_of(pid)
  check(ev.result.value == nil)
  check(tostring(ev.result.error):find("kaboom"), tostring(ev.result.error))
end

cases.spawn_of_missing_entry_fails = function()
  local pid, err = process.spawn("app:nope", HOST)
  check(pid == nil and err:kind() == errors.NOT_FOUND, tostring(err))
  local _, err2 = process.spawn("app:compute", "app:nohost")
  check(err2 and err2:kind() == errors.NOT_FOUND, tostring(err2))
  local _, err3 = process.spawn("app:compute")
  check(err3 and err3:kind() == errors.INVALID, tostring(err3))
end

cases.exec_returns_result_or_error = function()
  local v, err = process.exec("app:compute", HOST, 3, 5)
  check(v == 15 and err == nil, tostring(err))
  local v2, err2 = process.exec("app:fail", HOST, "nope")
  check(v2 == nil and tostring(err2):find("nope"), tostring(err2))
end

cases.messages_round_trip_in_order = function()
  local echo = process.spawn_monitored("app:echo", HOST)
  local pongs = process.listen("pong")
  for i = 1, 20 do
    check(process.send(echo, "ping", i))
  end
  for i = 1, 20 do
    local v = pongs:receive()
    check(v == i, "pong " .. tostring(v) .. " ~= " .. i)
  end
  process.unlisten(pongs)
  process.send(echo, "stop")
  check(exit_of(echo).result.value == "stopped")
end

cases.listen_with_message_objects = function()
  local echo = process.spawn_monitored("app:echo", HOST)
  local pongs = process.listen("pong", { message = true })
  process.send(echo, "ping", { a = 1 })
  local msg = pongs:receive()
  check(msg:topic() == "pong" and msg:from() == echo, tostring(msg))
  check(msg:payload():data().a == 1)
  process.unlisten(pongs)
  process.send(echo, "stop")
  exit_of(echo)
end

cases.send_to_dead_pid_fails = function()
  local pid = process.spawn_monitored("app:compute", HOST, 1, 1)
  exit_of(pid)
  local ok, err = process.send(pid, "hello")
  check(ok == nil and tostring(err):find("not found"), tostring(err))
  local _, bad = process.send(pid, "@reserved")
  check(bad ~= nil)
end

cases.link_failure_propagates = function()
  local middle = process.spawn_monitored("app:middle", HOST, false)
  local ev = exit_of(middle)
  check(tostring(ev.result.error):find("linked process failed"), tostring(ev.result.error))
end

cases.trap_links_gives_link_down = function()
  local middle = process.spawn_monitored("app:middle", HOST, true)
  local ev = exit_of(middle)
  check(ev.result.value and ev.result.value:find("^pid.link.down|"), tostring(ev.result.value))
  check(ev.result.value:find("boom"), ev.result.value)
end

cases.cancel_delivers_the_event = function()
  local pid = process.spawn_monitored("app:cancellable", HOST)
  time.sleep("10ms")
  check(process.cancel(pid, 1000))
  check(exit_of(pid).result.value == "canceled")
end

cases.cancel_deadline_terminates = function()
  local pid = process.spawn_monitored("app:sleeper", HOST)
  check(process.cancel(pid, "20ms"))
  local ev = exit_of(pid)
  check(ev.result.error ~= nil and ev.result.error:kind() == errors.CANCELED, tostring(ev.result.error))
end

cases.terminate_stops_a_process = function()
  local pid = process.spawn_monitored("app:sleeper", HOST)
  check(process.terminate(pid))
  local ev = exit_of(pid)
  check(tostring(ev.result.error):find("terminated"), tostring(ev.result.error))
end

cases.monitor_after_spawn = function()
  local pid = process.spawn("app:idle", HOST)
  check(process.monitor(pid))
  process.send(pid, "go")
  check(exit_of(pid).result.value == "go")
end

cases.unmonitor_stops_exit_events = function()
  local pid = process.spawn_monitored("app:idle", HOST)
  check(process.unmonitor(pid))
  process.send(pid, "go")
  local events = process.events()
  local quiet = time.after("50ms")
  local r = channel.select({ events:case_receive(), quiet:case_receive() })
  check(r.channel == quiet or r.value.from ~= pid, "EXIT arrived after unmonitor")
end

cases.unlink_keeps_the_caller_alive = function()
  local pid = process.spawn("app:idle", HOST)
  check(process.link(pid))
  check(process.unlink(pid))
  check(process.monitor(pid))
  check(process.terminate(pid))
  local ev = exit_of(pid)
  check(ev.result.error ~= nil, "terminated child exits with an error")
  -- still running: a linked failure would have stopped this process
  check(process.pid() ~= nil)
end

cases.options = function()
  check(process.get_options().trap_links == false)
  local ok, err = process.set_options({ bogus = 1 })
  check(not ok and tostring(err):find("option bogus is not supported"), tostring(err))
end

cases.name_registry = function()
  local pid = process.spawn_monitored("app:idle", HOST)
  check(process.registry.register("worker", pid))
  check(process.registry.lookup("worker") == pid)
  check(process.send("worker", "by-name"))
  check(exit_of(pid).result.value == "by-name")
  local _, err = process.registry.lookup("worker")
  check(err and err:kind() == errors.NOT_FOUND, "name should be gone with the process")
end

cases.spawner_with_context_and_name = function()
  local spawner = process.with_context({ user = "ann" })
  local pid = spawner:spawn_monitored("app:ctx_reader", HOST)
  check(exit_of(pid).result.value == "ann")
  local ok = pcall(function() return process.with_context({}):spawn("app:nope", HOST) end)
  check(not ok, "spawner errors are raised")
end

cases.channels_buffered_and_closed = function()
  local ch = channel.new(2)
  check(ch:send(1) and ch:send(2))
  ch:close()
  local a, ok1 = ch:receive()
  local b, ok2 = ch:receive()
  local c, ok3 = ch:receive()
  check(a == 1 and ok1 and b == 2 and ok2 and c == nil and ok3 == false)
  check(not pcall(ch.send, ch, 3), "send on closed channel must raise")
  check(not pcall(ch.close, ch), "double close must raise")
end

cases.unbuffered_channel_and_coroutines = function()
  local ch = channel.new()
  local done = channel.new(1)
  coroutine.spawn(function()
    local sum = 0
    for _ = 1, 3 do sum = sum + ch:receive() end
    done:send(sum)
  end)
  for i = 1, 3 do ch:send(i) end
  check(done:receive() == 6)
end

cases.select_default_and_timeout = function()
  local ch = channel.new()
  local r = channel.select({ ch:case_receive(), default = true })
  check(r.default == true and r.ok == true and r.channel == nil)
  local timeout = time.after("20ms")
  r = channel.select({ ch:case_receive(), timeout:case_receive() })
  check(r.channel == timeout and r.ok)
  local ready = channel.new(1)
  r = channel.select({ ready:case_send("x"), ch:case_receive() })
  check(r.channel == ready and r.value == "x")
  ready:close()
  r = channel.select({ ready:case_receive() })
  check(r.ok == true and r.value == "x")
  r = channel.select({ ready:case_receive() })
  check(r.ok == false and r.value == nil)
end

cases.timers_and_tickers = function()
  local t = time.timer("10ms")
  local v = t:response():receive()
  check(v ~= nil, "timer fired")
  local stopped = time.timer("1h")
  check(stopped:stop() == true)
  local ticker = time.ticker("5ms")
  for _ = 1, 3 do ticker:response():receive() end
  ticker:stop()
  check(not pcall(time.after, 0), "time.after(0) must fail")
end

cases.future_response_channel = function()
  local fut = funcs.async("app:double", 21)
  local payload = fut:response():receive()
  check(payload:data() == 42)
  check(fut:channel() == fut:response())
end

function M.main()
  local names = {}
  for name in pairs(cases) do names[#names + 1] = name end
  table.sort(names)
  local failed = 0
  for _, name in ipairs(names) do
    local ok, err = pcall(cases[name])
    if ok then
      io.print("ok   " .. name)
    else
      failed = failed + 1
      io.print("FAIL " .. name .. ": " .. tostring(err))
    end
  end
  io.print(string.format("%d passed, %d failed", #names - failed, failed))
  return failed
end

return M
