//! Erasure benchmarks: a 10 MB typed source and a 10 MB untyped one, side by side.
//!
//! Both repeat a realistic module (records, tagged unions, generics, casts, validators,
//! `!`, `typeof`), the untyped one being the same code without its types. The untyped
//! figure is the cost every plain Lua source pays (one scan, nothing allocated). Run:
//! `cargo bench -p weft-lua-types`.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};

/// The typed module, `{i}` replaced by the copy's number.
const TYPED: &str = r#"
type Point{i} = {x: number, y: number, label?: string}
export type Result{i}<T> =
    {ok: true, value: T}
    | {ok: false, error: string}

local function distance{i}(a: Point{i}, b: Point{i}): number
    local dx: number = a.x - b.x
    local dy: number = a.y - b.y
    return math.sqrt(dx * dx + dy * dy)
end

local function parse{i}(input: string?): (Point{i}?, string?)
    if input == nil then return nil, "no input" end
    local x, y = input:match("(%d+),(%d+)") -- "x,y"
    local p: Point{i} = {x = tonumber(x) :: number, y = tonumber(y) as number}
    return p, nil
end

function M.keep{i}<T>(items: {T}, f: (T) -> boolean): {T}
    local out: {T} = {}
    for _, item in ipairs(items) do
        if f(item) then out[#out + 1] = item end
    end
    local n: integer @min(0) = #out
    print(typeof(n), (M.last!).name, [[long: string]])
    return out
end
"#;

/// The same module without its types.
const UNTYPED: &str = r#"
local Point{i} = {}
local Result{i} = {}


local function distance{i}(a, b)
    local dx = a.x - b.x
    local dy = a.y - b.y
    return math.sqrt(dx * dx + dy * dy)
end

local function parse{i}(input)
    if input == nil then return nil, "no input" end
    local x, y = input:match("(%d+),(%d+)") -- "x,y"
    local p = {x = tonumber(x), y = tonumber(y)}
    return p, nil
end

function M.keep{i}(items, f)
    local out = {}
    for _, item in ipairs(items) do
        if f(item) then out[#out + 1] = item end
    end
    local n = #out
    print(type(n), (M.last).name, [[long: string]])
    return out
end
"#;

/// Copies of `module` up to `size` bytes.
fn source(module: &str, size: usize) -> String {
    let mut out = String::from("local M = {}\n");
    let mut i = 0;
    while out.len() < size {
        out.push_str(&module.replace("{i}", &i.to_string()));
        i += 1;
    }
    out
}

fn erase(c: &mut Criterion) {
    const SIZE: usize = 10 << 20;
    let typed = source(TYPED, SIZE);
    let untyped = source(UNTYPED, SIZE);
    let mut group = c.benchmark_group("erase");
    group
        .sample_size(20)
        .measurement_time(Duration::from_secs(10));
    group.throughput(Throughput::Bytes(typed.len() as u64));
    group.bench_function("typed_10MB", |b| {
        b.iter(|| weft_lua_types::erase(black_box(&typed)).map(|e| e.code.len()))
    });
    group.throughput(Throughput::Bytes(untyped.len() as u64));
    group.bench_function("untyped_10MB", |b| {
        b.iter(|| weft_lua_types::erase(black_box(&untyped)).map(|e| e.code.len()))
    });
    group.finish();
}

criterion_group!(benches, erase);
criterion_main!(benches);
