-- Links to a failing child. With trap_links it reports LINK_DOWN; without, it fails.
local M = {}

function M.main(trap)
  if trap then
    process.set_options({ trap_links = true })
  end
  local child = process.spawn_linked("app:fail", "app:processes", "boom")
  if not trap then
    time.sleep("5s")
    return "survived"
  end
  local ev = process.events():receive()
  return ev.kind .. "|" .. tostring(ev.result.error)
end

return M
