//! The sandbox: one wasmtime engine, a fresh store per call with memory and time limits, the WIT version check,
//! and [`WasmSubroutine`], which runs a loaded plugin as a lifecycle subroutine. It knows nothing of plugin
//! configurations or sets (see [`super::set`]).

mod call;
mod config;
mod engine;
mod error;
mod runtime;
mod store;
mod version;

pub use call::WasmSubroutine;
pub use config::{Limits, PluginOptions, RuntimeConfig};
pub use error::PluginError;
pub use runtime::PluginRuntime;
pub use store::WORKSPACE_MOUNT;
pub use version::{WIT_VERSION, check_version};
