local M = {}

function M.main(...)
  local total = 0
  for i, arg in ipairs({ ... }) do
    local n = tonumber(arg)
    if not n then
      return nil, errors.new({ message = "argument " .. i .. " is not a number: " .. arg, kind = errors.INVALID })
    end
    total = total + n
  end
  io.print(json.encode({ sum = total }))
  return total
end

return M
