-- A small JSON API: list, read and create items (kept in this VM's memory).
local http = require("http")

local items = { { id = "1", name = "kettle" }, { id = "2", name = "teapot" } }

local function handler()
  local req = http.request({ max_body = 64 * 1024 })
  local res = http.response()
  if req:method() == http.METHOD.POST then
    local item, err = req:body_json()
    if not item or type(item.name) ~= "string" then
      res:set_status(http.STATUS.BAD_REQUEST)
      res:write_json({ error = err and tostring(err) or "name is required" })
      return
    end
    local created = { id = tostring(#items + 1), name = item.name }
    table.insert(items, created)
    res:set_content_type(http.CONTENT.JSON)
    res:set_status(http.STATUS.CREATED)
    res:write_json(created)
    return
  end
  local id = req:param("id")
  if not id then
    local limit = tonumber(req:query("limit") or "") or #items
    local page = {}
    for i = 1, math.min(limit, #items) do page[i] = items[i] end
    res:write_json({ items = page })
    return
  end
  for _, item in ipairs(items) do
    if item.id == id then
      res:write_json(item)
      return
    end
  end
  res:set_content_type(http.CONTENT.JSON)
  res:set_status(http.STATUS.NOT_FOUND)
  res:write_json({ error = "no item " .. id })
end

return { handler = handler }
