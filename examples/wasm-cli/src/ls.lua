-- `weft run ls [path]`: calls the WASM function demo:list_files and prints one name a line.
local M = {}

function M.main(path)
  local listing, err = funcs.call("demo:list_files", path or "/files")
  if err then return nil, err end
  if listing.err then return nil, listing.err end
  for _, name in ipairs(listing.ok) do
    io.print(name)
  end
  return 0
end

return M
