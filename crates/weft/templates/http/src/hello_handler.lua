-- app:hello_handler: the function behind GET /api/hello.
local http = require("http")

local function handler()
  local req = http.request()
  local res = http.response()
  local body, status = greeting.reply(req:query("name"))
  res:set_content_type(http.CONTENT.JSON)
  res:set_status(status)
  res:write_json(body)
end

return { handler = handler }
