//! The caps of a host as Lua sees them: `process.spawn` past `host.max_processes`,
//! `process.send` into a full mailbox (`host.mailbox_size`) and `io.readline` past the
//! terminal host's `max_line_bytes` each give `nil, err` naming the cap.

mod common;

use std::io::Write;
use std::sync::Arc;

use common::{app, boot_dir};
use weft_core::Value;
use weft_runtime::{Runtime, Spawn, Terminal};

const APP: &str = r#"
namespace: t
entries:
  - name: host
    kind: process.host
    host: {max_processes: 2, mailbox_size: 3}
    lifecycle: {auto_start: true}
  - name: terminal
    kind: terminal.host
    max_line_bytes: 8
  - name: idle
    kind: process.lua
    source: "return {main = function() return process.inbox():receive():topic() end}"
    method: main
  - name: deaf
    kind: process.lua
    source: |
      return {main = function()
        process.inbox()
        return process.listen("stop"):receive()
      end}
    method: main
  - name: spawner
    kind: function.lua
    source: |
      return {run = function(n)
        local out = {}
        for i = 1, n do
          local pid, err = process.spawn("t:idle", "t:host")
          out[i] = pid and "pid" or (err:kind() .. " " .. tostring(err))
        end
        return out
      end}
    method: run
  - name: sender
    kind: function.lua
    source: |
      return {run = function(dest, topic, n)
        local out = {}
        for i = 1, n do
          local ok, err = process.send(dest, topic, i)
          out[i] = ok and "sent" or (err:kind() .. " " .. tostring(err))
        end
        return out
      end}
    method: run
  - name: reader
    kind: process.lua
    meta: {command: {name: read}}
    source: |
      return {main = function()
        io.print((io.readline()))
        local line, err = io.readline()
        io.print(tostring(line), err:kind(), tostring(err))
        io.print((io.readline()))
        return 0
      end}
    method: main
    modules: [io]
"#;

async fn boot() -> (tempfile::TempDir, Arc<Runtime>) {
    let dir = app(&[("src/_index.yaml", APP)]);
    let rt = match boot_dir(dir.path()).await {
        Ok(rt) => rt,
        Err(e) => panic!("boot failed:\n{e}"),
    };
    (dir, rt)
}

async fn call(rt: &Runtime, id: &str, args: Vec<Value>) -> Vec<String> {
    let v = rt.functions.call(&rt.root_context(), id, args).await;
    match v.unwrap() {
        Value::Array(items) => items
            .iter()
            .map(|v| v.as_str().unwrap_or_default().to_string())
            .collect(),
        other => panic!("not a list: {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spawning_past_max_processes_returns_rate_limited() {
    let (_d, rt) = boot().await;
    let got = call(&rt, "t:spawner", vec![Value::Int(3)]).await;
    assert_eq!(
        got,
        [
            "pid",
            "pid",
            "RateLimited process host t:host is full (host.max_processes: 2)"
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sending_to_a_full_mailbox_returns_rate_limited_and_never_waits() {
    let (_d, rt) = boot().await;
    let cx = rt.root_context();
    let deaf = rt
        .processes
        .spawn(&rt, &cx, Spawn::new("t:deaf", "t:host", vec![]))
        .unwrap();
    // Sends queued before the process routes its mailbox and after count alike.
    let mut got = call(
        &rt,
        "t:sender",
        vec![Value::str(&*deaf), "x".into(), 2.into()],
    )
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    got.extend(
        call(
            &rt,
            "t:sender",
            vec![Value::str(&*deaf), "x".into(), 2.into()],
        )
        .await,
    );
    let full = format!("RateLimited mailbox of {deaf} is full (host.mailbox_size: 3 on t:host)");
    assert_eq!(got, ["sent", "sent", "sent", full.as_str()]);
    // The cap is per channel: the topic it listens to still has room, and ends it.
    let got = call(
        &rt,
        "t:sender",
        vec![Value::str(&*deaf), "stop".into(), 1.into()],
    )
    .await;
    assert_eq!(got, ["sent"]);
    for _ in 0..500 {
        if rt.processes.get(&deaf).is_none() {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("the process never read its stop message");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readline_past_max_line_bytes_fails_naming_the_cap() {
    let (_d, rt) = boot().await;
    let out = SharedBuf::default();
    let term = Arc::new(Terminal::new(
        vec![],
        Box::new(std::io::Cursor::new(
            b"short\r\n0123456789\nnext\n".to_vec(),
        )),
        Box::new(out.clone()),
        Box::new(std::io::sink()),
    ));
    let code = weft_runtime::run_command(&rt, None, "read", term)
        .await
        .unwrap();
    assert_eq!(code, 0, "{}", out.text());
    // The 9 bytes read of the long line are gone; the rest of it is the next line.
    assert_eq!(
        out.text(),
        "short\n\
         nil\tInvalid\tline longer than 8 bytes (max_line_bytes: 8 on t:terminal)\n\
         9\n"
    );
}

#[derive(Clone, Default)]
struct SharedBuf(Arc<parking_lot::Mutex<Vec<u8>>>);

impl SharedBuf {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock()).into_owned()
    }
}

impl Write for SharedBuf {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
