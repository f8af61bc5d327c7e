//! The Lua `http_client` module against real servers on loopback (the test server of
//! weft-http's client tests): every option, the response table, the return
//! conventions, the checks (redirect targets included), batches, streams.
//!
//! Most tests run on a current-thread runtime that also serves the test server: a
//! request that blocked its thread instead of yielding would never be answered.

mod common;

#[path = "../../weft-http/src/client/tests/server.rs"]
mod server;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{app, boot_dir};
use weft_core::{Actor, CallContext, Decision, EntryId, Map, Policy, Scope, Value};
use weft_runtime::Runtime;

const APP: &str = r#"
namespace: t
entries:
  - name: eval
    kind: function.lua
    source: |
      return {run = function(code, base, extra)
        local f = assert(load(code))
        return f(base, extra)
      end}
    method: run
    modules: [http_client, json, stream]
"#;

async fn boot() -> (tempfile::TempDir, Arc<Runtime>) {
    let dir = app(&[("src/_index.yaml", APP)]);
    match boot_dir(dir.path()).await {
        Ok(rt) => (dir, rt),
        Err(e) => panic!("boot failed:\n{e}"),
    }
}

/// Denies `action` on resources containing the substring; allows the rest.
struct Deny(Vec<(&'static str, &'static str)>, EntryId);

impl Policy for Deny {
    fn id(&self) -> &EntryId {
        &self.1
    }

    fn evaluate(&self, _: &Actor, action: &str, resource: &str, _: Option<&Map>) -> Decision {
        if self
            .0
            .iter()
            .any(|(a, needle)| *a == action && resource.contains(needle))
        {
            Decision::Deny
        } else {
            Decision::Allow
        }
    }
}

fn denying(rt: &Runtime, rules: Vec<(&'static str, &'static str)>) -> CallContext {
    let policy: Arc<dyn Policy> = Arc::new(Deny(rules, EntryId::new("t", "deny")));
    rt.root_context()
        .with_actor(Some(Actor::new("tester", Map::new())))
        .with_scope(Some(Scope::new([policy])))
}

/// Runs `code` (a chunk getting `base` and `extra` as `...`) in `cx`; its result as text.
async fn run_in(rt: &Runtime, cx: &CallContext, code: &str, base: &str, extra: &str) -> String {
    let args = vec![Value::str(code), Value::str(base), Value::str(extra)];
    match rt.functions.call(cx, "t:eval", args).await {
        Ok(v) => v.to_display_string(),
        Err(e) => format!("raised: {} {}", e.kind(), e.message()),
    }
}

async fn run(rt: &Runtime, code: &str, base: &str) -> String {
    run_in(rt, &rt.root_context(), code, base, "").await
}

#[tokio::test]
async fn every_request_option_reaches_the_server() {
    let (_d, rt) = boot().await;
    let srv = server::start().await;
    let code = r#"
        local base = ...
        local resp, err = http_client.post(base .. "/echo?z=9&b=old", {
          headers = {["X-Num"] = 42, ["X-Float"] = 1.5, ["x-text"] = "t"},
          body = "raw body",
          query = {b = "new value", n = 7},
          cookies = {session = "abc"},
          auth = {user = "ann", pass = "secret"},
        })
        assert(resp, tostring(err))
        local e = json.decode(resp.body)
        return table.concat({resp.status_code, e.method, e.query, e.body,
          e.headers["x-num"][1], e.headers["x-float"][1], e.headers["x-text"][1],
          e.headers.cookie[1], e.headers.authorization[1], resp.headers["Content-Type"],
          resp.url == base .. "/echo?b=new+value&n=7&z=9" and "url ok" or resp.url}, "|")
    "#;
    assert_eq!(
        run(&rt, code, &srv.base).await,
        "200|POST|b=new+value&n=7&z=9|raw body|42|1.5|t|session=abc|Basic YW5uOnNlY3JldA==|application/json|url ok"
    );
    // form: urlencoded with sorted keys and one Content-Type even when the caller sets it.
    let code = r#"
        local resp = assert(http_client.request("put", (...) .. "/echo", {
          form = {z = "last", a = "x y"},
          headers = {["Content-Type"] = "application/x-www-form-urlencoded; charset=utf-8"},
        }))
        local e = json.decode(resp.body)
        return table.concat({e.method, e.body, #e.headers["content-type"], e.headers["content-type"][1]}, "|")
    "#;
    assert_eq!(
        run(&rt, code, &srv.base).await,
        "PUT|a=x+y&z=last|1|application/x-www-form-urlencoded; charset=utf-8"
    );
}

#[tokio::test]
async fn the_response_table_has_canonical_headers_cookies_and_no_empty_body() {
    let (_d, rt) = boot().await;
    let srv = server::start().await;
    let code = r#"
        local base = ...
        local h = assert(http_client.get(base .. "/headers"))
        local c = assert(http_client.get(base .. "/cookies"))
        local e = assert(http_client.get(base .. "/empty"))
        local s = assert(http_client.get(base .. "/status/404"))
        local hd = assert(http_client.head(base .. "/big?n=5"))
        return table.concat({h.headers["X-Custom-Header"], h.headers["Www-Authenticate"],
          h.headers["X-Ssl"], tostring(h.headers["x-custom-header"]),
          c.cookies.a, c.cookies.b, tostring(h.cookies),
          tostring(e.body), e.body_size, s.status_code, s.body,
          tostring(hd.body), hd.headers["Content-Length"]}, "|")
    "#;
    assert_eq!(
        run(&rt, code, &srv.base).await,
        "one|Basic|on|nil|1|two|nil|nil|0|404|status 404|nil|5"
    );
}

#[tokio::test]
async fn empty_urls_and_methods_raise_and_bad_options_return_invalid() {
    let (_d, rt) = boot().await;
    for (code, want) in [
        ("return http_client.get('')", "raised: Invalid URL required"),
        (
            "return http_client.post(nil)",
            "raised: Invalid URL required",
        ),
        (
            "return http_client.request('', 'http://x/')",
            "raised: Invalid method required",
        ),
        (
            "return http_client.request_batch({})",
            "raised: Invalid requests table cannot be empty",
        ),
    ] {
        assert_eq!(run(&rt, code, "").await, want, "{code}");
    }
    let srv = server::start().await;
    for (opts, want) in [
        (
            "{headers = {X = true}}",
            "Invalid headers.X must be a string or a number, got boolean",
        ),
        (
            "{query = {q = {}}}",
            "Invalid query.q must be a string or a number, got table",
        ),
        ("{timeout = 'soon'}", "Invalid timeout: "),
        ("{timeout = -1}", "Invalid timeout cannot be negative: -1"),
        (
            "{stream = 'yes'}",
            "Invalid stream must be a boolean, got string",
        ),
        (
            "{max_response_body = 1.5}",
            "Invalid max_response_body must be",
        ),
        (
            "{files = {{content = 'x'}}}",
            "Invalid files[1].name is required",
        ),
        (
            "{files = {{name = 'f'}}}",
            "Invalid files[1] needs content or reader",
        ),
        (
            "{overlay_network = 'n'}",
            "Invalid overlay_network is not supported",
        ),
        ("'nope'", "Invalid options must be a table, got string"),
        (
            "{tls = {ca = 'junk'}}",
            "Invalid tls.ca: no PEM certificate found",
        ),
    ] {
        let code = format!(
            "local r, err = http_client.get((...) .. '/echo', {opts})
             return tostring(r) .. ' ' .. err:kind() .. ' ' .. err:message()"
        );
        let got = run(&rt, &code, &srv.base).await;
        assert!(got.starts_with(&format!("nil {want}")), "{opts}: {got}");
    }
    let code = "local r, err = http_client.get('ftp://x/') return err:kind()";
    assert_eq!(run(&rt, code, "").await, "Invalid");
}

#[tokio::test]
async fn timeouts_take_seconds_with_fractions_or_duration_strings() {
    let (_d, rt) = boot().await;
    let srv = server::start().await;
    for timeout in ["0.2", "'200ms'"] {
        let started = Instant::now();
        let code = format!(
            "local r, err = http_client.get((...) .. '/slow?ms=3000', {{timeout = {timeout}}})
             return err:kind()"
        );
        assert_eq!(run(&rt, &code, &srv.base).await, "Timeout", "{timeout}");
        assert!(started.elapsed() < Duration::from_millis(1500), "{timeout}");
    }
    for timeout in ["2.5", "math.maxinteger"] {
        let code =
            format!("return http_client.get((...) .. '/slow?ms=10', {{timeout = {timeout}}}).body");
        assert_eq!(run(&rt, &code, &srv.base).await, "slow", "{timeout}");
    }
    for timeout in ["1e300", "0/0", "math.huge"] {
        let code = format!(
            "local r, err = http_client.get((...) .. '/slow', {{timeout = {timeout}}})
             return err:kind() .. ' ' .. err:message()"
        );
        let got = run(&rt, &code, &srv.base).await;
        assert!(
            got.starts_with("Invalid timeout is out of range"),
            "{timeout}: {got}"
        );
    }
}

#[tokio::test]
async fn max_response_body_caps_what_is_read() {
    let (_d, rt) = boot().await;
    let srv = server::start().await;
    let code = r#"
        local base = ...
        local r, err = http_client.get(base .. "/big-chunked?n=5000", {max_response_body = 4096})
        local ok = http_client.get(base .. "/big?n=4096", {max_response_body = 4096})
        return tostring(r) .. "|" .. tostring(err) .. "|" .. ok.body_size
    "#;
    assert_eq!(
        run(&rt, code, &srv.base).await,
        "nil|response body too large (max 4096 bytes)|4096"
    );
}

#[tokio::test]
async fn redirect_targets_are_checked_and_private_ips_need_permission() {
    let (_d, rt) = boot().await;
    let srv = server::start().await;
    let code = r#"
        local base, target = ...
        local r, err = http_client.get(base .. "/redirect?to=" .. http_client.encode_uri(target))
        if r then return "followed " .. r.status_code end
        return err:kind() .. "|" .. err:message()
    "#;
    let target = format!("{}/forbidden", srv.base);
    let cx = denying(&rt, vec![("http_client.request", "/forbidden")]);
    assert_eq!(
        run_in(&rt, &cx, code, &srv.base, &target).await,
        format!("PermissionDenied|not allowed: http_client.request on {target}")
    );
    let allowed = format!("{}/echo", srv.base);
    assert_eq!(
        run_in(&rt, &cx, code, &srv.base, &allowed).await,
        "followed 200"
    );
    let cx = denying(&rt, vec![("http_client.private_ip", "127.0.0.1")]);
    assert_eq!(
        run_in(&rt, &cx, code, &srv.base, &allowed).await,
        "PermissionDenied|not allowed: http_client.private_ip on 127.0.0.1"
    );
}

#[tokio::test]
async fn unix_sockets_are_used_and_checked() {
    let (_d, rt) = boot().await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.sock");
    server::start_unix(&path).await;
    let socket = path.to_str().unwrap();
    let code = r#"
        local _, socket = ...
        local r, err = http_client.get("http://localhost/echo?via=unix", {unix_socket = socket})
        if not r then return err:kind() .. "|" .. err:message() end
        return json.decode(r.body).query
    "#;
    assert_eq!(
        run_in(&rt, &rt.root_context(), code, "", socket).await,
        "via=unix"
    );
    let cx = denying(&rt, vec![("http_client.unix_socket", "s.sock")]);
    assert_eq!(
        run_in(&rt, &cx, code, "", socket).await,
        format!("PermissionDenied|not allowed: http_client.unix_socket on {socket}")
    );
}

#[tokio::test]
async fn batches_run_concurrently_with_errors_in_place() {
    let (_d, rt) = boot().await;
    let srv = server::start().await;
    let started = Instant::now();
    let code = r#"
        local base = ...
        local rs, errs = http_client.request_batch({
          {"GET", base .. "/slow?ms=400"},
          {"get", base .. "/slow?ms=400", {timeout = 5}},
          {"POST", "http://127.0.0.1:1/refused"},
        })
        local ok, none = http_client.request_batch({{"GET", base .. "/empty"}})
        return table.concat({rs[1].body, rs[2].body, tostring(rs[3]), tostring(errs[1]),
          errs[3]:kind(), tostring(errs[3]:retryable()), ok[1].status_code, tostring(none)}, "|")
    "#;
    assert_eq!(
        run(&rt, code, &srv.base).await,
        "slow|slow|nil|nil|Internal|true|200|nil"
    );
    assert!(
        started.elapsed() < Duration::from_millis(750),
        "{:?}",
        started.elapsed()
    );
    let code = r#"
        local base = ...
        local results = {}
        for _, list in ipairs({
          {{"GET", base .. "/echo"}, "not a table"},
          {{1, base}},
          {{"GET", 2}},
          {{"GET", base, {stream = true}}},
          {{"GET", base .. "/echo"}, {"GET", base .. "/second"}},
        }) do
          local rs, err = http_client.request_batch(list)
          results[#results + 1] = tostring(rs) .. " " .. err:kind() .. " " .. err:message()
        end
        return table.concat(results, "|")
    "#;
    let cx = denying(&rt, vec![("http_client.request", "/second")]);
    assert_eq!(
        run_in(&rt, &cx, code, &srv.base, "").await,
        format!(
            "nil Invalid each request must be a table|nil Invalid method must be a string|\
             nil Invalid URL must be a string|nil Invalid streaming not supported in batch requests|\
             nil PermissionDenied not allowed: http_client.request on {}/second",
            srv.base
        )
    );
}

#[tokio::test]
async fn multipart_files_honour_content_types_and_readers() {
    let (_d, rt) = boot().await;
    let srv = server::start().await;
    let code = r#"
        local base = ...
        local src = assert(http_client.get(base .. "/drip?chunks=3&ms=10", {stream = true}))
        local r = assert(http_client.post(base .. "/raw", {
          form = {field = "v"},
          files = {
            {name = "doc", filename = "a.json", content = "{\"x\":1}", content_type = "application/json"},
            {name = "streamed", filename = "s.txt", reader = src.stream},
          },
        }))
        local ct = r.headers["X-Request-Content-Type"]
        local prefix = "multipart/form-data; boundary="
        assert(ct:sub(1, #prefix) == prefix, ct)
        local boundary = ct:sub(#prefix + 1)
        local expected = "--" .. boundary .. "\r\nContent-Disposition: form-data; name=\"field\"\r\n\r\nv\r\n" ..
          "--" .. boundary .. "\r\nContent-Disposition: form-data; name=\"doc\"; filename=\"a.json\"\r\n" ..
          "Content-Type: application/json\r\n\r\n{\"x\":1}\r\n" ..
          "--" .. boundary .. "\r\nContent-Disposition: form-data; name=\"streamed\"; filename=\"s.txt\"\r\n" ..
          "Content-Type: application/octet-stream\r\n\r\nchunk0\nchunk1\nchunk2\n\r\n" ..
          "--" .. boundary .. "--\r\n"
        return r.body == expected and "intact" or r.body
    "#;
    assert_eq!(run(&rt, code, &srv.base).await, "intact");
}

#[tokio::test]
async fn streamed_bodies_are_stream_objects() {
    let (_d, rt) = boot().await;
    let srv = server::start().await;
    let code = r#"
        local base = ...
        local r = assert(http_client.get(base .. "/drip?chunks=4&ms=20", {stream = true}))
        local s = r.stream
        local out = {tostring(r.body), r.body_size, s:read(3), s:read()}
        local st = s:stat()
        out[#out + 1] = st.position .. " " .. st.size .. " " .. tostring(st.readable) .. tostring(st.writable) .. tostring(st.seekable)
        local sc = s:scanner("lines")
        while sc:scan() do out[#out + 1] = sc:text() end
        out[#out + 1] = tostring(s:read(10))
        local n, werr = s:write("x")
        out[#out + 1] = n .. " " .. werr:message()
        out[#out + 1] = tostring(s:close()) .. tostring(s:close())
        local data, rerr = s:read(1)
        out[#out + 1] = tostring(data) .. " " .. rerr:kind() .. " " .. rerr:message()
        local _, serr = s:scanner("nope")
        out[#out + 1] = serr:kind()
        return table.concat(out, "|")
    "#;
    assert_eq!(
        run(&rt, code, &srv.base).await,
        "nil|-1|chu|nk0\n|7 -1 truefalsefalse|chunk1|chunk2|chunk3|nil|0 stream not writable|truetrue|nil Internal stream closed|Invalid"
    );
}

#[tokio::test]
async fn encode_and_decode_uri_are_gos_query_escaping() {
    let (_d, rt) = boot().await;
    let code = r#"
        local d, err = http_client.decode_uri("%zz")
        return table.concat({http_client.encode_uri("a b&c=d/é"), http_client.decode_uri("a+b%26c"),
          tostring(d), err:kind()}, "|")
    "#;
    assert_eq!(
        run(&rt, code, "").await,
        "a+b%26c%3Dd%2F%C3%A9|a b&c|nil|Invalid"
    );
}

#[tokio::test]
async fn insecure_tls_is_a_checked_option() {
    let (_d, rt) = boot().await;
    let (cert, key) = server::self_signed(&["localhost"]);
    let srv = server::start_tls(&cert, &key, None).await;
    let code = r#"
        local base, ca = ...
        local out = {}
        local r, err = http_client.get(base .. "/echo")
        out[1] = tostring(r) .. " " .. err:kind()
        r, err = http_client.get(base .. "/echo", {tls = {insecure_skip_verify = true}})
        out[2] = r and r.status_code or (err:kind() .. " " .. err:message())
        r, err = http_client.get(base .. "/echo", {tls = {ca = ca}})
        out[3] = r and r.status_code or (err:kind() .. " " .. err:message())
        return table.concat(out, "|")
    "#;
    assert_eq!(
        run_in(&rt, &rt.root_context(), code, &srv.base, &cert).await,
        "nil Internal|200|200"
    );
    let cx = denying(&rt, vec![("http_client.insecure_tls", "")]);
    assert_eq!(
        run_in(&rt, &cx, code, &srv.base, &cert).await,
        format!(
            "nil Internal|PermissionDenied not allowed: http_client.insecure_tls on {}/echo|200",
            srv.base
        )
    );
}
