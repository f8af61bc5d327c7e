-- Replies to every message with topic "pong" and the same payload; "stop" ends it.
local M = {}

function M.main()
  local inbox = process.inbox()
  while true do
    local msg = inbox:receive()
    if msg:topic() == "stop" then
      return "stopped"
    end
    local data = msg:payload():data()
    process.send(msg:from(), "pong", data)
  end
end

return M
