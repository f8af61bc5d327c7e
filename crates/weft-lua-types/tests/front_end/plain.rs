//! Plain Lua 5.4 passes through byte for byte (borrowed), whatever type-looking text it has.

use weft_lua_types::{annotations, erase};

use crate::common::plain;

#[test]
fn method_calls_and_colons() {
    plain(
        "local s = ('x'):rep(3)\nlocal t = {f = function(self, a) return a end}\nprint(t:f(1), s:upper():lower())\nlocal x = t\n:f(2)\n",
    );
    plain(
        "local obj = {}\nfunction obj:method(x) return self, x end\nfunction obj.field.deep:m() end\n",
    );
}

#[test]
fn labels_and_goto() {
    plain("for i = 1, 3 do\n  if i == 2 then goto continue end\n  print(i)\n  ::continue::\nend\n");
    plain("do goto done end\n::done:: ::again::\nlocal x = f()\n::after::\nprint(x)\n");
    plain("local x = y ::lbl:: print(x)\n");
}

#[test]
fn attributes_and_operators() {
    plain("local a <const> = 10\nlocal f <close> = nil\nlocal b <const>, c = 1, 2\n");
    plain(
        "local a = 7 // 2 ~ 3 & 5 | 1 << 2 >> 1\nlocal b = ~a\nlocal c = a ~= b and #'x' or -1\nlocal d = 2^3 % 5 .. 'x'\n",
    );
    plain("local x = f<<b>>(x)\nlocal y = a < b and c > d\nlocal z = a<b\nlocal w = (a)<(b)>(c)\n");
    plain("local n = 0x1p4 + 0xA.8p-1 + 3e10 + .5 + 5. + 0xff + 1E+2\n");
}

#[test]
fn strings_and_comments_with_type_looking_text() {
    plain("local s = 'local x: T = 1 :: U as V @min(0) !x'\nlocal t = \"type A = {x: number}\"\n");
    plain(
        "local l = [==[\nlocal x: number = 1\ntype T = string\n(user!).name :: any\n]] still inside\n]==]\n",
    );
    plain(
        "-- local x: number = 1\n--[[ type T = {a: string}\nfunction f<T>(x: T): T end ]]\n--[==[ ]] as T ]==] print(1)\n",
    );
    plain(
        "local e = \"esc \\\" : T \\\\\" .. 'it\\'s ! @' .. \"\\z\n      continued\" .. \"line\\\ncontinued\"\n",
    );
    plain("local u = \"\\u{48}\\x41\\065\\n\"\n");
}

#[test]
fn as_type_typeof_export_as_plain_names() {
    plain("local as = 1\nas = as + 1\nlocal t = {as = as}\nt.as = as\nprint(t.as, as)\n");
    plain(
        "local as = {}\nas.x = 1\nas[1] = 2\nfunction as.f() end\nfunction as:m() end\nas:m()\nas.f()\n",
    );
    plain(
        "local y = 1\nas = y\nlocal z = y\nas, y = 1, 2\nlocal w = y\nas(y)\nlocal v = y\nas.x = 1\nlocal u = y\nas[1] = 2\nlocal q = y\nas:m()\n",
    );
    plain(
        "local type = type\nprint(type(1), type)\ntype = nil\nlocal t = {type = 'x'}\nprint(t.type)\n",
    );
    plain(
        "local typeof = function(x) return x end\nprint(typeof(1))\nlocal export = {}\nexport.type = 1\nexport = nil\n",
    );
    plain("local x = typeof(y)\nlocal function f(a) return typeof(a) end\n");
}

#[test]
fn line_endings_and_odd_layout() {
    plain("local a = 1\r\nlocal b = 2\r\nprint(a\r\n, b)\r\n");
    plain("local a = 1\rlocal b = 2\n\rprint(a)");
    plain("local t = {\n  [1] = 'a';\n  b = 'c',\n  'd'\n}\nreturn t");
    plain("");
    plain("return");
    plain("local s = [[\r\nfirst]] .. [=[]=]");
}

#[test]
fn a_real_program() {
    plain(
        r#"local M = {}

local function merge(a, b)
    local out = {}
    for k, v in pairs(a) do out[k] = v end
    for k, v in pairs(b or {}) do out[k] = v end
    return out
end

function M.new(opts)
    local self = setmetatable(merge({size = 10}, opts), {__index = M})
    self.items = {}
    return self
end

function M:push(item)
    if #self.items >= self.size then
        return nil, "full"
    end
    self.items[#self.items + 1] = item
    return true
end

function M:each(f)
    local i = 0
    return function()
        i = i + 1
        local item <const> = self.items[i]
        if item ~= nil then return i, f and f(item) or item end
    end
end

repeat
    local done = true
until done

while false do break end

return M
"#,
    );
}

#[test]
fn invalid_lua_without_types_is_left_to_lua() {
    for src in [
        "local x = = 1",
        "x = 'unfinished",
        "local t = {",
        "f(((((",
        "x = [==[ open",
        "--[[ open",
    ] {
        let out = erase(src).unwrap();
        assert!(!out.typed);
        assert!(std::ptr::eq(&*out.code, src));
        assert!(annotations(src).unwrap().is_empty());
    }
}

#[test]
fn deep_plain_nesting_is_left_to_lua() {
    // Deeper than Lua's own limit: returned untouched, Lua 5.4 reports the error.
    let src = format!("local x = {}1{}", "(".repeat(100_000), ")".repeat(100_000));
    let out = erase(&src).unwrap();
    assert!(!out.typed);
    assert!(mlua::Lua::new().load(&src).into_function().is_err());
    // As deep as Lua accepts: parsed through.
    let src = format!("local x = {}1{}", "(".repeat(150), ")".repeat(150));
    plain(&src);
    let src = format!("{}{}", "do ".repeat(150), "end ".repeat(150));
    plain(&src);
}
