-- Server-sent events: five ticks, one every 200 ms, each flushed as it happens.
local http = require("http")

local function handler()
  local res = http.response()
  res:set_transfer(http.TRANSFER.SSE)
  for n = 1, 5 do
    local err = res:write_event({ name = "tick", data = { n = n } })
    if err then return end -- the client went away
    time.sleep("200ms")
  end
end

return { handler = handler }
