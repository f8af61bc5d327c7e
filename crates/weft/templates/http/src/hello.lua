-- app:hello, the `hello` command: prints what GET /api/hello?name=<name> answers.
local function main(name)
  local body, status = greeting.reply(name)
  io.print(json.encode(body))
  return status == 200 and 0 or 1 -- the exit code
end

return { main = main }
