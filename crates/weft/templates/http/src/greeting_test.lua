-- app:greeting_test: a test passes when it returns without an error and not `false`.
local function expect(want, got)
  if want ~= got then
    error(errors.new({
      message = string.format("expected %q, got %q", tostring(want), tostring(got)),
      kind = errors.INVALID,
    }))
  end
end

local function run()
  local body, status = greeting.reply("Ada")
  expect(200, status)
  expect("Hello, Ada!", body.message)

  body = greeting.reply(nil)
  expect("Hello, World!", body.message)

  body, status = greeting.reply(string.rep("x", 101))
  expect(400, status)
  expect("name is longer than 100 bytes", body.error)
end

return { run = run }
