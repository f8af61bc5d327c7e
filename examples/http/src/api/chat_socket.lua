-- GET /ws/chat?name=ada: hands the WebSocket to the chat room. The handler only sets the
-- X-WS-Relay command; the router's websocket_relay middleware does the upgrade.
local http = require("http")
local json = require("json")

local function handler()
  local req = http.request()
  local res = http.response()
  local chat = process.registry.lookup("chat")
  if not chat then
    res:set_status(http.STATUS.SERVICE_UNAVAILABLE)
    res:write("the chat room is not running")
    return
  end
  local name = (req:query("name") or ""):gsub("[^%w_%-]", ""):sub(1, 24)
  if name == "" then name = "guest" end
  res:set_header("X-WS-Relay", json.encode({
    target_pid = chat,
    metadata = { name = name },
  }))
end

return { handler = handler }
