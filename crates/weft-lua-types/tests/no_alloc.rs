//! Untyped Lua pays one scan and nothing else: erasing it allocates nothing.

use std::alloc::{GlobalAlloc, Layout, System};
use std::borrow::Cow;
use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The system allocator, counting the allocations of the measuring thread (the test
/// harness allocates on its own threads meanwhile).
struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    /// Set while this thread's allocations are counted.
    static MEASURING: Cell<bool> = const { Cell::new(false) };
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if MEASURING.try_with(Cell::get).unwrap_or(false) {
            ALLOCATIONS.fetch_add(1, Ordering::SeqCst);
        }
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn erasing_untyped_lua_allocates_nothing() {
    let module = r#"do
local M = {}
function M.new(opts) return setmetatable({n = opts.n or 0, as = 1}, {__index = M}) end
function M:add(x, ...) self.n = self.n + x // 2 | 1 << 3 ; return self end
local s = [==[ local x: number = 1 :: T ]==] .. 'a: b' -- type T = {x: number}
for i = 1, 10 do if i % 2 == 0 then goto continue end print(i, typeof(i)) ::continue:: end
local t <const> = {[1] = "x", y = function(a, b) return a ~= b end}
return M
end
"#;
    let source = module.repeat(1000);
    mlua::Lua::new().load(&source).into_function().unwrap();
    let before = ALLOCATIONS.load(Ordering::SeqCst);
    MEASURING.with(|m| m.set(true));
    let out = weft_lua_types::erase(&source);
    MEASURING.with(|m| m.set(false));
    let after = ALLOCATIONS.load(Ordering::SeqCst);
    assert!(matches!(out, Ok(ref e) if !e.typed && matches!(e.code, Cow::Borrowed(_))));
    assert_eq!(after - before, 0);
}
