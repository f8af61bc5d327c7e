local M = {}

function M.title(name)
  if type(name) ~= "string" or name == "" then
    return nil, errors.new({ message = "name must be a non-empty string", kind = errors.INVALID })
  end
  return text.title(name)
end

return M
