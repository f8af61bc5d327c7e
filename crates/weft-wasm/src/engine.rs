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

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;
use wasmtime::component::Component;
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};
use weft_core::{EntryId, Error, Result, Value};
use weft_registry::BootMode;

use crate::cache::CompileCache;

/// How often the epoch advances; one tick is the unit of deadlines.
const TICK: Duration = Duration::from_millis(1);

/// MB of each freed memory or table reset in place instead of decommitted, unless
/// `wasm.keep_resident_mb` says otherwise.
const DEFAULT_KEEP_RESIDENT_MB: i64 = 2;

/// The largest `wasm.keep_resident_mb` accepted.
const MAX_KEEP_RESIDENT_MB: i64 = 1024;

/// Decommits gathered before one flush (each flush is a TLB shootdown).
const DECOMMIT_BATCH: usize = 1;

/// Engine settings (from `.wippy.yaml` `wasm.*`).
#[derive(Clone, Debug)]
pub struct EngineConfig {
    /// Instances alive at once (pooling allocator slots); more callers wait.
    pub max_instances: u32,
    /// Where compiled components are cached (`None`: no cache).
    pub cache_dir: Option<PathBuf>,
    /// `wasm.keep_resident_mb` as the config gives it (`None`: the default,
    /// [`DEFAULT_KEEP_RESIDENT_MB`]); checked when the engine is made.
    pub keep_resident_mb: Option<Value>,
    /// Told about every compile (`None`: nobody listens). The engine knows no terminal:
    /// the CLI renders these as it sees fit.
    pub progress: Option<CompileProgress>,
}

/// One step of compiling an entry's component, as [`CompileProgress`] hears it.
#[derive(Clone, Copy, Debug)]
pub enum CompileEvent<'a> {
    /// The component of `id` is about to be read from the cache or compiled.
    Started {
        /// The entry.
        id: &'a EntryId,
    },
    /// The component of `id` is ready (a failed compile sends no event).
    Finished {
        /// The entry.
        id: &'a EntryId,
        /// Read from the compile cache rather than compiled.
        cached: bool,
        /// How long it took.
        elapsed: Duration,
    },
}

/// A listener for compile steps, called on the thread that compiles.
#[derive(Clone)]
pub struct CompileProgress(Arc<dyn Fn(CompileEvent<'_>) + Send + Sync>);

impl CompileProgress {
    /// A listener calling `f` with each event.
    pub fn new(f: impl Fn(CompileEvent<'_>) + Send + Sync + 'static) -> CompileProgress {
        CompileProgress(Arc::new(f))
    }

    /// Tells the listener about `event`.
    fn report(&self, event: CompileEvent<'_>) {
        (self.0)(event)
    }
}

impl fmt::Debug for CompileProgress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CompileProgress(..)")
    }
}

/// The engine and what every WASM entry shares.
pub(crate) struct WasmEngine {
    engine: Engine,
    instances: Arc<Semaphore>,
    max_instances: u32,
    cache: CompileCache,
    /// Told about every compile.
    progress: Option<CompileProgress>,
    /// Set when the engine is dropped: the ticker thread ends at its next tick.
    stop_ticker: Arc<AtomicBool>,
    /// Every entry's idle warm instances, retired when slots run out.
    warm: crate::warm::WarmPools,
}

impl WasmEngine {
    /// Builds the engine and starts its epoch ticker thread.
    pub(crate) fn new(config: &EngineConfig) -> Result<Arc<WasmEngine>> {
        let n = config.max_instances.max(1);
        let keep_resident = keep_resident_bytes(config.keep_resident_mb.as_ref())?;
        let mut cfg = Config::new();
        cfg.wasm_component_model(true)
            .epoch_interruption(true)
            .allocation_strategy(InstanceAllocationStrategy::Pooling(pooling(
                n,
                keep_resident,
            )));
        let engine = Engine::new(&cfg).map_err(|e| Error::internal(format!("wasm engine: {e}")))?;
        let stop_ticker = Arc::new(AtomicBool::new(false));
        start_ticker(engine.clone(), stop_ticker.clone())?;
        Ok(Arc::new(WasmEngine {
            cache: CompileCache::new(&engine, config.cache_dir.clone()),
            engine,
            instances: Arc::new(Semaphore::new(n as usize)),
            max_instances: n,
            progress: config.progress.clone(),
            stop_ticker,
            warm: Default::default(),
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

    /// Every entry's warm instances.
    pub(crate) fn warm(&self) -> &crate::warm::WarmPools {
        &self.warm
    }

    /// How many instances may be alive at once (`wasm.max_instances`).
    pub(crate) fn max_instances(&self) -> u32 {
        self.max_instances
    }

    /// Compiles the component of the entry `id`, through the cache when there is one (a
    /// check only reads it), telling [`EngineConfig::progress`] when it starts and ends.
    pub(crate) fn compile(&self, id: &EntryId, bytes: &[u8], mode: BootMode) -> Result<Component> {
        let Some(progress) = &self.progress else {
            return self
                .cache
                .compile(&self.engine, bytes, mode)
                .map(|(c, _)| c);
        };
        progress.report(CompileEvent::Started { id });
        let started = Instant::now();
        let (component, cached) = self.cache.compile(&self.engine, bytes, mode)?;
        progress.report(CompileEvent::Finished {
            id,
            cached,
            elapsed: started.elapsed(),
        });
        Ok(component)
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
fn pooling(n: u32, keep_resident: usize) -> PoolingAllocationConfig {
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
        .linear_memory_keep_resident(keep_resident)
        .table_keep_resident(keep_resident)
        .decommit_batch_size(DECOMMIT_BATCH);
    pool
}

/// The bytes kept resident per freed memory or table: `wasm.keep_resident_mb`, an
/// integer from 0 to [`MAX_KEEP_RESIDENT_MB`].
fn keep_resident_bytes(mb: Option<&Value>) -> Result<usize> {
    let mb = match mb {
        None => DEFAULT_KEEP_RESIDENT_MB,
        Some(v) => v
            .as_int()
            .filter(|mb| (0..=MAX_KEEP_RESIDENT_MB).contains(mb))
            .ok_or_else(|| {
                Error::invalid(format!(
                    "wasm.keep_resident_mb: expected an integer from 0 to \
                     {MAX_KEEP_RESIDENT_MB} (MB kept resident per freed guest memory), got {}",
                    v.to_display_string()
                ))
            })?,
    };
    Ok(usize::try_from(mb).unwrap_or(0) << 20)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keep_resident_is_a_bounded_number_of_megabytes() {
        assert_eq!(keep_resident_bytes(None).unwrap(), 2 << 20);
        assert_eq!(keep_resident_bytes(Some(&Value::Int(0))).unwrap(), 0);
        assert_eq!(
            keep_resident_bytes(Some(&Value::Int(64))).unwrap(),
            64 << 20
        );
        for bad in [
            Value::Int(-1),
            Value::Int(1025),
            Value::str("lots"),
            Value::Float(1.5),
        ] {
            let err = keep_resident_bytes(Some(&bad)).unwrap_err();
            assert!(
                err.message()
                    .starts_with("wasm.keep_resident_mb: expected an integer"),
                "{err}"
            );
        }
    }
}
