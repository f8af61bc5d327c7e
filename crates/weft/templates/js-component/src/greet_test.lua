-- app:greet_test: a test passes when it returns without an error and not `false`.
local M = {}

local function expect(want, got)
  if want ~= got then
    error(errors.new({
      message = string.format("expected %q, got %q", tostring(want), tostring(got)),
      kind = errors.INVALID,
    }))
  end
end

function M.run()
  local greeting, err = funcs.call("app:greet", "Ada")
  expect(nil, err)
  expect("Hello, Ada!", greeting)

  -- A WIT string argument takes only a string: anything else is an Invalid error.
  local _, bad = funcs.call("app:greet", 42)
  expect(errors.INVALID, bad and bad:kind())
end

return M
