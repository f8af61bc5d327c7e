-- Who the bearer token says the caller is (the router's token_auth set the actor).
local http = require("http")

local function handler()
  local actor = security.actor()
  http.response():write_json({ user = actor:id(), meta = actor:meta() })
end

return { handler = handler }
