-- app:greet: "Hello, <name>!" for a non-empty name.
local M = {}

function M.greet(name)
  if type(name) ~= "string" or name == "" then
    return nil, errors.new({ message = "name must be a non-empty string", kind = errors.INVALID })
  end
  return "Hello, " .. name .. "!"
end

return M
