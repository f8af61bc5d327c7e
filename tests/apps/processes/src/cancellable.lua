-- Waits for CANCEL and returns how it ended.
local M = {}

function M.main()
  local events = process.events()
  while true do
    local ev = events:receive()
    if ev.kind == process.event.CANCEL then
      return "canceled"
    end
  end
end

return M
