-- app:hello, the `hello` command: greets every name given (or the world) through the
-- component's `greet` export (app:greet), called like any other function.
local M = {}

function M.main(...)
  local names = { ... }
  if #names == 0 then
    names = { "World" }
  end
  for _, name in ipairs(names) do
    local greeting, err = funcs.call("app:greet", name)
    if err then
      return nil, err -- the command fails: the error on stderr, exit code 1
    end
    io.print(greeting)
  end
  return 0 -- the exit code
end

return M
