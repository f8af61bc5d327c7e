//! `weft run --watch` end to end: the real binary serving HTTP on loopback while a
//! client calls it without pause, and the test edits a Lua file, a WASM entry's file and
//! hash, and `_index.yaml`; then breaks the YAML and the Lua. No call fails; each change
//! answers once its line is printed; a broken change keeps the running version.

mod common;

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use common::{sha, spawn_weft, wait_for_line, write_app};

/// A core module whose `answer` returns `n`.
fn answer_wasm(n: i32) -> Vec<u8> {
    wat::parse_str(format!(
        r#"(module (func (export "answer") (result i32) i32.const {n}))"#
    ))
    .unwrap()
}

/// The app's `_index.yaml`, serving on `port`, the WASM file's hash `hash`, and `extra`
/// entries at the end.
fn index(port: u16, hash: &str, extra: &str) -> String {
    format!(
        r#"namespace: app
entries:
  - {{name: files, kind: fs.directory, directory: wasm}}
  - name: gateway
    kind: http.service
    addr: 127.0.0.1:{port}
    lifecycle: {{auto_start: true}}
  - {{name: api, kind: http.router, meta: {{server: gateway}}}}
  - name: greet
    kind: function.lua
    source: file://greet.lua
    method: handler
    modules: [http]
  - {{name: greet.get, kind: http.endpoint, meta: {{router: api}}, method: GET, path: /greet, func: greet}}
  - name: answer
    kind: function.wasm
    fs: app:files
    path: /answer.wasm
    hash: {hash}
    method: answer
    wit: "answer: func() -> s32;"
  - name: show_answer
    kind: function.lua
    method: handler
    modules: [http, funcs]
    source: |
      return {{handler = function()
        local n, err = funcs.call("app:answer")
        if err then error(err) end
        http.response():write(tostring(n))
      end}}
  - {{name: answer.get, kind: http.endpoint, meta: {{router: api}}, method: GET, path: /answer, func: show_answer}}
{extra}"#
    )
}

fn greet(word: &str) -> String {
    format!("return {{handler = function() http.response():write('{word}') end}}\n")
}

/// Writes a file the way an editor saves: a new file renamed over the old one.
fn save(path: &Path, contents: &[u8]) {
    let tmp = path.with_extension("tmp-save");
    std::fs::write(&tmp, contents).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

async fn get(client: &reqwest::Client, port: u16, path: &str) -> Result<(u16, String), String> {
    let response = client
        .get(format!("http://127.0.0.1:{port}{path}"))
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let status = response.status().as_u16();
    Ok((status, response.text().await.map_err(|e| e.to_string())?))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edits_are_applied_while_calls_go_on() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = write_app(&[("src/greet.lua", &greet("v1"))]);
    let root = dir.path();
    std::fs::create_dir_all(root.join("wasm")).unwrap();
    std::fs::write(root.join("wasm/answer.wasm"), answer_wasm(1)).unwrap();
    let index_path = root.join("src/_index.yaml");
    let hash = sha(&root.join("wasm/answer.wasm"));
    std::fs::write(&index_path, index(port, &hash, "")).unwrap();

    let (mut child, lines) = spawn_weft(root, &["run", "--watch"]);
    let mut log = Vec::new();
    wait_for_line(&lines, "watching", Duration::from_secs(60), &mut log);
    let client = reqwest::Client::new();
    let mut up = false;
    for _ in 0..200 {
        if get(&client, port, "/greet").await.is_ok() {
            up = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(up, "the server did not answer: {log:?}");

    // A client calling without pause, from before the first edit to after the last.
    let stop = Arc::new(AtomicBool::new(false));
    let calls = Arc::new(AtomicUsize::new(0));
    let hammer = tokio::spawn({
        let (client, stop, calls) = (client.clone(), stop.clone(), calls.clone());
        async move {
            let mut failures = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                match get(&client, port, "/greet").await {
                    Ok((200, body)) if body == "v1" || body == "v2" => {}
                    other => failures.push(format!("{other:?}")),
                }
                calls.fetch_add(1, Ordering::Relaxed);
            }
            failures
        }
    });

    // 1. A Lua file.
    save(&root.join("src/greet.lua"), greet("v2").as_bytes());
    wait_for_line(
        &lines,
        "watch: version 2: updated app:greet",
        Duration::from_secs(20),
        &mut log,
    );
    assert_eq!(get(&client, port, "/greet").await, Ok((200, "v2".into())));

    // 2. A WASM entry's file and its hash.
    assert_eq!(get(&client, port, "/answer").await, Ok((200, "1".into())));
    save(&root.join("wasm/answer.wasm"), &answer_wasm(2));
    let hash = sha(&root.join("wasm/answer.wasm"));
    save(&index_path, index(port, &hash, "").as_bytes());
    wait_for_line(
        &lines,
        "watch: version 3: updated app:answer",
        Duration::from_secs(20),
        &mut log,
    );
    assert_eq!(get(&client, port, "/answer").await, Ok((200, "2".into())));

    // 3. `_index.yaml`: a new endpoint.
    let extra = "  - {name: new.get, kind: http.endpoint, meta: {router: api}, method: GET, path: /new, func: greet}\n";
    save(&index_path, index(port, &hash, extra).as_bytes());
    wait_for_line(
        &lines,
        "watch: version 4: created app:new.get",
        Duration::from_secs(20),
        &mut log,
    );
    assert_eq!(get(&client, port, "/new").await, Ok((200, "v2".into())));

    // 4. Broken YAML: nothing changes, the problem is printed.
    save(&index_path, b"namespace: app\nentries: [\n");
    let line = wait_for_line(
        &lines,
        "version 4 keeps running",
        Duration::from_secs(20),
        &mut log,
    );
    assert!(line.contains("the app failed to load"), "{line}");
    wait_for_line(&lines, "src/_index.yaml", Duration::from_secs(5), &mut log);
    assert_eq!(get(&client, port, "/new").await, Ok((200, "v2".into())));

    // 5. A Lua syntax error (with the YAML repaired): rejected whole, named.
    save(
        &root.join("src/greet.lua"),
        b"return {handler = function( end}\n",
    );
    save(&index_path, index(port, &hash, extra).as_bytes());
    let line = wait_for_line(&lines, "keeps running", Duration::from_secs(20), &mut log);
    assert!(line.contains("the changes were not applied"), "{line}");
    wait_for_line(
        &lines,
        "entry app:greet (function.lua): field source",
        Duration::from_secs(5),
        &mut log,
    );
    assert_eq!(get(&client, port, "/greet").await, Ok((200, "v2".into())));

    stop.store(true, Ordering::Relaxed);
    let failures = hammer.await.unwrap();
    assert!(
        failures.is_empty(),
        "calls failed during the edits: {failures:?}\n{log:#?}"
    );
    assert!(
        calls.load(Ordering::Relaxed) > 10,
        "too few calls to prove anything"
    );
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let status = child.wait().unwrap();
    assert!(status.success(), "{status:?}\n{log:#?}");
}

#[test]
fn watch_takes_no_command() {
    let dir = write_app(&[("src/_index.yaml", "namespace: app\nentries: []\n")]);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_weft"))
        .arg("-C")
        .arg(dir.path())
        .args(["run", "--watch", "hello"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("--watch runs the app's services; it takes no command"),
        "{stderr}"
    );
}
