local M = {}

local function must(value, err)
  if err then error(err) end
  return value
end

function M.main(name)
  io.print(must(funcs.call("demo:greet", name or "World")))
  io.print("add(2, 40) = " .. must(funcs.call("demo:add", 2, 40)))
  io.print("fibonacci(50) = " .. must(funcs.call("demo:fibonacci", 50)))
  io.print("double(21) = " .. must(funcs.call("demo:double", 21)))
  return 0
end

return M
