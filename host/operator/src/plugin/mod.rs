//! The wasm plugin runtime: loads subroutine plugins (WebAssembly components of the `plugin` world in
//! `wit/operator.wit`) and runs them as lifecycle [`Subroutine`](crate::lifecycle::Subroutine)s.
//!
//! # Usage
//!
//! ```no_run
//! # async fn demo(services: platform_mesh_operator::hostapi::HostServices) -> Result<(), Box<dyn std::error::Error>> {
//! use platform_mesh_operator::plugin::{BUILTIN, PluginRuntime, RuntimeConfig, assemble, builtin_manifest};
//!
//! let config = RuntimeConfig::new(RuntimeConfig::default_plugins_dir(), "/operator");
//! let manifest = builtin_manifest(&config.plugins_dir, None)?;
//! let runtime = PluginRuntime::new(config, services)?;
//! let plugins = assemble(&runtime, &manifest, BUILTIN, None).await?;
//! let wait = plugins.get("wait").expect("shipped with the operator");
//! # Ok(()) }
//! ```
//!
//! # Guarantees
//!
//! - One wasmtime `Engine` (pooling allocator, epoch interruption with a ticker thread holding a weak handle),
//!   an `InstancePre` per plugin, a fresh `Store` per call: calls never share guest state.
//! - Each call runs with a memory cap (`memory_limit`) and a wall-clock budget (`call_timeout`); a long-running
//!   guest yields to the executor every 50 ms instead of blocking a worker.
//! - WASI is deny-by-default: no environment, arguments, stdin or sockets; the workspace directory is the only
//!   preopen, read-only, at `/workspace`. Guest stdout/stderr go to `tracing` within a span naming the plugin and
//!   the object (`namespace/name`).
//! - A trap, panic, deadline, memory overrun or host error becomes `Err(Failure)` whose message starts with
//!   `plugin <file stem>:` and names the cause (stderr included for panics). A failure the plugin itself
//!   returns keeps its message verbatim, because it becomes the condition message exactly like upstream's.
//! - `info()` runs once at load; a plugin built against an incompatible WIT version is refused.
//! - Compiled components are cached in `cache_dir` keyed by the wasm's sha256 and the engine's compatibility
//!   hash.
//!
//! # Plugin sets
//!
//! Which plugins run, from which source, with which permissions and in which chains comes from a
//! [`PluginManifest`] — the plugin ConfigMap (`--plugin-config`, watched live by [`LivePlugins`]) or the built-in
//! default ([`DEFAULT_PLUGIN_CONFIG`]). [`assemble()`] turns one into an immutable [`PluginSet`]; the
//! [`PluginSetHandle`] holds the set in force and swaps it atomically: a reconcile finishes on the set it started
//! with.
//!
//! # Layout
//!
//! [`sandbox`] runs plugins and knows nothing of configurations; [`set`] manages plugin sets on top of it.

pub mod sandbox;
pub mod set;

pub use sandbox::{
    Limits, PluginError, PluginOptions, PluginRuntime, RuntimeConfig, WIT_VERSION, WORKSPACE_MOUNT,
    WasmSubroutine, check_version,
};
pub use set::{manifest, oci, source, verify};

pub use set::active::{PluginSet, PluginSetHandle, SwapStatus};
pub use set::assemble::{AssembleError, assemble, load_plugin};
pub use set::defaults::{DEFAULT_PLUGIN_CONFIG, builtin_manifest};
pub use set::live::{BUILTIN, LivePlugins, PluginConfigRef, STATUS_ANNOTATION, StartError};
pub use set::manifest::{ManifestError, PluginManifest, PluginSpec};
pub use set::verify::{VerifyReport, verify_config_map};
