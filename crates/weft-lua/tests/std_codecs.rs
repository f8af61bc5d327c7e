//! The `base64`, `hash` and `uuid` modules end to end: Lua functions listing them under
//! `modules:`, booted from disk through the real loader, checked against published test
//! vectors (RFC 4648, RFC 1321, FIPS 180, RFC 2202, RFC 4231, the FNV reference suite,
//! RFC 9562) and against bad input of every kind.

mod common;

use std::sync::Arc;

use common::{app, boot_dir};
use weft_core::{ErrorKind, Value};
use weft_runtime::Runtime;

/// Lua helpers every test function starts with: `try(f, ...)` renders a call's result as
/// text (`ERR <kind> <retryable> <message>` for `nil, err`), `hex(s)` the bytes of `s`.
const PRELUDE: &str = r##"
local function show(v, err, ...)
  if err ~= nil then
    local text = "ERR " .. err:kind() .. " " .. tostring(err:retryable()) .. " " .. err:message()
    if v ~= nil then text = text .. " (and a value)" end
    return text
  end
  if select("#", ...) > 0 then return "more than two results" end
  if type(v) == "string" then return v end
  if math.type(v) then return math.type(v) .. ":" .. tostring(v) end
  return type(v) .. ":" .. tostring(v)
end
local function try(f, ...) return show(f(...)) end
local function hex(s)
  return (s:gsub(".", function(c) return string.format("%02x", c:byte()) end))
end
"##;

/// A one-function app: `t:f` lists `modules` and runs `body` (after [`PRELUDE`]) as its
/// method, under `limits`.
async fn func(modules: &str, limits: &str, body: &str) -> (tempfile::TempDir, Arc<Runtime>) {
    let index = format!(
        "namespace: t\nentries:\n  - name: f\n    kind: function.lua\n    source: file://f.lua\n    method: f\n    modules: [{modules}]\n    limits: {{{limits}}}\n"
    );
    let src = format!("{PRELUDE}\nlocal M = {{}}\nfunction M.f()\n{body}\nend\nreturn M\n");
    let dir = app(&[("src/_index.yaml", &index), ("src/f.lua", &src)]);
    match boot_dir(dir.path()).await {
        Ok(rt) => (dir, rt),
        Err(e) => panic!("boot failed:\n{e}"),
    }
}

/// Runs `body` and returns its result.
async fn run(modules: &str, body: &str) -> Value {
    run_with(modules, "", body).await.unwrap()
}

async fn run_with(modules: &str, limits: &str, body: &str) -> weft_core::Result<Value> {
    let (_dir, rt) = func(modules, limits, body).await;
    rt.functions.call(&rt.root_context(), "t:f", vec![]).await
}

/// Checks each `(key, want)` against the text at `key` of the result table.
fn check(out: &Value, cases: &[(&str, &str)]) {
    for (key, want) in cases {
        let got = match out.get(key) {
            Some(v) => v
                .as_str()
                .map_or_else(|| v.to_display_string(), str::to_string),
            None => "nil".to_string(),
        };
        assert_eq!(got, *want, "{key}");
    }
}

#[tokio::test]
async fn base64_follows_rfc_4648() {
    let out = run(
        "base64",
        r##"
        local b64 = require("base64")
        local out = {}
        -- RFC 4648 §10.
        for _, s in ipairs({"", "f", "fo", "foo", "foob", "fooba", "foobar"}) do
          out["enc_" .. s] = try(b64.encode, s)
          out["dec_" .. s] = try(b64.decode, b64.encode(s))
        end
        local all = {}
        for i = 0, 255 do all[#all + 1] = string.char(i) end
        all = table.concat(all)
        out.all = try(b64.encode, all)
        out.all_round_trip = tostring(b64.decode(b64.encode(all)) == all)
        out.nul = try(b64.encode, "\0\1\2")
        -- What Go's StdEncoding also reads: line breaks, set trailing bits.
        out.lines = try(b64.decode, "Zm9v\r\nYmFy\n")
        out.trailing_bits = try(b64.decode, "Zh==")
        -- Bad input.
        out.no_padding = try(b64.decode, "Zg")
        out.short_padding = try(b64.decode, "Zg=")
        out.bad_symbol = try(b64.decode, "Zm9v!A==")
        out.url_alphabet = try(b64.decode, "-_-_")
        out.only_padding = try(b64.decode, "====")
        out.encode_nil = try(b64.encode)
        out.encode_number = try(b64.encode, 42)
        out.encode_table = try(b64.encode, {})
        out.decode_bool = try(b64.decode, true)
        out.decode_number = try(b64.decode, 1234)
        return out
        "##,
    )
    .await;
    check(
        &out,
        &[
            ("enc_", ""),
            ("enc_f", "Zg=="),
            ("enc_fo", "Zm8="),
            ("enc_foo", "Zm9v"),
            ("enc_foob", "Zm9vYg=="),
            ("enc_fooba", "Zm9vYmE="),
            ("enc_foobar", "Zm9vYmFy"),
            ("dec_", ""),
            ("dec_f", "f"),
            ("dec_fooba", "fooba"),
            ("dec_foobar", "foobar"),
            // base64 of bytes 0..=255, from Python's base64.b64encode.
            (
                "all",
                "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+P0BBQkNERUZHSElKS0xNTk9QUVJTVFVWV1hZWltcXV5fYGFiY2RlZmdoaWprbG1ub3BxcnN0dXZ3eHl6e3x9fn+AgYKDhIWGh4iJiouMjY6PkJGSk5SVlpeYmZqbnJ2en6ChoqOkpaanqKmqq6ytrq+wsbKztLW2t7i5uru8vb6/wMHCw8TFxsfIycrLzM3Oz9DR0tPU1dbX2Nna29zd3t/g4eLj5OXm5+jp6uvs7e7v8PHy8/T19vf4+fr7/P3+/w==",
            ),
            ("all_round_trip", "true"),
            ("nul", "AAEC"),
            ("lines", "foobar"),
            ("trailing_bits", "f"),
            (
                "encode_nil",
                "ERR Invalid false base64.encode: data must be a string, got nil",
            ),
            (
                "encode_number",
                "ERR Invalid false base64.encode: data must be a string, got integer",
            ),
            (
                "encode_table",
                "ERR Invalid false base64.encode: data must be a string, got table",
            ),
            (
                "decode_bool",
                "ERR Invalid false base64.decode: data must be a string, got boolean",
            ),
            (
                "decode_number",
                "ERR Invalid false base64.decode: data must be a string, got integer",
            ),
        ],
    );
    for key in [
        "no_padding",
        "short_padding",
        "bad_symbol",
        "url_alphabet",
        "only_padding",
    ] {
        let got = out.get(key).and_then(Value::as_str).unwrap_or_default();
        assert!(
            got.starts_with("ERR Invalid false base64.decode: invalid base64 data: "),
            "{key}: {got}"
        );
    }
}

#[tokio::test]
async fn hash_digests_and_hmacs_match_the_published_vectors() {
    let out = run(
        "hash",
        r##"
        local hash = require("hash")
        local out = {}
        for _, name in ipairs({"md5", "sha1", "sha256", "sha512"}) do
          out[name .. "_empty"] = try(hash[name], "")
          out[name .. "_abc"] = try(hash[name], "abc")
          out[name .. "_abc_false"] = try(hash[name], "abc", false)
          local raw = hash[name]("abc", true)
          out[name .. "_raw"] = tostring(hex(raw) == hash[name]("abc")) .. " " .. #raw
        end
        out.sha1_million = try(hash.sha1, string.rep("a", 1000000))
        out.sha256_million = try(hash.sha256, string.rep("a", 1000000))
        -- RFC 4231 test cases 1, 2 and 6; RFC 2202 test cases 1 and 2.
        local k1, d1 = string.rep("\11", 20), "Hi There"
        local k2, d2 = "Jefe", "what do ya want for nothing?"
        local k6 = string.rep("\170", 131)
        local d6 = "Test Using Larger Than Block-Size Key - Hash Key First"
        out.hmac_sha256_1 = try(hash.hmac_sha256, d1, k1)
        out.hmac_sha256_2 = try(hash.hmac_sha256, d2, k2)
        out.hmac_sha256_6 = try(hash.hmac_sha256, d6, k6)
        out.hmac_sha512_1 = try(hash.hmac_sha512, d1, k1)
        out.hmac_sha512_2 = try(hash.hmac_sha512, d2, k2)
        out.hmac_sha512_6 = try(hash.hmac_sha512, d6, k6)
        out.hmac_md5_1 = try(hash.hmac_md5, d1, string.rep("\11", 16))
        out.hmac_md5_2 = try(hash.hmac_md5, d2, k2)
        out.hmac_sha1_1 = try(hash.hmac_sha1, d1, k1)
        out.hmac_sha1_2 = try(hash.hmac_sha1, d2, k2)
        out.hmac_empty = try(hash.hmac_sha256, "", "")
        local raw = hash.hmac_sha512(d2, k2, true)
        out.hmac_raw = tostring(hex(raw) == hash.hmac_sha512(d2, k2)) .. " " .. #raw
        -- FNV-1a reference vectors; fnv64 keeps all 64 bits in a Lua integer.
        out.fnv32_empty = try(hash.fnv32, "")
        out.fnv32_a = try(hash.fnv32, "a")
        out.fnv32_foobar = string.format("%08x", hash.fnv32("foobar"))
        out.fnv64_empty = string.format("%016x", hash.fnv64(""))
        out.fnv64_a = try(hash.fnv64, "a")
        out.fnv64_a_hex = string.format("%016x", hash.fnv64("a"))
        out.fnv64_foobar = string.format("%016x", hash.fnv64("foobar"))
        out.binary = try(hash.md5, "\0\255\0")
        return out
        "##,
    )
    .await;
    check(
        &out,
        &[
            ("md5_empty", "d41d8cd98f00b204e9800998ecf8427e"),
            ("md5_abc", "900150983cd24fb0d6963f7d28e17f72"),
            ("md5_abc_false", "900150983cd24fb0d6963f7d28e17f72"),
            ("md5_raw", "true 16"),
            ("sha1_empty", "da39a3ee5e6b4b0d3255bfef95601890afd80709"),
            ("sha1_abc", "a9993e364706816aba3e25717850c26c9cd0d89d"),
            ("sha1_raw", "true 20"),
            (
                "sha256_empty",
                "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            ),
            (
                "sha256_abc",
                "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
            ),
            ("sha256_raw", "true 32"),
            (
                "sha512_empty",
                "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e",
            ),
            (
                "sha512_abc",
                "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
            ),
            ("sha512_raw", "true 64"),
            ("sha1_million", "34aa973cd4c4daa4f61eeb2bdbad27316534016f"),
            (
                "sha256_million",
                "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0",
            ),
            (
                "hmac_sha256_1",
                "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
            ),
            (
                "hmac_sha256_2",
                "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
            ),
            (
                "hmac_sha256_6",
                "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
            ),
            (
                "hmac_sha512_1",
                "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cdedaa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854",
            ),
            (
                "hmac_sha512_2",
                "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737",
            ),
            (
                "hmac_sha512_6",
                "80b24263c7c1a3ebb71493c1dd7be8b49b46d1f41b4aeec1121b013783f8f3526b56d037e05f2598bd0fd2215d6a1e5295e64f73f63f0aec8b915a985d786598",
            ),
            ("hmac_md5_1", "9294727a3638bb1c13f48ef8158bfc9d"),
            ("hmac_md5_2", "750c783e6ab0b503eaa86e310a5db738"),
            ("hmac_sha1_1", "b617318655057264e28bc0b6fb378c8ef146be00"),
            ("hmac_sha1_2", "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"),
            (
                "hmac_empty",
                "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad",
            ),
            ("hmac_raw", "true 64"),
            ("fnv32_empty", "integer:2166136261"),
            ("fnv32_a", "integer:3826002220"),
            ("fnv32_foobar", "bf9cf968"),
            ("fnv64_empty", "cbf29ce484222325"),
            ("fnv64_a", "integer:-5808556873153909620"),
            ("fnv64_a_hex", "af63dc4c8601ec8c"),
            ("fnv64_foobar", "85944171f73967e8"),
            ("binary", "b2b237a1bbd9c57b93b952c24e7936a8"),
        ],
    );
}

#[tokio::test]
async fn hash_rejects_bad_arguments_with_invalid_errors() {
    let out = run(
        "hash",
        r##"
        local out = {}
        out.no_data = try(hash.sha256)
        out.number_data = try(hash.md5, 42)
        out.table_data = try(hash.sha1, {})
        out.raw_string = try(hash.sha512, "x", "yes")
        out.raw_number = try(hash.md5, "x", 1)
        out.hmac_no_secret = try(hash.hmac_sha256, "x")
        out.hmac_number_secret = try(hash.hmac_sha512, "x", 5)
        out.hmac_no_data = try(hash.hmac_md5, nil, "k")
        out.hmac_raw = try(hash.hmac_sha1, "x", "k", "raw")
        out.fnv32_none = try(hash.fnv32)
        out.fnv64_bool = try(hash.fnv64, true)
        out.extra_args = try(hash.sha256, "abc", false, "ignored")
        return out
        "##,
    )
    .await;
    check(
        &out,
        &[
            (
                "no_data",
                "ERR Invalid false hash.sha256: data must be a string, got nil",
            ),
            (
                "number_data",
                "ERR Invalid false hash.md5: data must be a string, got integer",
            ),
            (
                "table_data",
                "ERR Invalid false hash.sha1: data must be a string, got table",
            ),
            (
                "raw_string",
                "ERR Invalid false hash.sha512: raw must be a boolean, got string",
            ),
            (
                "raw_number",
                "ERR Invalid false hash.md5: raw must be a boolean, got integer",
            ),
            (
                "hmac_no_secret",
                "ERR Invalid false hash.hmac_sha256: secret must be a string, got nil",
            ),
            (
                "hmac_number_secret",
                "ERR Invalid false hash.hmac_sha512: secret must be a string, got integer",
            ),
            (
                "hmac_no_data",
                "ERR Invalid false hash.hmac_md5: data must be a string, got nil",
            ),
            (
                "hmac_raw",
                "ERR Invalid false hash.hmac_sha1: raw must be a boolean, got string",
            ),
            (
                "fnv32_none",
                "ERR Invalid false hash.fnv32: data must be a string, got nil",
            ),
            (
                "fnv64_bool",
                "ERR Invalid false hash.fnv64: data must be a string, got boolean",
            ),
            (
                "extra_args",
                "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
            ),
        ],
    );
}

#[tokio::test]
async fn uuids_are_generated_with_their_version_and_variant_bits() {
    let out = run(
        "uuid",
        r##"
        local uuid = require("uuid")
        local out = {}
        local pattern = "^%x%x%x%x%x%x%x%x%-%x%x%x%x%-%x%x%x%x%-%x%x%x%x%-%x%x%x%x%x%x%x%x%x%x%x%x$"
        local now = os.time()
        for _, v in ipairs({"v1", "v4", "v7"}) do
          local seen, fresh, shaped, lower, sorted = {}, 0, true, true, true
          local last = ""
          for i = 1, 500 do
            local id, err = uuid[v]()
            assert(err == nil, tostring(err))
            if not id:match(pattern) then shaped = false end
            if id ~= id:lower() then lower = false end
            if id <= last then sorted = false end
            last = id
            if not seen[id] then fresh = fresh + 1 end
            seen[id] = true
          end
          local info = uuid.parse(last)
          out[v] = table.concat({
            tostring(shaped), tostring(lower), fresh, uuid.version(last), uuid.variant(last),
            info.version, info.variant,
          }, " ")
          out[v .. "_sorted"] = tostring(sorted)
          out[v .. "_age"] = info.timestamp and tostring(math.abs(info.timestamp - now) <= 5) or "none"
          out[v .. "_node"] = tostring(info.node)
        end
        local a, b = uuid.parse(uuid.v1()), uuid.parse(uuid.v1())
        -- A random node ID with the multicast bit set, the same for the whole process.
        out.v1_node = tostring(a.node == b.node) .. " " .. #a.node .. " "
          .. tostring(tonumber(a.node:sub(1, 2), 16) % 2 == 1)
        out.extra_args = tostring(uuid.v4("ignored"):match(pattern) ~= nil)
        return out
        "##,
    )
    .await;
    check(
        &out,
        &[
            ("v1", "true true 500 1 RFC4122 1 RFC4122"),
            ("v4", "true true 500 4 RFC4122 4 RFC4122"),
            ("v7", "true true 500 7 RFC4122 7 RFC4122"),
            // Version-7 UUIDs made by one process sort in the order they were made.
            ("v7_sorted", "true"),
            ("v1_age", "true"),
            ("v7_age", "true"),
            ("v4_age", "none"),
            ("v4_node", "nil"),
            ("v7_node", "nil"),
            ("v1_node", "true 12 true"),
            ("extra_args", "true"),
        ],
    );
}

#[tokio::test]
async fn uuid_reads_validates_and_formats_known_uuids() {
    let out = run(
        "uuid",
        r##"
        local out = {}
        local dns = "6ba7b810-9dad-11d1-80b4-00c04fd430c8"
        -- RFC 9562 Appendix A.2 and A.4.
        out.v3 = try(uuid.v3, dns, "www.example.com")
        out.v5 = try(uuid.v5, dns, "www.example.com")
        -- The namespace in any form the parser reads.
        out.v5_simple_ns = try(uuid.v5, "6BA7B8109DAD11D180B400C04FD430C8", "www.example.com")
        out.v5_braced_ns = try(uuid.v5, "{" .. dns .. "}", "www.example.com")
        out.v3_urn_ns = try(uuid.v3, "urn:uuid:" .. dns, "www.example.com")
        out.v5_binary_name = try(uuid.v5, dns, "\0\255")
        for _, s in ipairs({dns, dns:upper(), "6ba7b8109dad11d180b400c04fd430c8",
            "{" .. dns .. "}", "urn:uuid:" .. dns, "00000000-0000-0000-0000-000000000000"}) do
          out["valid " .. s] = tostring(uuid.validate(s))
        end
        for i, v in ipairs({"not-a-uuid", "", dns .. "0", dns:sub(2), "6ba7b810-9dad-11d1-80b4-00c04fd430cg",
            "6ba7b810_9dad_11d1_80b4_00c04fd430c8", 123, true, {}, dns .. "\0"}) do
          out["invalid " .. i] = tostring(uuid.validate(v))
        end
        out.validate_none = tostring(uuid.validate())
        -- RFC 9562 Appendix A.1 (v1) and A.6 (v7): 2022-02-22 19:22:22 UTC.
        local function info(s)
          local t, err = uuid.parse(s)
          if err then return show(t, err) end
          return table.concat({t.version, t.variant, tostring(t.timestamp), tostring(t.node)}, " ")
        end
        out.parse_dns = info(dns)
        out.parse_v1 = info("C232AB00-9414-11EC-B3C8-9F6BDECED846")
        out.parse_v7 = info("017F22E2-79B0-7CC3-98C4-DC0C0C07398F")
        out.parse_v5 = info("2ed6657d-e927-568b-95e1-2665a8aea6a2")
        out.parse_v1_epoch = info("00000000-0000-1000-8000-000000000000")
        out.parse_nil = info("00000000-0000-0000-0000-000000000000")
        out.parse_bad = info("nope")
        out.parse_number = try(uuid.parse, 5)
        -- Variants by the top bits of byte 8: 0xx, 10x, 110, 111.
        out.variants = table.concat({
          uuid.variant("00000000-0000-4000-7fff-000000000000"),
          uuid.variant("00000000-0000-4000-8000-000000000000"),
          uuid.variant("00000000-0000-4000-bfff-000000000000"),
          uuid.variant("00000000-0000-4000-c000-000000000000"),
          uuid.variant("00000000-0000-4000-e000-000000000000"),
        }, " ")
        out.version_nil = try(uuid.version, "00000000-0000-0000-0000-000000000000")
        out.version_max = try(uuid.version, "ffffffff-ffff-ffff-ffff-ffffffffffff")
        out.version_bad = try(uuid.version, "6ba7b810-9dad-11d1-80b4")
        out.version_table = try(uuid.version, {})
        out.variant_bad = try(uuid.variant, "")
        out.variant_nil = try(uuid.variant)
        out.fmt_default = try(uuid.format, dns:upper())
        out.fmt_standard = try(uuid.format, "{" .. dns .. "}", "standard")
        out.fmt_simple = try(uuid.format, dns, "simple")
        out.fmt_urn = try(uuid.format, "6ba7b8109dad11d180b400c04fd430c8", "urn")
        out.fmt_unknown = try(uuid.format, dns, "URN")
        out.fmt_number = try(uuid.format, dns, 5)
        out.fmt_bad_uuid = try(uuid.format, "x", "simple")
        out.fmt_nil = try(uuid.format)
        out.v3_none = try(uuid.v3)
        out.v3_no_name = try(uuid.v3, dns)
        out.v5_number_ns = try(uuid.v5, 1, "x")
        out.v5_number_name = try(uuid.v5, dns, 5)
        out.v3_bad_ns = try(uuid.v3, "invalid-namespace", "test")
        return out
        "##,
    )
    .await;
    let mut cases = vec![
        ("v3", "5df41881-3aed-3515-88a7-2f4a814cf09e"),
        ("v5", "2ed6657d-e927-568b-95e1-2665a8aea6a2"),
        ("v5_simple_ns", "2ed6657d-e927-568b-95e1-2665a8aea6a2"),
        ("v5_braced_ns", "2ed6657d-e927-568b-95e1-2665a8aea6a2"),
        ("v3_urn_ns", "5df41881-3aed-3515-88a7-2f4a814cf09e"),
        // Python: SHA-1 over NAMESPACE_DNS.bytes + b"\x00\xff", as a version-5 UUID.
        ("v5_binary_name", "60a672d1-c0f5-5b9a-8795-b99dde1da593"),
        ("validate_none", "false"),
        ("parse_dns", "1 RFC4122 886630433 00c04fd430c8"),
        ("parse_v1", "1 RFC4122 1645557742 9f6bdeced846"),
        ("parse_v7", "7 RFC4122 1645557742 nil"),
        ("parse_v5", "5 RFC4122 nil nil"),
        ("parse_v1_epoch", "1 RFC4122 -12219292800 000000000000"),
        ("parse_nil", "0 NCS nil nil"),
        (
            "parse_number",
            "ERR Invalid false uuid.parse: input must be a string, got integer",
        ),
        ("variants", "NCS RFC4122 RFC4122 Microsoft Invalid"),
        ("version_nil", "integer:0"),
        ("version_max", "integer:15"),
        (
            "version_table",
            "ERR Invalid false uuid.version: input must be a string, got table",
        ),
        (
            "variant_nil",
            "ERR Invalid false uuid.variant: input must be a string, got nil",
        ),
        ("fmt_default", "6ba7b810-9dad-11d1-80b4-00c04fd430c8"),
        ("fmt_standard", "6ba7b810-9dad-11d1-80b4-00c04fd430c8"),
        ("fmt_simple", "6ba7b8109dad11d180b400c04fd430c8"),
        ("fmt_urn", "urn:uuid:6ba7b810-9dad-11d1-80b4-00c04fd430c8"),
        (
            "fmt_unknown",
            "ERR Invalid false uuid.format: unsupported format \"URN\" (standard, simple, urn)",
        ),
        (
            "fmt_number",
            "ERR Invalid false uuid.format: format must be a string, got integer",
        ),
        (
            "fmt_nil",
            "ERR Invalid false uuid.format: input must be a string, got nil",
        ),
        (
            "v3_none",
            "ERR Invalid false uuid.v3: namespace must be a string, got nil",
        ),
        (
            "v3_no_name",
            "ERR Invalid false uuid.v3: name must be a string, got nil",
        ),
        (
            "v5_number_ns",
            "ERR Invalid false uuid.v5: namespace must be a string, got integer",
        ),
        (
            "v5_number_name",
            "ERR Invalid false uuid.v5: name must be a string, got integer",
        ),
    ];
    let dns = "6ba7b810-9dad-11d1-80b4-00c04fd430c8";
    let upper = dns.to_uppercase();
    let valid = [
        format!("valid {dns}"),
        format!("valid {upper}"),
        "valid 6ba7b8109dad11d180b400c04fd430c8".to_string(),
        format!("valid {{{dns}}}"),
        format!("valid urn:uuid:{dns}"),
        "valid 00000000-0000-0000-0000-000000000000".to_string(),
    ];
    cases.extend(valid.iter().map(|k| (k.as_str(), "true")));
    let invalid: Vec<String> = (1..=10).map(|i| format!("invalid {i}")).collect();
    cases.extend(invalid.iter().map(|k| (k.as_str(), "false")));
    check(&out, &cases);
    for (key, prefix) in [
        (
            "parse_bad",
            "ERR Invalid false uuid.parse: invalid UUID format: ",
        ),
        (
            "version_bad",
            "ERR Invalid false uuid.version: invalid UUID format: ",
        ),
        (
            "variant_bad",
            "ERR Invalid false uuid.variant: invalid UUID format: ",
        ),
        (
            "fmt_bad_uuid",
            "ERR Invalid false uuid.format: invalid UUID format: ",
        ),
        (
            "v3_bad_ns",
            "ERR Invalid false uuid.v3: invalid namespace UUID: ",
        ),
    ] {
        let got = out.get(key).and_then(Value::as_str).unwrap_or_default();
        assert!(got.starts_with(prefix), "{key}: {got}");
    }
}

/// Hashing and encoding 100 MiB work within a VM allowed 512 MB: the input is read where
/// Lua keeps it; the only other memory is the output.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_100_mib_string_is_hashed_and_encoded() {
    let out = run_with(
        "hash, base64",
        "max_memory_mb: 512",
        r##"
        local s = string.rep("a", 100 * 1024 * 1024)
        local out = {}
        out.sha256 = hash.sha256(s)
        out.md5 = hash.md5(s)
        out.fnv32 = hash.fnv32(s)
        out.hmac = #hash.hmac_sha512(s, "k")
        local e = base64.encode(s)
        out.encoded_len = #e
        out.encoded_sha256 = hash.sha256(e)
        local d = base64.decode(e)
        e = nil
        out.round_trip = tostring(d == s)
        return out
        "##,
    )
    .await
    .unwrap();
    // Python's hashlib and base64 over b"a" * (100 * 1024 * 1024).
    check(
        &out,
        &[
            (
                "sha256",
                "cee41e98d0a6ad65cc0ec77a2ba50bf26d64dc9007f7f1c7d7df68b8b71291a6",
            ),
            ("md5", "876fac806fac9926ea0bfac7ddf6649c"),
            ("hmac", "128"),
            ("encoded_len", "139810136"),
            (
                "encoded_sha256",
                "9a4f9b9334d687ca2f540756f180439b648592adbf8ae32c2a5ac6feb16bea55",
            ),
            ("round_trip", "true"),
        ],
    );
    assert!(matches!(out.get("fnv32"), Some(Value::Int(_))));
}

/// An encoding that does not fit the VM's memory limit fails like any allocation: Lua's
/// memory error, catchable with `pcall`, and the call's limit error when not caught.
#[tokio::test]
async fn an_output_past_the_memory_limit_fails_clearly() {
    // 48 MiB encodes to 64 MiB: 112 MiB with the input, past a 100 MB limit.
    let body = r##"
        local s = string.rep("a", 48 * 1024 * 1024)
        local ok, err = pcall(base64.encode, s)
        if MODE == "caught" then return tostring(ok) .. " " .. tostring(err) end
        return base64.encode(s)
    "##;
    let caught = run_with(
        "base64",
        "max_memory_mb: 100",
        &body.replace("MODE", "'caught'"),
    )
    .await
    .unwrap();
    let caught = caught.as_str().unwrap_or_default();
    assert!(
        caught.starts_with("false memory error: not enough memory"),
        "{caught}"
    );
    let err = run_with("base64", "max_memory_mb: 100", &body.replace("MODE", "nil"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Internal, "{err}");
    assert_eq!(
        err.message(),
        "t:f: exceeded its memory limit (limits.max_memory_mb: 100 MB)"
    );
}
