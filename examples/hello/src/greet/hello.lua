local M = {}

function M.main(...)
  local names = { ... }
  if #names == 0 then
    names = { "world" }
  end
  for _, name in ipairs(names) do
    local greeting, err = funcs.call("app.greet:greet", name)
    if err then
      return nil, err
    end
    io.print(greeting)
  end
  return 0
end

return M
