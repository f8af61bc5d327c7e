-- The chat room: one process (registered as "chat") that every chat socket is relayed
-- to. The websocket_relay middleware turns each socket into a process (its client pid)
-- and sends this one ws.join, then each text frame as ws.message, then ws.leave; a
-- message sent to a client pid becomes a text frame {"data":…,"topic":…}.

local function main()
  process.registry.register("chat")
  local inbox = process.inbox()
  local events = process.events()
  local members = {} -- in join order: { pid = client pid, name = display name }

  local function names()
    local list = {}
    for i, m in ipairs(members) do list[i] = m.name end
    return list
  end

  local function find(pid)
    for i, m in ipairs(members) do
      if m.pid == pid then return i, m end
    end
  end

  local function broadcast(topic, data)
    for _, m in ipairs(members) do process.send(m.pid, topic, data) end
  end

  while true do
    local r = channel.select({ inbox:case_receive(), events:case_receive() })
    if r.channel == events then
      if r.value.kind == process.event.CANCEL then return "stopped" end
    else
      local msg = r.value
      local topic, data = msg:topic(), msg:payload():data()
      if topic == "ws.join" then
        local name = (data.metadata and data.metadata.name) or "guest"
        broadcast("joined", { name = name })
        table.insert(members, { pid = data.client_pid, name = name })
        process.send(data.client_pid, "welcome", { name = name, members = names() })
      elseif topic == "ws.message" then
        local _, m = find(msg:from())
        if m and type(data) == "string" and data ~= "" then
          broadcast("message", { from = m.name, text = data })
        end
      elseif topic == "ws.leave" then
        local i, m = find(data.client_pid)
        if i then
          table.remove(members, i)
          broadcast("left", { name = m.name })
        end
      end
      -- ws.heartbeat and anything else: nothing to do
    end
  end
end

return { main = main }
