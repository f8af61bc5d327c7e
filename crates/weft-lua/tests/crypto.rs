//! The `crypto` module end to end (`crypto_jwt.rs` has `jwt`): an app with a
//! `function.lua` entry listing `modules: [crypto]`, booted from disk through the real
//! loader and called through the function registry.
//!
//! Expected values come from outside weft: NIST GCM and RFC 8439 vectors for the ciphers,
//! RFC 4231 for HMAC, RFC 7914 and Python's `hashlib` and `hmac` for PBKDF2 and HMAC.

mod common;
mod crypto_support;

use common::{app, boot_dir};
use crypto_support::{assert_fields, boot, call, run, s, text};
use weft_core::Value;

// ---------------------------------------------------------------- AEAD

/// NIST GCM spec test cases 3/4 (AES-128), 9/10 (AES-192) and 15/16 (AES-256): the
/// plaintext, the IV, and for the even cases AAD over the first 60 plaintext bytes.
const GCM_PLAINTEXT: &str = "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255";
const GCM_IV: &str = "cafebabefacedbaddecaf888";
const GCM_AAD: &str = "feedfacedeadbeeffeedfacedeadbeefabaddad2";
/// (key, ciphertext ‖ tag without AAD, ciphertext ‖ tag of 60 bytes with AAD).
const GCM_VECTORS: &[(&str, &str, &str)] = &[
    (
        "feffe9928665731c6d6a8f9467308308",
        "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091473f59854d5c2af327cd64a62cf35abd2ba6fab4",
        "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e0915bc94fbc3221a5db94fae95ae7121a47",
    ),
    (
        "feffe9928665731c6d6a8f9467308308feffe9928665731c",
        "3980ca0b3c00e841eb06fac4872a2757859e1ceaa6efd984628593b40ca1e19c7d773d00c144c525ac619d18c84a3f4718e2448b2fe324d9ccda2710acade2569924a7c8587336bfb118024db8674a14",
        "3980ca0b3c00e841eb06fac4872a2757859e1ceaa6efd984628593b40ca1e19c7d773d00c144c525ac619d18c84a3f4718e2448b2fe324d9ccda27102519498e80f1478f37ba55bd6d27618c",
    ),
    (
        "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
        "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015adb094dac5d93471bdec1a502270e3cc6c",
        "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f66276fc6ece0f4e1768cddf8853bb2d551b",
    ),
];

/// RFC 8439 §2.8.2: key, nonce, AAD, plaintext and ciphertext ‖ tag.
const CHACHA_KEY: &str = "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f";
const CHACHA_NONCE: &str = "070000004041424344454647";
const CHACHA_AAD: &str = "50515253c0c1c2c3c4c5c6c7";
const CHACHA_PLAINTEXT: &str = "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.";
const CHACHA_SEALED: &str = "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d63dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b3692ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc3ff4def08e4b7a9de576d26586cec64b61161ae10b594f09e26a7e902ecbd0600691";

/// Decrypts `nonce ‖ sealed` with `key` and `aad` (hex, or nil), the plaintext in hex or
/// the `try` outcome.
const DECRYPT: &str = r#"
local cipher, key, nonce, sealed, aad = ...
local r = try(crypto.decrypt[cipher], unhex(nonce .. sealed), unhex(key), aad and unhex(aad))
if r:find("^err ") or r:find("^raised ") then return r end
return hex(r)
"#;

#[tokio::test]
async fn aes_gcm_decrypts_the_nist_vectors() {
    let (_dir, rt) = boot(DECRYPT).await;
    for (key, sealed, sealed_aad) in GCM_VECTORS {
        let got = call(
            &rt,
            vec![s("aes"), s(key), s(GCM_IV), s(sealed), Value::Nil],
        )
        .await;
        assert_eq!(got.as_str(), Some(GCM_PLAINTEXT), "key {key}");
        let args = vec![s("aes"), s(key), s(GCM_IV), s(sealed_aad), s(GCM_AAD)];
        let got = call(&rt, args).await;
        assert_eq!(
            got.as_str(),
            Some(&GCM_PLAINTEXT[..120]),
            "key {key} with AAD"
        );
        // Without the AAD, or with another one, authentication fails.
        let got = call(
            &rt,
            vec![s("aes"), s(key), s(GCM_IV), s(sealed_aad), Value::Nil],
        )
        .await;
        assert!(
            got.as_str()
                .unwrap()
                .starts_with("err Internal: decryption failed"),
            "{got:?}"
        );
        let args = vec![s("aes"), s(key), s(GCM_IV), s(sealed_aad), s("00")];
        let got = call(&rt, args).await;
        assert!(
            got.as_str()
                .unwrap()
                .starts_with("err Internal: decryption failed"),
            "{got:?}"
        );
    }
}

#[tokio::test]
async fn chacha20_poly1305_decrypts_the_rfc_8439_vector() {
    let (_dir, rt) = boot(DECRYPT).await;
    let args = |aad: &str| {
        vec![
            s("chacha20"),
            s(CHACHA_KEY),
            s(CHACHA_NONCE),
            s(CHACHA_SEALED),
            s(aad),
        ]
    };
    let want: String = CHACHA_PLAINTEXT
        .bytes()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(
        call(&rt, args(CHACHA_AAD)).await.as_str(),
        Some(want.as_str())
    );
    let got = call(&rt, args("50515253c0c1c2c3c4c5c6c8")).await;
    assert!(
        got.as_str()
            .unwrap()
            .starts_with("err Internal: decryption failed"),
        "{got:?}"
    );
    // The same bytes under AES-GCM do not authenticate either.
    let mut aes = args(CHACHA_AAD);
    aes[0] = s("aes");
    let got = call(&rt, aes).await;
    assert!(
        got.as_str()
            .unwrap()
            .starts_with("err Internal: decryption failed"),
        "{got:?}"
    );
}

#[tokio::test]
async fn encryption_round_trips_with_a_fresh_nonce_each_time() {
    let v = run(r#"
      local out = {}
      local all = {}
      for i = 0, 255 do all[#all + 1] = string.char(i) end
      local binary = table.concat(all)
      for _, case in ipairs({
        {"aes16", "aes", string.rep("k", 16)},
        {"aes24", "aes", string.rep("k", 24)},
        {"aes32", "aes", string.rep("\0", 32)},
        {"chacha20", "chacha20", string.rep("\255", 32)},
      }) do
        local name, cipher, key = case[1], case[2], case[3]
        local a = assert(crypto.encrypt[cipher](binary, key))
        local b = assert(crypto.encrypt[cipher](binary, key))
        local with_aad = assert(crypto.encrypt[cipher]("msg", key, "context"))
        local empty = assert(crypto.encrypt[cipher]("", key))
        out[name] = table.concat({
          #a, tostring(a ~= b), tostring(a:sub(1, 12) ~= b:sub(1, 12)),
          tostring(crypto.decrypt[cipher](a, key) == binary),
          tostring(crypto.decrypt[cipher](b, key) == binary),
          crypto.decrypt[cipher](with_aad, key, "context"),
          tostring(select(2, crypto.decrypt[cipher](with_aad, key)) ~= nil),
          #empty, "[" .. crypto.decrypt[cipher](empty, key) .. "]",
        }, " ")
      end
      -- A number passes for a string argument (as its text).
      out.number = crypto.decrypt.aes(crypto.encrypt.aes(12345, string.rep("k", 16)), string.rep("k", 16))
      return out
    "#)
    .await;
    for name in ["aes16", "aes24", "aes32", "chacha20"] {
        assert_eq!(
            text(&v, name),
            "284 true true true true msg true 28 []",
            "{name}"
        );
    }
    assert_eq!(text(&v, "number"), "12345");
}

#[tokio::test]
async fn bad_keys_and_tampered_or_short_data_fail_with_their_kinds() {
    let v = run(r#"
      local key = string.rep("k", 32)
      local sealed = crypto.encrypt.aes("attack at dawn", key, "aad")
      local csealed = crypto.encrypt.chacha20("attack at dawn", key, "aad")
      local function flip(s, i)
        return s:sub(1, i - 1) .. string.char(s:byte(i) ~ 1) .. s:sub(i + 1)
      end
      return {
        aes_key_0 = try(crypto.encrypt.aes, "x", ""),
        aes_key_15 = try(crypto.encrypt.aes, "x", string.rep("k", 15)),
        aes_key_33 = try(crypto.encrypt.aes, "x", string.rep("k", 33)),
        aes_dec_key_31 = try(crypto.decrypt.aes, sealed, string.rep("k", 31)),
        chacha_key_16 = try(crypto.encrypt.chacha20, "x", string.rep("k", 16)),
        chacha_key_24 = try(crypto.decrypt.chacha20, csealed, string.rep("k", 24)),
        nonce_flipped = try(crypto.decrypt.aes, flip(sealed, 1), key, "aad"),
        body_flipped = try(crypto.decrypt.aes, flip(sealed, 14), key, "aad"),
        tag_flipped = try(crypto.decrypt.aes, flip(sealed, #sealed), key, "aad"),
        truncated = try(crypto.decrypt.aes, sealed:sub(1, -2), key, "aad"),
        extended = try(crypto.decrypt.aes, sealed .. "x", key, "aad"),
        wrong_key = try(crypto.decrypt.aes, sealed, string.rep("j", 32), "aad"),
        wrong_aad = try(crypto.decrypt.aes, sealed, key, "AAD"),
        no_aad = try(crypto.decrypt.aes, sealed, key),
        aes_as_chacha = try(crypto.decrypt.chacha20, sealed, key, "aad"),
        c_nonce_flipped = try(crypto.decrypt.chacha20, flip(csealed, 12), key, "aad"),
        c_body_flipped = try(crypto.decrypt.chacha20, flip(csealed, 13), key, "aad"),
        c_tag_flipped = try(crypto.decrypt.chacha20, flip(csealed, #csealed - 15), key, "aad"),
        too_short = try(crypto.decrypt.aes, string.rep("x", 27), key),
        empty = try(crypto.decrypt.chacha20, "", key),
        just_long_enough = try(crypto.decrypt.chacha20, string.rep("x", 28), key),
        untouched = crypto.decrypt.aes(sealed, key, "aad"),
      }
    "#)
    .await;
    let auth = "err Internal: decryption failed: authentication failed";
    assert_fields(
        &v,
        &[
            (
                "aes_key_0",
                "err Invalid: AES key must be 16, 24 or 32 bytes, got 0",
            ),
            (
                "aes_key_15",
                "err Invalid: AES key must be 16, 24 or 32 bytes, got 15",
            ),
            (
                "aes_key_33",
                "err Invalid: AES key must be 16, 24 or 32 bytes, got 33",
            ),
            (
                "aes_dec_key_31",
                "err Invalid: AES key must be 16, 24 or 32 bytes, got 31",
            ),
            (
                "chacha_key_16",
                "err Invalid: ChaCha20-Poly1305 key must be 32 bytes, got 16",
            ),
            (
                "chacha_key_24",
                "err Invalid: ChaCha20-Poly1305 key must be 32 bytes, got 24",
            ),
            ("nonce_flipped", auth),
            ("body_flipped", auth),
            ("tag_flipped", auth),
            ("truncated", auth),
            ("extended", auth),
            ("wrong_key", auth),
            ("wrong_aad", auth),
            ("no_aad", auth),
            ("aes_as_chacha", auth),
            ("c_nonce_flipped", auth),
            ("c_body_flipped", auth),
            ("c_tag_flipped", auth),
            (
                "too_short",
                "err Invalid: encrypted data too short: 27 bytes, at least 28",
            ),
            ("empty", "err Invalid: encrypted data too short: 0 bytes"),
            ("just_long_enough", auth),
            ("untouched", "attack at dawn"),
        ],
    );
}

// ---------------------------------------------------------------- HMAC, compare

#[tokio::test]
async fn hmac_matches_rfc_4231_and_rejects_an_empty_key() {
    let v = run(r#"
      local long_key = string.rep("\170", 131)
      local long_data = "Test Using Larger Than Block-Size Key - Hash Key First"
      return {
        sha256 = crypto.hmac.sha256("Jefe", "what do ya want for nothing?"),
        sha512 = crypto.hmac.sha512("Jefe", "what do ya want for nothing?"),
        long256 = crypto.hmac.sha256(long_key, long_data),
        long512 = crypto.hmac.sha512(long_key, long_data),
        empty_data = crypto.hmac.sha256("key", ""),
        numbers = crypto.hmac.sha256(123, 456),
        empty_key = try(crypto.hmac.sha256, "", "data"),
        empty_key512 = try(crypto.hmac.sha512, "", "data"),
      }
    "#)
    .await;
    assert_fields(
        &v,
        &[
            (
                "sha256",
                "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
            ),
            (
                "sha512",
                "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737",
            ),
            (
                "long256",
                "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
            ),
            (
                "long512",
                "80b24263c7c1a3ebb71493c1dd7be8b49b46d1f41b4aeec1121b013783f8f3526b56d037e05f2598bd0fd2215d6a1e5295e64f73f63f0aec8b915a985d786598",
            ),
            (
                "empty_data",
                "5d5d139563c95b5967b9bd9a8c9b233a9dedb45072794cd232dc1b74832607d0",
            ),
            (
                "numbers",
                "d46bcbca58fe719a5d8df73175ec453ae6a7778e3e84a64ca87a63ec7c02b41f",
            ),
            ("empty_key", "err Invalid: key cannot be empty"),
            ("empty_key512", "err Invalid: key cannot be empty"),
        ],
    );
    assert_eq!(text(&v, "sha256").len(), 64);
    assert_eq!(text(&v, "sha512").len(), 128);
}

#[tokio::test]
async fn constant_time_compare_compares_whole_byte_strings() {
    let v = run(r#"
      local c = crypto.constant_time_compare
      return {c("abc", "abc"), c("abc", "abd"), c("abc", "ab"), c("", ""), c("", "a"),
              c("\0a", "\0b"), c("\0a", "\0a"), c(123, "123"), c(1.5, "1.5")}
    "#)
    .await;
    let got: Vec<bool> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b.as_bool().unwrap())
        .collect();
    assert_eq!(
        got,
        [true, false, false, true, false, false, true, true, true]
    );
}

// ---------------------------------------------------------------- PBKDF2

#[tokio::test]
async fn pbkdf2_matches_known_vectors() {
    let v = run(r#"
      return {
        rfc7914_1 = hex(crypto.pbkdf2("passwd", "salt", 1, 64, "sha256")),
        rfc7914_2 = hex(crypto.pbkdf2("Password", "NaCl", 80000, 64)),
        sha512 = hex(crypto.pbkdf2("password", "salt", 1000, 64, "sha512")),
        default_hash = hex(crypto.pbkdf2("password", "salt", 10000, 32, nil)),
        longest = hex(crypto.pbkdf2("p", "s", 1, 1024):sub(-8)),
        length_1 = #crypto.pbkdf2("p", "s", 1, 1),
        float_count = #crypto.pbkdf2("p", "s", 2.0, 16.0),
      }
    "#)
    .await;
    assert_fields(
        &v,
        &[
            (
                "rfc7914_1",
                "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc49ca9cccf179b645991664b39d77ef317c71b845b1e30bd509112041d3a19783",
            ),
            (
                "rfc7914_2",
                "4ddcd8f60b98be21830cee5ef22701f9641a4418d04c0414aeff08876b34ab56a1d425a1225833549adb841b51c9b3176a272bdebba1d078478f62b397f33c8d",
            ),
            (
                "sha512",
                "afe6c5530785b6cc6b1c6453384731bd5ee432ee549fd42fb6695779ad8a1c5bf59de69c48f774efc4007d5298f9033c0241d5ab69305e7b64eceeb8d834cfec",
            ),
            (
                "default_hash",
                "5ec02b91a4b59c6f59dd5fbe4ca649ece4fa8568cdb8ba36cf41426e8805522b",
            ),
            ("longest", "a96d3145f9561989"),
        ],
    );
    assert_eq!(v.get("length_1"), Some(&Value::Int(1)));
    assert_eq!(v.get("float_count"), Some(&Value::Int(16)));
}

#[tokio::test]
async fn pbkdf2_rejects_bad_parameters() {
    let v = run(r#"
      local p = crypto.pbkdf2
      return {
        empty_password = try(p, "", "salt", 1, 32),
        empty_salt = try(p, "pw", "", 1, 32),
        zero_iterations = try(p, "pw", "salt", 0, 32),
        negative_iterations = try(p, "pw", "salt", -1, 32),
        too_many_iterations = try(p, "pw", "salt", 10000001, 32),
        zero_length = try(p, "pw", "salt", 1, 0),
        negative_length = try(p, "pw", "salt", 1, -32),
        too_long = try(p, "pw", "salt", 1, 1025),
        md5 = try(p, "pw", "salt", 1, 32, "md5"),
        upper = try(p, "pw", "salt", 1, 32, "SHA256"),
        huge_iterations = try(p, "pw", "salt", math.maxinteger, 32),
      }
    "#)
    .await;
    assert_fields(
        &v,
        &[
            ("empty_password", "err Invalid: password cannot be empty"),
            ("empty_salt", "err Invalid: salt cannot be empty"),
            (
                "zero_iterations",
                "err Invalid: iterations must be positive, got 0",
            ),
            (
                "negative_iterations",
                "err Invalid: iterations must be positive, got -1",
            ),
            (
                "too_many_iterations",
                "err Invalid: iterations 10000001 exceeds the maximum of 10000000",
            ),
            (
                "zero_length",
                "err Invalid: key length must be positive, got 0",
            ),
            (
                "negative_length",
                "err Invalid: key length must be positive, got -32",
            ),
            (
                "too_long",
                "err Invalid: key length 1025 exceeds the maximum of 1024 bytes",
            ),
            (
                "md5",
                "err Invalid: unsupported hash function \"md5\" (supported: sha256, sha512)",
            ),
            ("upper", "err Invalid: unsupported hash function \"SHA256\""),
            (
                "huge_iterations",
                "err Invalid: iterations 9223372036854775807 exceeds",
            ),
        ],
    );
}

// ---------------------------------------------------------------- random

#[tokio::test]
async fn random_bytes_strings_and_uuids() {
    let v = run(r#"
      local out = {}
      local a, b = crypto.random.bytes(32), crypto.random.bytes(32)
      out.bytes = #a .. " " .. tostring(a ~= b)
      out.bytes_max = #crypto.random.bytes(1048576)
      out.bytes_float = #crypto.random.bytes(8.0)
      out.bytes_zero = try(crypto.random.bytes, 0)
      out.bytes_negative = try(crypto.random.bytes, -5)
      out.bytes_over = try(crypto.random.bytes, 1048577)
      out.bytes_huge = try(crypto.random.bytes, math.maxinteger)

      local s = crypto.random.string(100000)
      local seen, n = {}, 0
      for c in s:gmatch(".") do
        if not seen[c] then seen[c] = true; n = n + 1 end
      end
      out.alnum = tostring(s:match("^[A-Za-z0-9]+$") ~= nil) .. " " .. #s .. " " .. n
      out.ab = crypto.random.string(64, "ab"):gsub("[ab]", "") == "" and "only ab" or "other"
      out.single = crypto.random.string(5, "z")
      local greek = crypto.random.string(20, "αβγ")
      out.utf8 = utf8.len(greek) .. " " .. #greek .. " " .. tostring(greek:gsub("[\206][\177\178\179]", "") == "")
      out.max = #crypto.random.string(1048576)
      out.empty_charset = try(crypto.random.string, 5, "")
      out.string_zero = try(crypto.random.string, 0)
      out.string_over = try(crypto.random.string, 1048577, "ab")

      -- 200 byte values picked 200,000 times: about 1,000 each (a modulo pick would give
      -- the first 56 about 1,560 and the rest about 780).
      local charset = {}
      for i = 1, 200 do charset[i] = string.char(i + 55) end
      local counts = {}
      for c in crypto.random.string(200000, table.concat(charset)):gmatch(".") do
        counts[c] = (counts[c] or 0) + 1
      end
      local lo, hi, distinct = math.huge, 0, 0
      for _, count in pairs(counts) do
        distinct = distinct + 1
        lo, hi = math.min(lo, count), math.max(hi, count)
      end
      out.uniform = distinct .. " " .. tostring(lo >= 800 and hi <= 1200) .. " " .. lo .. ".." .. hi

      local ids, ok = {}, true
      for i = 1, 100 do
        local id = crypto.random.uuid()
        ok = ok and id:match("^%x%x%x%x%x%x%x%x%-%x%x%x%x%-4%x%x%x%-[89ab]%x%x%x%-%x%x%x%x%x%x%x%x%x%x%x%x$") ~= nil
          and id == id:lower() and not ids[id]
        ids[id] = true
      end
      out.uuid = tostring(ok) .. " " .. #crypto.random.uuid()
      return out
    "#)
    .await;
    assert_fields(
        &v,
        &[
            ("bytes", "32 true"),
            (
                "bytes_zero",
                "err Invalid: length must be a positive integer, got 0",
            ),
            (
                "bytes_negative",
                "err Invalid: length must be a positive integer, got -5",
            ),
            (
                "bytes_over",
                "err Invalid: length 1048577 exceeds the maximum of 1048576 (1 MiB)",
            ),
            (
                "bytes_huge",
                "err Invalid: length 9223372036854775807 exceeds",
            ),
            ("alnum", "true 100000 62"),
            ("ab", "only ab"),
            ("single", "zzzzz"),
            ("utf8", "20 40 true"),
            ("empty_charset", "err Invalid: charset cannot be empty"),
            (
                "string_zero",
                "err Invalid: length must be a positive integer, got 0",
            ),
            ("string_over", "err Invalid: length 1048577 exceeds"),
            ("uniform", "200 true"),
            ("uuid", "true 36"),
        ],
    );
    assert_eq!(v.get("bytes_max"), Some(&Value::Int(1 << 20)));
    assert_eq!(v.get("bytes_float"), Some(&Value::Int(8)));
    assert_eq!(v.get("max"), Some(&Value::Int(1 << 20)));
}

// ---------------------------------------------------------------- arguments, size, binding

#[tokio::test]
async fn wrong_argument_types_and_counts_are_invalid_errors() {
    let v = run(r#"
      local k16, k32 = string.rep("k", 16), string.rep("k", 32)
      local cases = {
        {"crypto.random.bytes", 1, function() return crypto.random.bytes() end},
        {"crypto.random.bytes", 1, function() return crypto.random.bytes("ten") end},
        {"crypto.random.bytes", 1, function() return crypto.random.bytes(1.5) end},
        {"crypto.random.bytes", 1, function() return crypto.random.bytes({}) end},
        {"crypto.random.string", 1, function() return crypto.random.string() end},
        {"crypto.random.string", 2, function() return crypto.random.string(5, {}) end},
        {"crypto.random.string", 2, function() return crypto.random.string(5, false) end},
        {"crypto.hmac.sha256", 1, function() return crypto.hmac.sha256(nil, "d") end},
        {"crypto.hmac.sha256", 2, function() return crypto.hmac.sha256("k", {}) end},
        {"crypto.hmac.sha512", 2, function() return crypto.hmac.sha512("k") end},
        {"crypto.encrypt.aes", 1, function() return crypto.encrypt.aes({}, k16) end},
        {"crypto.encrypt.aes", 2, function() return crypto.encrypt.aes("d") end},
        {"crypto.encrypt.aes", 3, function() return crypto.encrypt.aes("d", k16, true) end},
        {"crypto.encrypt.chacha20", 1, function() return crypto.encrypt.chacha20() end},
        {"crypto.encrypt.chacha20", 3, function() return crypto.encrypt.chacha20("d", k32, {}) end},
        {"crypto.decrypt.aes", 1, function() return crypto.decrypt.aes(true, k16) end},
        {"crypto.decrypt.chacha20", 2, function() return crypto.decrypt.chacha20("x", function() end) end},
        {"crypto.jwt.encode", 2, function() return crypto.jwt.encode({}) end},
        {"crypto.jwt.encode", 3, function() return crypto.jwt.encode({}, "k", {}) end},
        {"crypto.jwt.verify", 1, function() return crypto.jwt.verify(nil, "k") end},
        {"crypto.jwt.verify", 2, function() return crypto.jwt.verify("t") end},
        {"crypto.jwt.verify", 3, function() return crypto.jwt.verify("t", "k", true) end},
        {"crypto.jwt.verify", 4, function() return crypto.jwt.verify("t", "k", "HS256", "yes") end},
        {"crypto.pbkdf2", 1, function() return crypto.pbkdf2() end},
        {"crypto.pbkdf2", 3, function() return crypto.pbkdf2("p", "s") end},
        {"crypto.pbkdf2", 3, function() return crypto.pbkdf2("p", "s", "many", 32) end},
        {"crypto.pbkdf2", 4, function() return crypto.pbkdf2("p", "s", 1, 32.5) end},
        {"crypto.pbkdf2", 5, function() return crypto.pbkdf2("p", "s", 1, 32, {}) end},
        {"crypto.constant_time_compare", 2, function() return crypto.constant_time_compare("a") end},
        {"crypto.constant_time_compare", 1, function() return crypto.constant_time_compare({}, "a") end},
      }
      local out = {cases = {}}
      for i, case in ipairs(cases) do
        local want = "err Invalid: bad argument #" .. case[2] .. " to '" .. case[1] .. "'"
        local got = try(case[3])
        out.cases[i] = got:sub(1, #want) == want and "ok" or (want .. " | got: " .. tostring(got))
      end
      -- Extra arguments are ignored, as Lua functions do.
      out.extra = crypto.hmac.sha256("Jefe", "what do ya want for nothing?", "extra", {})
      out.extra_random = #crypto.random.bytes(4, "more")
      return out
    "#)
    .await;
    let cases = v.get("cases").and_then(Value::as_array).unwrap();
    let failures: Vec<String> = cases
        .iter()
        .enumerate()
        .filter(|(_, got)| got.as_str() != Some("ok"))
        .map(|(i, got)| format!("case {}: {got:?}", i + 1))
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(cases.len(), 30);
    assert_eq!(
        text(&v, "extra"),
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    );
    assert_eq!(v.get("extra_random"), Some(&Value::Int(4)));
}

/// Bytes of the cipher and comparison inputs of [`big_ciphertexts_round_trip`]: 100 MiB,
/// but 16 MiB in debug builds, where the ciphers' generic code (monomorphized in this
/// unoptimized crate) runs at about 7 MB/s (`cargo test --release` runs the full size).
const BIG: i64 = if cfg!(debug_assertions) {
    16 << 20
} else {
    100 << 20
};

#[tokio::test]
async fn hundred_megabyte_inputs_work() {
    let v = run(r#"
      local out = {}
      local n = 100 * 1024 * 1024
      local big = string.rep("x", n)
      out.hmac = crypto.hmac.sha256("k", big)
      out.hmac512 = #crypto.hmac.sha512(big, "data")
      out.garbage_token = try(crypto.jwt.verify, big, "k")
      -- {"alg":"HS256"}, a 100 MiB payload part and a wrong signature.
      out.token = try(crypto.jwt.verify, "eyJhbGciOiJIUzI1NiJ9." .. big .. ".c2ln", "k")
      out.random = try(crypto.random.bytes, n)
      out.random_string = try(crypto.random.string, 8, big)
      out.pbkdf2 = #crypto.pbkdf2(big, big, 1, 32)
      out.payload = #crypto.jwt.encode({blob = big}, "k")
      return out
    "#)
    .await;
    assert_fields(
        &v,
        &[
            // Python: hmac.new(b"k", b"x" * (100 * 1024 * 1024), "sha256").hexdigest()
            (
                "hmac",
                "619daaceb4dcb986c42f998f9315f243a684ed653fd8be391c28f0798fecea9e",
            ),
            ("garbage_token", "err Internal: token format invalid"),
            ("token", "err Internal: signature invalid"),
            (
                "random",
                "err Invalid: length 104857600 exceeds the maximum",
            ),
            ("random_string", "xxxxxxxx"),
        ],
    );
    assert_eq!(v.get("hmac512"), Some(&Value::Int(128)));
    assert_eq!(v.get("pbkdf2"), Some(&Value::Int(32)));
    // base64url of {"blob":"xxx…"} is 4/3 of it, plus header and signature.
    let payload = v.get("payload").and_then(Value::as_int).unwrap();
    assert!(payload > (100 << 20) * 4 / 3, "{payload}");
}

#[tokio::test]
async fn big_ciphertexts_round_trip() {
    let (_dir, rt) = boot(
        r#"
      local n = ...
      local out = {}
      local big = string.rep("x", n)
      local key = string.rep("k", 32)
      for _, cipher in ipairs({"aes", "chacha20"}) do
        local sealed = assert(crypto.encrypt[cipher](big, key, "aad"))
        local opened = assert(crypto.decrypt[cipher](sealed, key, "aad"))
        out[cipher] = (#sealed - n) .. " " .. tostring(opened == big)
        local last = #sealed
        local tampered = sealed:sub(1, last - 1) .. string.char(sealed:byte(last) ~ 1)
        sealed, opened = nil, nil
        out[cipher .. "_tampered"] = try(crypto.decrypt[cipher], tampered, key, "aad")
        tampered = nil
        collectgarbage()
      end
      local same = string.rep("x", n)
      out.compare = tostring(crypto.constant_time_compare(big, same)) .. " "
        .. tostring(crypto.constant_time_compare(big, same:sub(1, -2) .. "y"))
      return out
    "#,
    )
    .await;
    let v = call(&rt, vec![Value::Int(BIG)]).await;
    assert_fields(
        &v,
        &[
            ("aes", "28 true"),
            ("chacha20", "28 true"),
            ("aes_tampered", "err Internal: decryption failed"),
            ("chacha20_tampered", "err Internal: decryption failed"),
            ("compare", "true false"),
        ],
    );
}

#[tokio::test]
async fn crypto_is_bound_only_by_modules() {
    let index = "namespace: t\nentries:\n  - name: f\n    kind: function.lua\n    source: file://f.lua\n    method: f\n";
    let src = "return {f = function() local ok, err = pcall(require, 'crypto') return tostring(ok) .. ' ' .. tostring(err) end}";
    let dir = app(&[("src/_index.yaml", index), ("src/f.lua", src)]);
    let rt = boot_dir(dir.path())
        .await
        .unwrap_or_else(|e| panic!("boot failed:\n{e}"));
    let got = rt
        .functions
        .call(&rt.root_context(), "t:f", vec![])
        .await
        .unwrap();
    let got = got.as_str().unwrap();
    assert!(
        got.starts_with("false") && got.contains("module 'crypto' not found"),
        "{got}"
    );
}
