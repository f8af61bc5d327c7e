-- app:greeting (library.lua): what GET /api/hello answers, as a Lua table.
local greeting = {}

-- The reply for `name` (absent or empty: the world), and the HTTP status to send.
function greeting.reply(name)
  if name == nil or name == "" then
    name = "World"
  end
  if #name > 100 then
    return { error = "name is longer than 100 bytes" }, 400
  end
  return { message = "Hello, " .. name .. "!" }, 200
end

return greeting
