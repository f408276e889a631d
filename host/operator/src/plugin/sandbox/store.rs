//! A fresh `Store` per plugin call: deny-by-default WASI with one read-only preopen, a memory limiter, an epoch
//! deadline that yields to the executor and fails the call once the wall-clock budget is spent, and captured
//! stdout/stderr.

use std::{
    path::Path,
    time::{Duration, Instant},
};

use wasmtime::{Engine, ResourceLimiter, Store, UpdateDeadline, component::ResourceTable};
use wasmtime_wasi::{FsPerms, WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView, p2::pipe::MemoryOutputPipe};

use super::engine::TICK;
use crate::hostapi::HostCall;

/// Where the workspace directory appears inside a plugin.
pub const WORKSPACE_MOUNT: &str = "/workspace";

/// Captured output per stream; a plugin that writes more gets a write error (and usually panics), which the
/// failure message then shows.
const OUTPUT_CAPACITY: usize = 1 << 20;

/// Ticks between deadline checks: the guest yields to the executor this often.
const CHECK_TICKS: u64 = 5;

/// The call ran out of its wall-clock budget.
#[derive(Debug, thiserror::Error)]
#[error("deadline exceeded after {0:?}")]
pub struct DeadlineExceeded(pub Duration);

/// The guest tried to grow its memory beyond the cap.
#[derive(Debug, thiserror::Error)]
#[error("memory limit of {} MiB exceeded (the guest asked for {} MiB)", .limit >> 20, .desired >> 20)]
pub struct MemoryExceeded {
    pub limit: usize,
    pub desired: usize,
}

/// Caps linear memory with an error naming the limit, and tables at a generous fixed size.
pub struct Limits {
    memory: usize,
}

impl ResourceLimiter for Limits {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.memory {
            return Err(wasmtime::Error::new(MemoryExceeded {
                limit: self.memory,
                desired,
            }));
        }
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= 1 << 20)
    }
}

/// Everything a plugin's store holds.
pub struct StoreState {
    wasi: WasiCtx,
    table: ResourceTable,
    limits: Limits,
    started: Instant,
    /// State of the host imports.
    pub host: HostCall,
}

impl WasiView for StoreState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

/// A call's captured stdout and stderr.
#[derive(Clone)]
pub struct Output {
    pub stdout: MemoryOutputPipe,
    pub stderr: MemoryOutputPipe,
}

impl Output {
    fn new() -> Self {
        Output {
            stdout: MemoryOutputPipe::new(OUTPUT_CAPACITY),
            stderr: MemoryOutputPipe::new(OUTPUT_CAPACITY),
        }
    }

    /// Stderr as text, trimmed.
    pub fn stderr_text(&self) -> String {
        String::from_utf8_lossy(&self.stderr.contents()).trim().to_owned()
    }

    /// Forwards both streams to `tracing`, line by line, inside the caller's span (plugin and object).
    pub fn forward(&self) {
        for line in String::from_utf8_lossy(&self.stdout.contents())
            .lines()
            .filter(|l| !l.is_empty())
        {
            tracing::info!(stream = "stdout", "{line}");
        }
        for line in String::from_utf8_lossy(&self.stderr.contents())
            .lines()
            .filter(|l| !l.is_empty())
        {
            tracing::warn!(stream = "stderr", "{line}");
        }
    }
}

/// Builds the store of one call. WASI starts from nothing (no env, args, sockets or stdin) and gets exactly the
/// workspace, read-only.
pub fn new_store(
    engine: &Engine,
    workspace: &Path,
    memory_limit: usize,
    timeout: Duration,
    host: HostCall,
) -> wasmtime::Result<(Store<StoreState>, Output)> {
    let output = Output::new();
    let mut wasi = WasiCtxBuilder::new();
    wasi.preopened_dir(workspace, WORKSPACE_MOUNT, FsPerms::ReadOnly)?;
    wasi.stdout(output.stdout.clone()).stderr(output.stderr.clone());
    let state = StoreState {
        wasi: wasi.build(),
        table: ResourceTable::new(),
        limits: Limits { memory: memory_limit },
        started: Instant::now(),
        host,
    };
    let mut store = Store::new(engine, state);
    store.limiter(|state| &mut state.limits);
    store.set_epoch_deadline(CHECK_TICKS);
    store.epoch_deadline_callback(move |ctx| {
        if ctx.data().started.elapsed() >= timeout {
            return Err(wasmtime::Error::new(DeadlineExceeded(timeout)));
        }
        Ok(UpdateDeadline::Yield(CHECK_TICKS))
    });
    Ok((store, output))
}

/// How long the deadline checks may lag behind the budget (used for the outer timeout).
pub fn check_interval() -> Duration {
    TICK * CHECK_TICKS as u32
}
