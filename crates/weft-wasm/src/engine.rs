//! The one wasmtime engine of a runtime.
//!
//! - Pooling allocator sized from [`EngineConfig::max_instances`], with a semaphore in
//!   front so callers wait for a slot instead of failing on an exhausted pool.
//! - Epoch interruption with a 1 ms ticker: every call has a deadline; CPU-bound guests
//!   yield to tokio every tick and stop at `max_execution_ms`. The ticker is an OS
//!   thread of its own, not a tokio task: guests yield only when the epoch advances, so
//!   a ticker on the tokio workers would never run once every worker holds a spinning
//!   guest, and then no guest would yield, no deadline fire and no signal be handled.
//! - Compilation goes through the [compile cache](crate::cache).

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::sync::Semaphore;
use wasmtime::component::Component;
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};
use weft_core::{Error, Result};
use weft_registry::BootMode;

use crate::cache::CompileCache;

/// How often the epoch advances; one tick is the unit of deadlines.
const TICK: Duration = Duration::from_millis(1);

/// Bytes of each freed memory or table reset in place instead of decommitted.
const KEEP_RESIDENT: usize = 2 << 20;

/// Decommits gathered before one flush (each flush is a TLB shootdown).
const DECOMMIT_BATCH: usize = 1;

/// Engine settings (from `.wippy.yaml` `wasm.*`).
#[derive(Clone, Debug)]
pub struct EngineConfig {
    /// Instances alive at once (pooling allocator slots); more callers wait.
    pub max_instances: u32,
    /// Where compiled components are cached (`None`: no cache).
    pub cache_dir: Option<PathBuf>,
}

/// The engine and what every WASM entry shares.
pub(crate) struct WasmEngine {
    engine: Engine,
    instances: Arc<Semaphore>,
    max_instances: u32,
    cache: CompileCache,
    /// Set when the engine is dropped: the ticker thread ends at its next tick.
    stop_ticker: Arc<AtomicBool>,
}

impl WasmEngine {
    /// Builds the engine and starts its epoch ticker thread.
    pub(crate) fn new(config: &EngineConfig) -> Result<Arc<WasmEngine>> {
        let n = config.max_instances.max(1);
        let mut cfg = Config::new();
        cfg.wasm_component_model(true)
            .epoch_interruption(true)
            .allocation_strategy(InstanceAllocationStrategy::Pooling(pooling(n)));
        let engine = Engine::new(&cfg).map_err(|e| Error::internal(format!("wasm engine: {e}")))?;
        let stop_ticker = Arc::new(AtomicBool::new(false));
        start_ticker(engine.clone(), stop_ticker.clone())?;
        Ok(Arc::new(WasmEngine {
            cache: CompileCache::new(&engine, config.cache_dir.clone()),
            engine,
            instances: Arc::new(Semaphore::new(n as usize)),
            max_instances: n,
            stop_ticker,
        }))
    }

    /// The wasmtime engine.
    pub(crate) fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The semaphore in front of the pooling allocator.
    pub(crate) fn instances(&self) -> &Arc<Semaphore> {
        &self.instances
    }

    /// How many instances may be alive at once (`wasm.max_instances`).
    pub(crate) fn max_instances(&self) -> u32 {
        self.max_instances
    }

    /// Compiles a component, through the cache when there is one (a check only reads it).
    pub(crate) fn compile(&self, bytes: &[u8], mode: BootMode) -> Result<Component> {
        self.cache.compile(&self.engine, bytes, mode)
    }
}

impl Drop for WasmEngine {
    fn drop(&mut self) {
        self.stop_ticker.store(true, Ordering::Relaxed);
    }
}

/// Advances `engine`'s epoch every [`TICK`] on a thread of its own until `stop` is set.
fn start_ticker(engine: Engine, stop: Arc<AtomicBool>) -> Result<()> {
    std::thread::Builder::new()
        .name("weft-wasm-epoch".into())
        .spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                std::thread::sleep(TICK);
                engine.increment_epoch();
            }
        })
        .map(drop)
        .map_err(|e| Error::internal(format!("cannot start the wasm epoch ticker: {e}")))
}

/// The pooling allocator for `n` component instances at once.
fn pooling(n: u32) -> PoolingAllocationConfig {
    let mut pool = PoolingAllocationConfig::default();
    pool.total_component_instances(n)
        .total_core_instances(n.saturating_mul(8))
        .total_memories(n.saturating_mul(2))
        .total_tables(n.saturating_mul(4))
        .total_stacks(n)
        .max_core_instances_per_component(32)
        .max_memory_size(1 << 32)
        // Reset a freed slot by rewriting only the pages the guest dirtied (found
        // with PAGEMAP_SCAN where the kernel has it) instead of `madvise`: no TLB
        // shootdown per call. Pages kept resident stay bounded by the warm slots.
        .pagemap_scan(wasmtime::Enabled::Auto)
        .linear_memory_keep_resident(KEEP_RESIDENT)
        .table_keep_resident(KEEP_RESIDENT)
        .decommit_batch_size(DECOMMIT_BATCH);
    pool
}
