//! `text`: regexps, diffs and patches, splitters, and what they refuse.

use weft_core::Value;

use crate::{check, run};

#[tokio::test]
async fn regexps_match_as_go_documents_and_refuse_hostile_patterns() {
    let out = run(
        "text",
        "",
        r##"
        local text = require("text")
        local out = {}
        local re = text.regexp.compile("[0-9]+")
        out.all = list(re:find_all_string("a1b22c333"))
        out.none = list(re:find_all_string("abc"))
        out.match = tostring(re:match_string("x9")) .. tostring(re:match_string("x"))
        out.first = tostring(re:find_string("ab12cd34")) .. "|" .. tostring(re:find_string("ab"))
        local page = text.regexp.compile("page\\d+")
        local content = "The page1 here"
        local idx = page:find_string_index(content)
        out.index = list(idx) .. " " .. content:sub(idx[1], idx[2])
        out.index_none = tostring(page:find_string_index("none"))
        out.all_index = list(re:find_all_string_index("a1b22"))
        out.all_index_none = tostring(re:find_all_string_index("ab"))
        local email = text.regexp.compile("([a-z]+)@([a-z]+\\.[a-z]+)")
        out.submatch = list(email:find_string_submatch("mail user@example.com now"))
        out.submatch_none = tostring(email:find_string_submatch("nobody"))
        out.all_submatch = list(email:find_all_string_submatch("a@b.co, c@d.io"))
        local opt = text.regexp.compile("(a)(x)?")
        out.unmatched_group = list(opt:find_string_submatch("a"))
        out.replace = re:replace_all_string("a1b22", "<$0>")
        local date = text.regexp.compile("(?P<y>\\d{4})-(?P<m>\\d{2})")
        out.replace_named = date:replace_all_string("on 2024-05.", "${m}/${y}")
        out.names = list(date:subexp_names())
        out.num = date:num_subexp() .. " " .. re:num_subexp()
        out.pattern = date:string()
        local comma = text.regexp.compile(",")
        out.split = list(comma:split("a,b,c"))
        out.split_two = list(comma:split("a,b,c", 2))
        out.split_zero = list(comma:split("a,b,c", 0))
        out.split_all = list(comma:split("a,b,c", -1))
        out.bytes = hex(table.concat(re:find_all_string("\255" .. "7\0" .. "8\254")))
        -- Bad input.
        out.bad_pattern = try(text.regexp.compile, "[invalid")
        out.huge_pattern = try(text.regexp.compile, "(((a{100}){100}){100})")
        out.not_utf8 = try(text.regexp.compile, "\255")
        out.compile_number = try(text.regexp.compile, 123)
        out.compile_nil = try(text.regexp.compile)
        out.compile_extra = try(text.regexp.compile, "a", "b")
        out.method_number = raises(re.match_string, re, 123)
        out.method_missing = raises(re.find_string, re)
        out.method_extra = raises(re.find_string, re, "a", "b")
        out.method_self = raises(re.find_string, "not a regexp", "a")
        out.split_n = raises(comma.split, comma, "a,b", "two")
        out.replace_missing = raises(re.replace_all_string, re, "a1")
        return out
        "##,
        vec![],
    )
    .await;
    check(
        &out,
        &[
            ("all", "[1, 22, 333]"),
            ("none", "[]"),
            ("match", "truefalse"),
            ("first", "12|nil"),
            // The spec's example: "page1" at bytes 5..9.
            ("index", "[5, 9] page1"),
            ("index_none", "nil"),
            ("all_index", "[[2, 2], [4, 5]]"),
            ("all_index_none", "nil"),
            ("submatch", "[user@example.com, user, example.com]"),
            ("submatch_none", "nil"),
            ("all_submatch", "[[a@b.co, a, b.co], [c@d.io, c, d.io]]"),
            ("unmatched_group", "[a, a, ]"),
            ("replace", "a<1>b<22>"),
            ("replace_named", "on 05/2024."),
            ("names", "[, y, m]"),
            ("num", "2 0"),
            ("pattern", "(?P<y>\\d{4})-(?P<m>\\d{2})"),
            ("split", "[a, b, c]"),
            ("split_two", "[a, b,c]"),
            ("split_zero", "[]"),
            ("split_all", "[a, b, c]"),
            ("bytes", "3738"),
            (
                "bad_pattern",
                "ERR Invalid false text.regexp.compile: invalid pattern: regex parse error:…",
            ),
            (
                "huge_pattern",
                "ERR Invalid false text.regexp.compile: invalid pattern: Compiled regex \
                 exceeds size limit of 4194304 bytes.",
            ),
            (
                "not_utf8",
                "ERR Invalid false text.regexp.compile: pattern is not valid UTF-8 text",
            ),
            (
                "compile_number",
                "ERR Invalid false text.regexp.compile: pattern must be a string, got integer",
            ),
            (
                "compile_nil",
                "ERR Invalid false text.regexp.compile: pattern must be a string, got nil",
            ),
            (
                "compile_extra",
                "ERR Invalid false text.regexp.compile takes at most 1 argument, got 2",
            ),
            (
                "method_number",
                "RAISED text.Regexp:match_string: s must be a string, got integer…",
            ),
            (
                "method_missing",
                "RAISED text.Regexp:find_string: s must be a string, got nil…",
            ),
            (
                "method_extra",
                "RAISED text.Regexp:find_string takes at most 1 argument, got 2…",
            ),
            ("method_self", "RAISED …"),
            (
                "split_n",
                "RAISED text.Regexp:split: n must be an integer, got string…",
            ),
            (
                "replace_missing",
                "RAISED text.Regexp:replace_all_string: replacement must be a string, got nil…",
            ),
        ],
    );
}

#[tokio::test]
async fn diffs_and_patches_match_googles_diff_match_patch() {
    let long = "x".repeat((1 << 20) + 1);
    let out = run(
        "text",
        "",
        r##"
        local long = ...
        local text = require("text")
        local out = {}
        local d = text.diff.new()
        local diffs = d:compare("hello world", "hello there")
        local parts = {}
        for i, x in ipairs(diffs) do parts[i] = x.operation .. ":" .. x.text end
        out.compare = table.concat(parts, "|")
        local s = d:summarize(diffs)
        out.summary = s.insertions .. " " .. s.deletions .. " " .. s.equals
        local u = d:compare("café", "cafe")
        out.unicode = u[1].text .. "|" .. u[2].operation .. ":" .. u[2].text .. "|" .. u[3].text
        out.unicode_summary = d:summarize(u).deletions
        out.pretty_text = try(d.pretty_text, d, {{operation = "equal", text = "a"},
          {operation = "delete", text = "b"}, {operation = "insert", text = "c"}})
        out.pretty_html = try(d.pretty_html, d, {{operation = "equal", text = "<a>\n"},
          {operation = "delete", text = "&"}, {operation = "insert", text = "\"'"}})
        local patches = d:patch_make("The quick brown fox", "The quick red fox")
        out.patch = #patches .. " " .. patches[1].text
        local function applied(r, ok, ...)
          return tostring(r) .. " " .. tostring(ok) .. (select("#", ...) > 0 and "!" or "")
        end
        out.apply = applied(d:patch_apply(patches, "The quick brown fox"))
        out.apply_drifted = applied(d:patch_apply(patches, "Yes, The quick brown fox jumps"))
        out.apply_unrelated = applied(d:patch_apply(patches, "Completely unrelated"))
        out.apply_none = applied(d:patch_apply({}, "same"))
        local lines = d:patch_make("line one\nline two\nline three\n",
          "line one\nline 2\nline three\nline four\n")
        out.lines = lines[1].text .. lines[2].text
        out.options = try(text.diff.new, {diff_timeout = 0.5, diff_edit_cost = 2,
          match_threshold = 0.1, match_distance = 10, patch_delete_threshold = 0.2,
          patch_margin = 8}) ~= nil
        -- Bad input.
        out.opt_type = try(text.diff.new, {match_threshold = "high"})
        out.opt_range = try(text.diff.new, {match_threshold = 2})
        out.opt_timeout = try(text.diff.new, {diff_timeout = 0})
        out.opt_margin = try(text.diff.new, {patch_margin = 1.5})
        out.new_string = try(text.diff.new, "fast")
        out.compare_number = try(d.compare, d, 1, "x")
        out.compare_missing = try(d.compare, d, "x")
        out.compare_extra = try(d.compare, d, "a", "b", "c")
        out.compare_binary = try(d.compare, d, "\255", "x")
        out.compare_long = try(d.compare, d, long, "x")
        out.patch_make_long = try(d.patch_make, d, "x", long)
        -- Work limits: edits or patches times the text's length.
        local slow = text.diff.new({diff_timeout = 30})
        local abc = string.rep("abcdefghijklmnopqrstuvwxyz", 96 * 1024 // 26)
        local edited = abc:gsub("(...................)%a", "%1X")
        out.patch_make_work = try(slow.patch_make, slow, abc, edited)
        local many = {}
        for i = 1, 1100 do many[i] = {text = "@@ -1 +1 @@\n-x\n+y\n"} end
        out.patch_apply_work = raises(d.patch_apply, d, many, long:sub(2))
        out.pretty_bad = try(d.pretty_text, d, {{operation = "move", text = "x"}})
        out.pretty_item = try(d.pretty_html, d, {"x"})
        out.summarize_bad = raises(d.summarize, d, "diffs")
        out.summarize_text = raises(d.summarize, d, {{operation = "equal"}})
        out.apply_garbage = raises(d.patch_apply, d, {{text = "garbage"}}, "x")
        out.apply_string = raises(d.patch_apply, d, "patches", "x")
        out.apply_item = raises(d.patch_apply, d, {42}, "x")
        out.apply_text = raises(d.patch_apply, d, {}, 42)
        return out
        "##,
        vec![Value::str(long)],
    )
    .await;
    check(
        &out,
        &[
            // Python diff_match_patch: diff_main("hello world", "hello there", False).
            (
                "compare",
                "equal:hello |delete:wo|insert:the|equal:r|delete:ld|insert:e",
            ),
            ("summary", "4 4 7"),
            ("unicode", "caf|delete:é|e"),
            ("unicode_summary", "1"),
            ("pretty_text", "a\x1b[31mb\x1b[0m\x1b[32mc\x1b[0m"),
            (
                "pretty_html",
                "<span>&lt;a&gt;&para;<br></span><del style=\"background:#ffe6e6;\">&amp;</del>\
                 <ins style=\"background:#e6ffe6;\">&#34;&#39;</ins>",
            ),
            // Python diff_match_patch: patch_make / patch_toText / patch_apply.
            ("patch", "1 @@ -7,13 +7,11 @@\n ick \n-brown\n+red\n  fox\n"),
            ("apply", "The quick red fox true"),
            ("apply_drifted", "Yes, The quick red fox jumps true"),
            ("apply_unrelated", "Completely unrelated false"),
            ("apply_none", "same true"),
            (
                "lines",
                "@@ -11,11 +11,9 @@\n ine \n-two\n+2\n %0Alin\n@@ -20,8 +20,18 @@\n e three%0A\n+line four%0A\n",
            ),
            ("options", "true"),
            (
                "opt_type",
                "ERR Invalid false text.diff.new: match_threshold must be a number, got string",
            ),
            (
                "opt_range",
                "ERR Invalid false text.diff.new: match_threshold must be between 0 and 1, got 2",
            ),
            (
                "opt_timeout",
                "ERR Invalid false text.diff.new: diff_timeout must be greater than 0…",
            ),
            (
                "opt_margin",
                "ERR Invalid false text.diff.new: patch_margin must be an integer, got number",
            ),
            (
                "new_string",
                "ERR Invalid false text.diff.new: options must be a table, got string",
            ),
            (
                "compare_number",
                "ERR Invalid false text.Differ:compare: text1 must be a string, got integer",
            ),
            (
                "compare_missing",
                "ERR Invalid false text.Differ:compare: text2 must be a string, got nil",
            ),
            (
                "compare_extra",
                "ERR Invalid false text.Differ:compare takes at most 2 arguments, got 3",
            ),
            (
                "compare_binary",
                "ERR Invalid false text.Differ:compare: text1 is not valid UTF-8 text",
            ),
            (
                "compare_long",
                "ERR Invalid false text.Differ:compare: text1 is longer than the differ's \
                 limit of 1048576 bytes",
            ),
            (
                "patch_make_long",
                "ERR Invalid false text.Differ:patch_make: text2 is longer than the differ's \
                 limit of 1048576 bytes",
            ),
            (
                "patch_make_work",
                // 98280 / 20 changed letters, each a delete, an insert and an equality.
                "ERR Invalid false text.Differ:patch_make: 14742 edits over a text of 98280 \
                 characters is more work than the differ's limit (1073741824 edits × \
                 characters)",
            ),
            (
                "patch_apply_work",
                "RAISED text.Differ:patch_apply: 1100 patches over a text of 1048576 \
                 characters is more work than the differ's limit (1073741824 patches × \
                 characters)…",
            ),
            (
                "pretty_bad",
                "ERR Invalid false text.Differ:pretty_text: diffs[1].operation must be \
                 \"equal\", \"delete\" or \"insert\", got \"move\"",
            ),
            (
                "pretty_item",
                "ERR Invalid false text.Differ:pretty_html: diffs[1] must be a table, got string",
            ),
            (
                "summarize_bad",
                "RAISED text.Differ:summarize: diffs must be a table, got string…",
            ),
            (
                "summarize_text",
                "RAISED text.Differ:summarize: diffs[1].text must be a string, got nil…",
            ),
            (
                "apply_garbage",
                "RAISED text.Differ:patch_apply: patches[1] is not a patch…",
            ),
            (
                "apply_string",
                "RAISED text.Differ:patch_apply: patches must be a table, got string…",
            ),
            (
                "apply_item",
                "RAISED text.Differ:patch_apply: patches[1] must be a table, got integer…",
            ),
            (
                "apply_text",
                "RAISED text.Differ:patch_apply: text must be a string, got integer…",
            ),
        ],
    );
}

#[tokio::test]
async fn splitters_chunk_at_semantic_boundaries() {
    let out = run(
        "text",
        "",
        r##"
        local text = require("text")
        local out = {}
        local sp = text.splitter.recursive({chunk_size = 10, chunk_overlap = 0})
        out.paragraphs = try(sp.split_text, sp, "Some text\n\nfrom a\ndocument")
        local kept = text.splitter.recursive({chunk_size = 10, chunk_overlap = 0,
          keep_separator = true})
        local kept_chunks = kept:split_text("Some text\n\nfrom a\ndocument")
        out.kept = table.concat(kept_chunks, "|")
        out.kept_whole = tostring(table.concat(kept_chunks) == "Some text\n\nfrom a\ndocument")
        local words = text.splitter.recursive({chunk_size = 12, chunk_overlap = 6})
        out.overlap = try(words.split_text, words, "one two three four five")
        local wide = text.splitter.recursive({chunk_size = 3, chunk_overlap = 0})
        out.chars = try(wide.split_text, wide, "ééé ééé")
        local default = text.splitter.recursive()
        out.default = try(default.split_text, default, "short text")
        out.small_default = try(text.splitter.recursive, {chunk_size = 100}) ~= nil
        local md = text.splitter.markdown({chunk_size = 40, chunk_overlap = 0})
        local doc = "# Title\n\nIntro text here.\n\n## Code\n\n```\nlocal x = 1\n```\n\n" ..
          '## End\n\nBye.'
        out.markdown = table.concat(md:split_text(doc), "|")
        local pages = sp:split_batch({{content = "Page one\n\nsecond", metadata = {page = 1}},
          {content = "Page two"}, {content = ""}})
        local parts = {}
        for i, c in ipairs(pages) do
          parts[i] = c.content .. "@" .. tostring(c.metadata.page)
        end
        out.batch = table.concat(parts, "|")
        out.shared = tostring(pages[1].metadata == pages[2].metadata)
        -- Bad input.
        out.size_zero = try(text.splitter.recursive, {chunk_size = 0})
        out.overlap_big = try(text.splitter.recursive, {chunk_size = 10, chunk_overlap = 10})
        out.size_type = try(text.splitter.markdown, {chunk_size = "big"})
        out.separators = try(text.splitter.recursive, {separators = {"\n", 1}})
        out.keep_type = try(text.splitter.recursive, {keep_separator = "yes"})
        out.flag_type = try(text.splitter.markdown, {code_blocks = 1})
        out.options_type = try(text.splitter.recursive, 10)
        out.extra = try(text.splitter.recursive, {}, {})
        out.split_number = try(sp.split_text, sp, 42)
        out.split_binary = try(sp.split_text, sp, "\255\254")
        out.split_extra = try(sp.split_text, sp, "a", "b")
        out.batch_string = try(sp.split_batch, sp, "pages")
        out.batch_page = try(sp.split_batch, sp, {"page"})
        out.batch_content = try(sp.split_batch, sp, {{content = 5}})
        out.batch_meta = try(sp.split_batch, sp, {{content = "x", metadata = "m"}})
        return out
        "##,
        vec![],
    )
    .await;
    check(
        &out,
        &[
            ("paragraphs", "[Some text, from a, document]"),
            // Untrimmed, the chunks put together are the text again.
            ("kept", "Some text|\n\n|from a\n|document"),
            ("kept_whole", "true"),
            ("overlap", "[one two, two three, three four, four five]"),
            ("chars", "[ééé, ééé]"),
            ("default", "[short text]"),
            ("small_default", "true"),
            (
                "markdown",
                "# Title\n\nIntro text here.|## Code\n\n```\nlocal x = 1\n```|## End\n\nBye.",
            ),
            ("batch", "Page one@1|second@1|Page two@nil"),
            ("shared", "true"),
            (
                "size_zero",
                "ERR Invalid false text.splitter.recursive: chunk_size must be between 1 and \
                 4294967295, got 0",
            ),
            (
                "overlap_big",
                "ERR Invalid false text.splitter.recursive: chunk_overlap (10) must be smaller \
                 than chunk_size (10)",
            ),
            (
                "size_type",
                "ERR Invalid false text.splitter.markdown: chunk_size must be an integer, got \
                 string",
            ),
            (
                "separators",
                "ERR Invalid false text.splitter.recursive: separators[2] must be a string, got \
                 integer",
            ),
            (
                "keep_type",
                "ERR Invalid false text.splitter.recursive: keep_separator must be a boolean, \
                 got string",
            ),
            (
                "flag_type",
                "ERR Invalid false text.splitter.markdown: code_blocks must be a boolean, got \
                 integer",
            ),
            (
                "options_type",
                "ERR Invalid false text.splitter.recursive: options must be a table, got integer",
            ),
            (
                "extra",
                "ERR Invalid false text.splitter.recursive takes at most 1 argument, got 2",
            ),
            (
                "split_number",
                "ERR Invalid false text.Splitter:split_text: text must be a string, got integer",
            ),
            (
                "split_binary",
                "ERR Invalid false text.Splitter:split_text: text is not valid UTF-8 text",
            ),
            (
                "split_extra",
                "ERR Invalid false text.Splitter:split_text takes at most 1 argument, got 2",
            ),
            (
                "batch_string",
                "ERR Invalid false text.Splitter:split_batch: pages must be a table, got string",
            ),
            (
                "batch_page",
                "ERR Invalid false text.Splitter:split_batch: pages[1] must be a table, got \
                 string",
            ),
            (
                "batch_content",
                "ERR Invalid false text.Splitter:split_batch: pages[1].content must be a \
                 string, got integer",
            ),
            (
                "batch_meta",
                "ERR Invalid false text.Splitter:split_batch: pages[1].metadata must be a \
                 table, got string",
            ),
        ],
    );
}
