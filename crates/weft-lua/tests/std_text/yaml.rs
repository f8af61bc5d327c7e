//! `yaml`: encoding sorted, decoding to Lua values, and what it refuses.

use crate::{check, run};

#[tokio::test]
async fn yaml_encodes_sorted_and_decodes_to_lua_values() {
    let out = run(
        "yaml",
        "",
        r##"
        local yaml = require("yaml")
        local out = {}
        out.map = try(yaml.encode, {name = "test", value = 123})
        out.array = try(yaml.encode, {1, 2, 3})
        out.nested = try(yaml.encode, {b = 1.5, a = {list = {"x", true}, z = "yes"}})
        out.order = try(yaml.encode, {kind = "k", name = "n", alpha = 1},
          {field_order = {"name", "kind"}})
        out.empty = try(yaml.encode, {})
        local d = yaml.decode("name: test\nvalue: 123\nratio: 0.5\nok: true\nnone: ~\n" ..
          "list: [a, 'b', 3]\nparent:\n  child:\n    value: 7\n")
        out.decoded = table.concat({d.name, math.type(d.value) .. ":" .. d.value,
          tostring(d.ratio), tostring(d.ok), tostring(d.none), list(d.list),
          tostring(d.parent.child.value)}, " ")
        local m = yaml.decode("base: &b {x: 1, y: 2}\nitem:\n  <<: *b\n  y: 3\n---\nz: 9\n")
        out.merged = m.item.x .. m.item.y .. tostring(m.z)
        out.scalar = try(yaml.decode, "just text")
        out.tagged = yaml.decode("a: !custom 1\nb: !!str 2\n").a .. "|" ..
          math.type(yaml.decode("a: !custom 1").a) .. "|" .. type(yaml.decode("b: !!str 2").b)
        out.comment_only = try(yaml.decode, "# nothing\n")
        local original = {name = "test", items = {1, 2, 3}, deep = {a = {b = {c = "d"}}}}
        local back = yaml.decode(yaml.encode(original))
        out.round_trip = back.name .. list(back.items) .. back.deep.a.b.c
        -- Bad input.
        out.encode_nil = try(yaml.encode)
        out.encode_string = try(yaml.encode, "text")
        out.encode_extra = try(yaml.encode, {}, {}, 1)
        out.encode_options = try(yaml.encode, {}, "sorted")
        out.encode_order = try(yaml.encode, {}, {field_order = {1}})
        out.encode_binary = try(yaml.encode, {bytes = "\255\0"})
        local cyclic = {name = "loop"}
        cyclic.self = cyclic
        out.encode_cycle = try(yaml.encode, cyclic)
        out.decode_number = try(yaml.decode, 123)
        out.decode_empty = try(yaml.decode, "")
        out.decode_extra = try(yaml.decode, "a: 1", "b")
        out.decode_broken = try(yaml.decode, "a: 1\nb: [1, 2\nc: 3\n")
        out.decode_indent = try(yaml.decode, "a: 1\n  b: 2\n")
        out.decode_deep = try(yaml.decode, "a: " .. string.rep("[", 100000))
        out.decode_binary = try(yaml.decode, "a: \255\254")
        local laughs = {"a: &a [x, x, x, x, x, x, x, x, x, x]"}
        for i, name in ipairs({"b", "c", "d", "e", "f", "g", "h", "i"}) do
          local prev = string.char(string.byte(name) - 1)
          laughs[#laughs + 1] = name .. ": &" .. name .. " [" ..
            string.rep("*" .. prev .. ", ", 9) .. "*" .. prev .. "]"
        end
        out.decode_laughs = try(yaml.decode, table.concat(laughs, "\n"))
        return out
        "##,
        vec![],
    )
    .await;
    check(
        &out,
        &[
            // The spec's own examples.
            ("map", "name: test\nvalue: 123\n"),
            ("array", "- 1\n- 2\n- 3\n"),
            // Keys sorted; YAML 1.2, where `yes` is a string.
            ("nested", "a:\n  list:\n  - x\n  - true\n  z: yes\nb: 1.5\n"),
            ("order", "name: n\nkind: k\nalpha: 1\n"),
            ("empty", "{}\n"),
            ("decoded", "test integer:123 0.5 true nil [a, b, 3] 7"),
            ("merged", "13nil"),
            ("scalar", "just text"),
            ("tagged", "1|integer|string"),
            ("comment_only", "nil"),
            ("round_trip", "test[1, 2, 3]d"),
            (
                "encode_nil",
                "ERR Invalid false yaml.encode: data must be a table, got nil",
            ),
            (
                "encode_string",
                "ERR Invalid false yaml.encode: data must be a table, got string",
            ),
            (
                "encode_extra",
                "ERR Invalid false yaml.encode takes at most 2 arguments, got 3",
            ),
            (
                "encode_options",
                "ERR Invalid false yaml.encode: options must be a table, got string",
            ),
            (
                "encode_order",
                "ERR Invalid false yaml.encode: field_order[1] must be a string, got integer",
            ),
            (
                "encode_binary",
                "ERR Invalid false yaml.encode: cannot encode data: a string is not UTF-8 text \
                 (YAML holds text only)",
            ),
            (
                "encode_cycle",
                "ERR Invalid false yaml.encode: cannot encode data: table nested deeper than \
                 128 levels (a cycle?)",
            ),
            (
                "decode_number",
                "ERR Invalid false yaml.decode: data must be a string, got integer",
            ),
            (
                "decode_empty",
                "ERR Invalid false yaml.decode: data is empty",
            ),
            (
                "decode_extra",
                "ERR Invalid false yaml.decode takes at most 1 argument, got 2",
            ),
            (
                "decode_broken",
                "ERR Internal false yaml.decode: invalid YAML: did not find expected ',' or \
                 ']' at line 3 column 2…",
            ),
            (
                "decode_indent",
                "ERR Internal false yaml.decode: invalid YAML: mapping values are not allowed \
                 in this context at line 2 column 4",
            ),
            (
                "decode_deep",
                "ERR Internal false yaml.decode: invalid YAML: collections nest deeper than \
                 128 levels at line 1 column 132",
            ),
            (
                "decode_binary",
                "ERR Internal false yaml.decode: invalid YAML: not UTF-8 text…",
            ),
            (
                "decode_laughs",
                "ERR Internal false yaml.decode: invalid YAML: repetition limit exceeded",
            ),
        ],
    );
}
