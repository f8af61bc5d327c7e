//! The floor of one `Functions::call`: a function whose future is ready at once, called
//! 2,000,000 times per loop on a current-thread runtime, 15 loops (docs/performance.md,
//! "Metrics"). Run: `cargo run --release -p weft-core --example call_cost`.

use std::sync::Arc;
use std::time::Instant;
use weft_core::{BoxFuture, CallContext, EntryId, Function, Functions, Result, Value};

struct Nop;
impl Function for Nop {
    fn call(&self, _: CallContext, _: Vec<Value>) -> BoxFuture<Result<Value>> {
        Box::pin(std::future::ready(Ok(Value::Nil)))
    }
}

fn main() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let f = Functions::new();
    f.register(EntryId::new("app", "nop"), Arc::new(Nop));
    let cx = CallContext::root(false);
    let n = 2_000_000;
    let mut best = f64::MAX;
    let mut all = Vec::new();
    for _ in 0..15 {
        let t = Instant::now();
        rt.block_on(async {
            for _ in 0..n {
                f.call(&cx, "app:nop", Vec::new()).await.unwrap();
            }
        });
        let ns = t.elapsed().as_nanos() as f64 / n as f64;
        best = best.min(ns);
        all.push(ns);
    }
    all.sort_by(|a, b| a.partial_cmp(b).unwrap());
    println!(
        "median {:.1} ns, best {:.1} ns per call",
        all[all.len() / 2],
        best
    );
}
