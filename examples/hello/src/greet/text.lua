-- A library: its return value is bound under the alias an importer chooses.
local text = {}

function text.title(s)
  return (s:gsub("(%a)([%w']*)", function(first, rest)
    return first:upper() .. rest:lower()
  end))
end

return text
