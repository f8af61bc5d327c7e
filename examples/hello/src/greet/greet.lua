local M = {}

-- Calls another registry function through funcs.call, like any Lua or WASM caller.
function M.greet(name)
  local titled, err = funcs.call("app.greet:title", name)
  if err then
    return nil, errors.wrap(err, "greet")
  end
  return "Hello, " .. titled .. "!"
end

return M
