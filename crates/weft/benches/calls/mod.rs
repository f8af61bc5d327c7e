//! What the call benches (`wasm`, `js`, `lua`) share: booting an app, the Lua loop entry
//! that makes `n` `funcs.call`s, and the records payload. (A directory without
//! `main.rs`: a module, not a bench target.)

#![allow(dead_code)] // each bench uses its own subset

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use weft_core::{CallContext, Value};
use weft_registry::{BootOptions, LoadOptions};

/// A `function.lua` entry `loop`: `run(target, n, ...)` calls `target` n times with the
/// same arguments through `funcs.call` and returns n.
pub const LUA_LOOP: &str = r#"  - name: loop
    kind: function.lua
    method: run
    modules: [funcs]
    source: |
      return {run = function(target, n, ...)
        local call = funcs.call
        for _ = 1, n do
          local _, err = call(target, ...)
          if err then error(err) end
        end
        return n
      end}
"#;

/// Boots the app in `root` on a 2-worker tokio runtime, as the `weft` binary does.
pub fn boot(root: &Path) -> (tokio::runtime::Runtime, Arc<weft_runtime::Runtime>) {
    let rt = tokio_runtime();
    let booted = rt
        .block_on(weft::boot_app(&load_options(root), &BootOptions::default()))
        .unwrap();
    (rt, booted.runtime)
}

/// A 2-worker tokio runtime, as the `weft` binary runs.
pub fn tokio_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// Load options for the app in `root`.
pub fn load_options(root: &Path) -> LoadOptions {
    LoadOptions {
        root: root.to_path_buf(),
        ..LoadOptions::default()
    }
}

/// A criterion `iter_custom` routine: the `<ns>:loop` entry calls `target` with `args`
/// `iters` times; the time is the loop call's.
pub fn lua_loop<'a>(
    tokio_rt: &'a tokio::runtime::Runtime,
    app: &Arc<weft_runtime::Runtime>,
    cx: &CallContext,
    looper: &'static str,
    target: &'static str,
    args: Vec<Value>,
) -> impl FnMut(u64) -> Duration + 'a {
    let (app, cx) = (app.clone(), cx.clone());
    move |iters: u64| {
        let mut call_args = vec![Value::str(target), Value::Int(iters as i64)];
        call_args.extend(args.iter().cloned());
        tokio_rt.block_on(async {
            let start = Instant::now();
            app.functions.call(&cx, looper, call_args).await.unwrap();
            start.elapsed()
        })
    }
}

/// `n` user records (name, age, tags, email), as a list.
pub fn users(n: i64) -> Value {
    Value::array(
        (0..n)
            .map(|i| {
                Value::from_pairs([
                    ("name", Value::str(format!("user{i}"))),
                    ("age", Value::Int(i % 100)),
                    ("tags", Value::array(vec![Value::str("a"), Value::str("b")])),
                    ("email", Value::str(format!("u{i}@example.com"))),
                ])
            })
            .collect(),
    )
}
