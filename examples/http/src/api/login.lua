-- Exchanges a user name and password for a bearer token (demo users only).
local http = require("http")

local users = { ada = "lovelace", alan = "turing" }

local function handler()
  local req = http.request({ max_body = 4096 })
  local res = http.response()
  local body = req:body_json()
  if type(body) ~= "table" or users[body.user] == nil or users[body.user] ~= body.password then
    res:set_status(http.STATUS.UNAUTHORIZED)
    res:write_json({ error = "wrong user or password" })
    return
  end
  local tokens = security.token_store("app:tokens")
  local actor = security.new_actor(body.user, { role = "member" })
  local scope = security.named_scope("app:members")
  local token, err = tokens:create(actor, scope)
  if not token then error(err) end
  res:write_json({ token = token })
end

return { handler = handler }
