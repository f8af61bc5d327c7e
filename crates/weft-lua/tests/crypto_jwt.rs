//! The `crypto` module's `jwt.encode` and `jwt.verify` end to end.
//!
//! Expected tokens come from outside weft: jwt.io's example and PyJWT 2.15; the RSA
//! keys were made by `openssl`.

mod common;
mod crypto_support;

use crypto_support::{assert_fields, boot, call, run, s, text};
use weft_core::Value;

// ---------------------------------------------------------------- JWT

/// Tokens PyJWT 2.15 made (`jwt.encode(claims, "secret", algorithm=...)`, RS256 with
/// [`RSA_PKCS8`]) for the claims `{admin = true, exp = 4102444800, meta = {level = 3,
/// tags = {"a", "b"}}, name = "Ann", sub = "user123"}`; HS256 with header `kid: key-id`.
const PY_HS256_KID: &str = "eyJhbGciOiJIUzI1NiIsImtpZCI6ImtleS1pZCIsInR5cCI6IkpXVCJ9.eyJhZG1pbiI6dHJ1ZSwiZXhwIjo0MTAyNDQ0ODAwLCJtZXRhIjp7ImxldmVsIjozLCJ0YWdzIjpbImEiLCJiIl19LCJuYW1lIjoiQW5uIiwic3ViIjoidXNlcjEyMyJ9.X5c_Lo88EG87UE3WtXkf7h5evC2nCK9KWMwWrpk6mLs";
const PY_HS384: &str = "eyJhbGciOiJIUzM4NCIsInR5cCI6IkpXVCJ9.eyJhZG1pbiI6dHJ1ZSwiZXhwIjo0MTAyNDQ0ODAwLCJtZXRhIjp7ImxldmVsIjozLCJ0YWdzIjpbImEiLCJiIl19LCJuYW1lIjoiQW5uIiwic3ViIjoidXNlcjEyMyJ9.c0KirNUuOYGv8U8JRmCBGA51Ea0Ya9VQ9RlvxBWwlL3GJrHPRJYXAHZrq0uqjYyB";
const PY_HS512: &str = "eyJhbGciOiJIUzUxMiIsInR5cCI6IkpXVCJ9.eyJhZG1pbiI6dHJ1ZSwiZXhwIjo0MTAyNDQ0ODAwLCJtZXRhIjp7ImxldmVsIjozLCJ0YWdzIjpbImEiLCJiIl19LCJuYW1lIjoiQW5uIiwic3ViIjoidXNlcjEyMyJ9.4lNXpbzZhfyYg5aAl9oAS39TXIEzm-dShuCxqylzUoA99Iw-l6iIcEH8TZcN2_65aMbZcelNrTXFuMV6aH0zpA";
const PY_RS256: &str = "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJhZG1pbiI6dHJ1ZSwiZXhwIjo0MTAyNDQ0ODAwLCJtZXRhIjp7ImxldmVsIjozLCJ0YWdzIjpbImEiLCJiIl19LCJuYW1lIjoiQW5uIiwic3ViIjoidXNlcjEyMyJ9.cf3_p0c_LGoEFSY3_K7_UGxicwaLdJDpsSXRg6PDMFpaWVEt6M0lUe_KKXizdlrDQhnHr9ujTK7avCeNPJDvKy6T-aedWR4uybefIxDZg1l7uA8Dt9QE82qdBAtaMGHFQKVIc5FmkFSi5Bin1znTrpPr4UpCjLydi7wAhQ3P9UPddnMDxok_srqf86SH4VPCS2H9hljSWKH8qqvYD5YcqweNJwRVVaQZqjErVwYfpBzRHVWXwT6ObJfZgV3L_WnVI83tU_yLAGoKw3Z4mM2mIZvzq81yttf1whrKX8wLDljOIfgP2gk4kuO0AIFFUMoqvcH-TxHwYV8RyLeH2FR76Q";
/// The same claims signed with another RSA key.
const PY_RS256_OTHER_KEY: &str = "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJhZG1pbiI6dHJ1ZSwiZXhwIjo0MTAyNDQ0ODAwLCJtZXRhIjp7ImxldmVsIjozLCJ0YWdzIjpbImEiLCJiIl19LCJuYW1lIjoiQW5uIiwic3ViIjoidXNlcjEyMyJ9.DvZuLAGK9RPWLyXVFFsoqs56zrbdEaib55Qx1qeOrGTfsPnMZSJNaH19JcvrLqDEZMBo7kVn0JSo36623pZIvwDv2Qe6dRg0j4wQtcHdyuMgU4inD8Z5epD0wmuuU0hveWr5l5SdQTRPlSAq1pW10YqfHmri_-45Kcm4LaciK7z45MmVIF6b1NIV7swZbNBvnoYMJpHwSi8FhgY4ILbVf1kYMR1YjslFyM_7LB2O3_KAES0TVuVTj54OsO4KIXAhPEj_0N5KYVhyqLyTRztpnHNrdSFWupsvnlzLIUkRDRFB5VFzXDiSwhRcVBc0dqUKXOx-gZhoe7FlNCznsRVhbA";
/// More PyJWT tokens (HS256, "secret"): `{exp = 1000000000, sub = "old"}`,
/// `{exp = 4102444801, nbf = 4102444800, sub = "later"}`, `{sub = "forever"}`,
/// `{exp = 4102444800.5, sub = "f"}`, `{exp = "never", sub = "s"}`,
/// `{aud = "svc", exp = 4102444800, iss = "me"}`, and an unsigned (`alg: none`) one.
const PY_EXPIRED: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJleHAiOjEwMDAwMDAwMDAsInN1YiI6Im9sZCJ9.I-938PKsG1f6UcyF5BYIDcMpwGylfHu9WF6zRd12g3s";
const PY_NOT_YET: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJleHAiOjQxMDI0NDQ4MDEsIm5iZiI6NDEwMjQ0NDgwMCwic3ViIjoibGF0ZXIifQ.KHKbrOJlSZHwP9MIMxDhGNEuVGytQdHiDM_dbskJqOY";
const PY_NO_EXP: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJmb3JldmVyIn0.nMgPV9p6sFvCNjHUn0mwDsgSLVHI6-zXIf-mR3G7Tm8";
const PY_FLOAT_EXP: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJleHAiOjQxMDI0NDQ4MDAuNSwic3ViIjoiZiJ9.gl00Er9c15dGa24drjEUci-qQKmLtQ9JbZhGcD2lrPk";
const PY_TEXT_EXP: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJleHAiOiJuZXZlciIsInN1YiI6InMifQ.UgAFjmupu8hXPDee8DFIoIL33yW2Wbt6vv5PjsZau9c";
const PY_AUD: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJhdWQiOiJzdmMiLCJleHAiOjQxMDI0NDQ4MDAsImlzcyI6Im1lIn0.RBfd2uIzU-7GiScLSMOlz1CnlAQEtCk6Zu_S3RCSSQE";
const PY_NONE: &str = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJleHAiOjQxMDI0NDQ4MDAsInN1YiI6Im4ifQ.";
/// jwt.io's example token (secret `your-256-bit-secret`).
const JWT_IO: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c";

/// The claims of the PyJWT tokens above, as Lua.
const CLAIMS: &str = r#"{admin = true, exp = 4102444800, meta = {level = 3, tags = {"a", "b"}}, name = "Ann", sub = "user123"}"#;

#[tokio::test]
async fn jwt_encode_makes_the_tokens_pyjwt_makes() {
    let (_dir, rt) = boot(&format!(
        r#"
      local pk8, pk1 = ...
      local function claims(header)
        local c = {CLAIMS}
        c._header = header
        return c
      end
      return {{
        hs256_kid = crypto.jwt.encode(claims({{kid = "key-id"}}), "secret"),
        hs256_kid_named = crypto.jwt.encode(claims({{kid = "key-id"}}), "secret", "HS256"),
        hs384 = crypto.jwt.encode(claims(), "secret", "HS384"),
        hs512 = crypto.jwt.encode(claims(), "secret", "HS512"),
        rs256_pkcs8 = crypto.jwt.encode(claims(), pk8, "RS256"),
        rs256_pkcs1 = crypto.jwt.encode(claims(), pk1, "RS256"),
        empty = crypto.jwt.encode({{}}, "secret"),
        header_alg_same = crypto.jwt.encode(claims({{alg = "HS384"}}), "secret", "HS384"),
      }}
    "#
    ))
    .await;
    let v = call(&rt, vec![s(RSA_PKCS8), s(RSA_PKCS1)]).await;
    assert_eq!(text(&v, "hs256_kid"), PY_HS256_KID);
    assert_eq!(text(&v, "hs256_kid_named"), PY_HS256_KID);
    assert_eq!(text(&v, "hs384"), PY_HS384);
    assert_eq!(text(&v, "hs512"), PY_HS512);
    assert_eq!(text(&v, "rs256_pkcs8"), PY_RS256);
    assert_eq!(text(&v, "rs256_pkcs1"), PY_RS256);
    assert_eq!(text(&v, "header_alg_same"), PY_HS384);
    // PyJWT's `jwt.encode({}, "secret")`.
    assert_eq!(
        text(&v, "empty"),
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.e30.t-IDcSemACt8x4iTMCda8Yhe3iZaWbvV5XKSTbuAn0M"
    );
}

#[tokio::test]
async fn jwt_verify_reads_pyjwt_and_jwt_io_tokens() {
    let (_dir, rt) = boot(
        r#"
      local token, key, alg, require_exp = ...
      local claims, err = crypto.jwt.verify(token, key, alg, require_exp)
      if err then return "err " .. err:kind() .. ": " .. err:message() end
      return claims
    "#,
    )
    .await;
    let want = |v: &Value| {
        assert_eq!(
            v.get("sub").and_then(Value::as_str),
            Some("user123"),
            "{v:?}"
        );
        assert_eq!(v.get("admin"), Some(&Value::Bool(true)));
        assert_eq!(v.get("exp"), Some(&Value::Int(4102444800)));
        assert_eq!(v.get_path("meta.level"), Some(&Value::Int(3)));
        assert_eq!(
            v.get_path("meta.tags")
                .and_then(Value::as_array)
                .map(<[_]>::len),
            Some(2)
        );
        assert!(v.get("_header").is_none());
    };
    for (token, key, alg) in [
        (PY_HS256_KID, "secret", Value::Nil),
        (PY_HS256_KID, "secret", s("HS256")),
        (PY_HS384, "secret", s("HS384")),
        (PY_HS512, "secret", s("HS512")),
        (PY_RS256, RSA_PUBLIC, s("RS256")),
        (PY_RS256, RSA_PUBLIC_PKCS1, s("RS256")),
    ] {
        want(&call(&rt, vec![s(token), s(key), alg]).await);
    }
    let io = call(
        &rt,
        vec![
            s(JWT_IO),
            s("your-256-bit-secret"),
            Value::Nil,
            Value::Bool(false),
        ],
    )
    .await;
    assert_eq!(io.get("name").and_then(Value::as_str), Some("John Doe"));
    assert_eq!(io.get("sub").and_then(Value::as_str), Some("1234567890"));
    assert_eq!(io.get("iat"), Some(&Value::Int(1516239022)));
    let no_exp = call(
        &rt,
        vec![s(PY_NO_EXP), s("secret"), s("HS256"), Value::Bool(false)],
    )
    .await;
    assert_eq!(no_exp.get("sub").and_then(Value::as_str), Some("forever"));
    let float_exp = call(&rt, vec![s(PY_FLOAT_EXP), s("secret")]).await;
    assert_eq!(float_exp.get("exp"), Some(&Value::Float(4102444800.5)));
    // aud and iss are returned, not checked.
    let aud = call(&rt, vec![s(PY_AUD), s("secret")]).await;
    assert_eq!(aud.get("aud").and_then(Value::as_str), Some("svc"));
}

#[tokio::test]
async fn jwt_verify_rejects_bad_tokens() {
    let (_dir, rt) = boot(
        r#"
      local token, key, alg, require_exp = ...
      return try(crypto.jwt.verify, token, key, alg, require_exp)
    "#,
    )
    .await;
    let tampered_payload = {
        let parts: Vec<&str> = PY_HS256_KID.split('.').collect();
        // {"sub":"admin"} instead of the signed claims.
        format!("{}.eyJzdWIiOiJhZG1pbiJ9.{}", parts[0], parts[2])
    };
    let tampered_signature = {
        let parts: Vec<&str> = PY_HS512.split('.').collect();
        // The signature's first character is "4".
        format!("{}.{}.5{}", parts[0], parts[1], &parts[2][1..])
    };
    let cases: Vec<(Vec<Value>, &str)> = vec![
        (
            vec![s(PY_EXPIRED), s("secret")],
            "err Internal: token expired",
        ),
        (
            vec![s(PY_EXPIRED), s("secret"), Value::Nil, Value::Bool(false)],
            "err Internal: token expired",
        ),
        (
            vec![s(PY_NOT_YET), s("secret")],
            "err Internal: token not valid yet",
        ),
        (
            vec![s(PY_NO_EXP), s("secret")],
            "err Internal: token has no exp claim (required)",
        ),
        (
            vec![s(PY_NO_EXP), s("secret"), s("HS256"), Value::Bool(true)],
            "err Internal: token has no exp claim",
        ),
        (
            vec![s(JWT_IO), s("your-256-bit-secret")],
            "err Internal: token has no exp claim",
        ),
        (
            vec![s(PY_TEXT_EXP), s("secret"), Value::Nil, Value::Bool(false)],
            "err Internal: exp claim must be a number",
        ),
        (
            vec![s(PY_HS256_KID), s("wrong")],
            "err Internal: signature invalid",
        ),
        (
            vec![s(tampered_payload.as_str()), s("secret")],
            "err Internal: signature invalid",
        ),
        (
            vec![s(tampered_signature.as_str()), s("secret"), s("HS512")],
            "err Internal: signature invalid",
        ),
        (
            vec![s(PY_HS384), s("secret")],
            "err Internal: algorithm mismatch: token is signed with HS384, expected HS256",
        ),
        (
            vec![s(PY_HS256_KID), s("secret"), s("HS512")],
            "err Internal: algorithm mismatch: token is signed with HS256, expected HS512",
        ),
        (
            vec![s(PY_RS256), s(RSA_PUBLIC)],
            "err Internal: algorithm mismatch: token is signed with RS256, expected HS256",
        ),
        (
            vec![s(PY_HS256_KID), s(RSA_PUBLIC), s("RS256")],
            "err Internal: algorithm mismatch: token is signed with HS256, expected RS256",
        ),
        (
            vec![s(PY_RS256_OTHER_KEY), s(RSA_PUBLIC), s("RS256")],
            "err Internal: signature invalid",
        ),
        (
            vec![s(PY_RS256), s(OTHER_PUBLIC), s("RS256")],
            "err Internal: signature invalid",
        ),
        (
            vec![s(PY_RS256), s("not a pem"), s("RS256")],
            "err Internal: invalid RSA public key",
        ),
        (
            vec![s(PY_RS256), s(EC_PKCS8), s("RS256")],
            "err Internal: invalid RSA public key",
        ),
        (
            vec![s(PY_NONE), s("secret")],
            "err Internal: token format invalid",
        ),
        (
            vec![s(""), s("secret")],
            "err Internal: token format invalid",
        ),
        (
            vec![s("abc"), s("secret")],
            "err Internal: token format invalid",
        ),
        (
            vec![s("a.b.c"), s("secret")],
            "err Internal: token format invalid",
        ),
        (
            vec![s("a.b.c.d"), s("secret")],
            "err Internal: token format invalid",
        ),
        (
            vec![Value::bytes(&b"\xff\xfe.\x00.\x01"[..]), s("secret")],
            "err Internal: token format invalid",
        ),
        (
            vec![s(PY_HS256_KID), s("")],
            "err Invalid: key cannot be empty",
        ),
        (
            vec![s(PY_HS256_KID), s("secret"), s("none")],
            "err Invalid: unsupported algorithm \"none\" (supported: HS256, HS384, HS512, RS256)",
        ),
        (
            vec![s(PY_HS256_KID), s("secret"), s("ES256")],
            "err Invalid: unsupported algorithm \"ES256\"",
        ),
        (
            vec![s(PY_HS256_KID), s("secret"), s("hs256")],
            "err Invalid: unsupported algorithm \"hs256\"",
        ),
    ];
    for (args, want) in cases {
        let got = call(&rt, args.clone()).await;
        let got = got.as_str().unwrap_or_default().to_string();
        assert!(
            got.starts_with(want),
            "{args:?}:\n got {got:?}\nwant {want:?}..."
        );
    }
}

#[tokio::test]
async fn jwt_encode_rejects_bad_payloads_and_keys() {
    let (_dir, rt) = boot(
        r#"
      local pub, ec, small = ...
      local e = crypto.jwt.encode
      return {
        string_payload = try(e, "claims", "secret"),
        nil_payload = try(e, nil, "secret"),
        array_payload = try(e, {"a", "b"}, "secret"),
        mixed_payload = try(e, {1, a = 2}, "secret"),
        function_claim = try(e, {f = function() end}, "secret"),
        cyclic_claim = (function() local t = {} t.self = t return try(e, {t = t}, "secret") end)(),
        header_string = try(e, {sub = "x", _header = "kid"}, "secret"),
        header_array = try(e, {sub = "x", _header = {"kid"}}, "secret"),
        header_alg = try(e, {sub = "x", _header = {alg = "none"}}, "secret"),
        header_alg_other = try(e, {sub = "x", _header = {alg = "HS512"}}, "secret", "HS256"),
        empty_key = try(e, {sub = "x"}, ""),
        unsupported = try(e, {sub = "x"}, "secret", "none"),
        number_alg = try(e, {sub = "x"}, "secret", 256),
        garbage_rsa = try(e, {sub = "x"}, "not a pem", "RS256"),
        public_as_private = try(e, {sub = "x"}, pub, "RS256"),
        ec_key = try(e, {sub = "x"}, ec, "RS256"),
        small_rsa = try(e, {sub = "x"}, small, "RS256"),
      }
    "#,
    )
    .await;
    let v = call(&rt, vec![s(RSA_PUBLIC), s(EC_PKCS8), s(RSA_1024)]).await;
    assert_fields(
        &v,
        &[
            (
                "string_payload",
                "err Invalid: payload must be a table, got string",
            ),
            (
                "nil_payload",
                "err Invalid: payload must be a table, got nil",
            ),
            (
                "array_payload",
                "err Invalid: payload must have string keys (a JSON object)",
            ),
            (
                "mixed_payload",
                "err Invalid: payload: cannot encode a table with mixed",
            ),
            (
                "function_claim",
                "err Invalid: payload: cannot encode function to JSON",
            ),
            (
                "cyclic_claim",
                "err Invalid: payload: cannot encode a recursive table",
            ),
            (
                "header_string",
                "err Invalid: payload._header must be a table, got string",
            ),
            (
                "header_array",
                "err Invalid: payload._header: cannot encode a table with mixed",
            ),
            (
                "header_alg",
                "err Invalid: payload._header.alg (none) differs from the signing algorithm HS256",
            ),
            (
                "header_alg_other",
                "err Invalid: payload._header.alg (HS512) differs",
            ),
            ("empty_key", "err Invalid: key cannot be empty"),
            ("unsupported", "err Invalid: unsupported algorithm \"none\""),
            ("number_alg", "err Invalid: unsupported algorithm \"256\""),
            ("garbage_rsa", "err Invalid: invalid RSA private key"),
            ("public_as_private", "err Invalid: invalid RSA private key"),
            ("ec_key", "err Invalid: invalid RSA private key"),
            // ring signs only with keys of 2048 bits or more.
            ("small_rsa", "err Invalid: invalid RSA private key"),
        ],
    );
}

#[tokio::test]
async fn jwt_round_trips_with_a_header_and_the_expiry_rules() {
    let v = run(r#"
      local out = {}
      local now = os.time()
      local token = assert(crypto.jwt.encode({sub = "u", exp = now + 3600, n = 1.5, _header = {kid = "k1", typ = "at+jwt"}}, "s3cret", "HS512"))
      local claims = assert(crypto.jwt.verify(token, "s3cret", "HS512"))
      out.claims = claims.sub .. " " .. claims.n .. " " .. tostring(claims.exp == now + 3600) .. " " .. tostring(claims._header)
      local header = token:match("^([^.]+)")
      out.header = header
      out.expired = try(crypto.jwt.verify, crypto.jwt.encode({exp = now - 1}, "k"), "k")
      out.expires_now = try(crypto.jwt.verify, crypto.jwt.encode({exp = now}, "k"), "k")
      out.not_before = try(crypto.jwt.verify, crypto.jwt.encode({exp = now + 60, nbf = now + 30}, "k"), "k")
      out.started = crypto.jwt.verify(crypto.jwt.encode({exp = now + 60, nbf = now - 1}, "k"), "k").nbf == now - 1
      out.empty = try(crypto.jwt.verify, crypto.jwt.encode({}, "k"), "k")
      out.empty_no_exp = next(crypto.jwt.verify(crypto.jwt.encode({}, "k"), "k", nil, false)) == nil
      return out
    "#)
    .await;
    assert_fields(
        &v,
        &[
            ("claims", "u 1.5 true nil"),
            ("expired", "err Internal: token expired"),
            ("expires_now", "err Internal: token expired"),
            ("not_before", "err Internal: token not valid yet"),
            ("empty", "err Internal: token has no exp claim"),
        ],
    );
    // {"alg":"HS512","kid":"k1","typ":"at+jwt"}
    assert_eq!(
        text(&v, "header"),
        "eyJhbGciOiJIUzUxMiIsImtpZCI6ImsxIiwidHlwIjoiYXQrand0In0"
    );
    assert_eq!(v.get("started"), Some(&Value::Bool(true)));
    assert_eq!(v.get("empty_no_exp"), Some(&Value::Bool(true)));
}

// ---------------------------------------------------------------- keys

// Made by `openssl genrsa 2048` (and `openssl rsa -traditional / -pubout /
// -RSAPublicKey_out` for the other forms of the same key), `openssl genrsa 1024` and
// `openssl ecparam -name prime256v1 -genkey | openssl pkcs8 -topk8 -nocrypt`.
const RSA_PKCS8: &str = include_str!("crypto_support/keys/rsa_pkcs8.pem");
const RSA_PKCS1: &str = include_str!("crypto_support/keys/rsa_pkcs1.pem");
const RSA_PUBLIC: &str = include_str!("crypto_support/keys/rsa_public.pem");
const RSA_PUBLIC_PKCS1: &str = include_str!("crypto_support/keys/rsa_public_pkcs1.pem");
const OTHER_PUBLIC: &str = include_str!("crypto_support/keys/other_public.pem");
const RSA_1024: &str = include_str!("crypto_support/keys/rsa_1024.pem");
const EC_PKCS8: &str = include_str!("crypto_support/keys/ec_pkcs8.pem");
