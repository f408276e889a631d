//! Guest SDK for platform-mesh operator subroutine plugins.
//!
//! A plugin is a WebAssembly component that implements one step of a reconcile chain. This crate owns the
//! bindings generated from `wit/operator.wit`, so a plugin crate contains business logic only:
//!
//! - implement [`Plugin`] (`info`, `process`, optionally `finalize`) against the [`Host`] trait,
//! - call [`export_plugin!`] once,
//! - test the logic natively with [`testing::FakeHost`] (`cargo test -p <plugin>`).
//!
//! # Example
//!
//! ```
//! use std::time::Duration;
//! use platform_mesh_plugin_sdk::{CallResult, Context, Gvk, Host, HostExt, Plugin, PluginInfo, Reconciled, Target};
//!
//! /// Stops the chain until a ConfigMap named after the object exists in the infra cluster.
//! pub struct WaitForConfigMap;
//!
//! impl Plugin for WaitForConfigMap {
//!     fn info() -> PluginInfo {
//!         PluginInfo::new("WaitForConfigMapSubroutine", "0.1.0")
//!     }
//!
//!     fn process(host: &dyn Host, ctx: &Context) -> CallResult {
//!         let cm = Gvk::new("", "v1", "ConfigMap").object(Some(ctx.namespace()), ctx.name());
//!         match host.get(&Target::Infra, &cm)? {
//!             Some(_) => Ok(Reconciled::ok().with_status(serde_json::json!({"phase": "Ready"}))),
//!             None => {
//!                 host.info("config map missing");
//!                 Ok(Reconciled::stop_after(Duration::from_secs(5), "waiting for the config map"))
//!             }
//!         }
//!     }
//! }
//!
//! // In the plugin crate (a `cdylib`): platform_mesh_plugin_sdk::export_plugin!(WaitForConfigMap);
//!
//! // A native test:
//! use platform_mesh_plugin_sdk::{Outcome, testing::FakeHost};
//! let ctx = Context::for_object("platformmesh", serde_json::json!({"metadata": {"name": "pm", "namespace": "ns"}}));
//! let done = WaitForConfigMap::process(&FakeHost::new(), &ctx).unwrap();
//! assert!(matches!(done.outcome, Outcome::Stop { .. }));
//! ```
//!
//! See `plugins/sdk/README.md` for building and adding a plugin to the operator.

// The generated bindings and the export macro refer to this crate by name, also from inside it.
extern crate self as platform_mesh_plugin_sdk;

pub mod backoff;
pub mod bindings;
pub mod exposure;
mod guest;
pub mod helm_values;
mod host;
mod outcome;
pub mod retire;
pub mod selector;
#[cfg(not(target_arch = "wasm32"))]
pub mod testing;
pub mod timestamp;
mod types;

pub use guest::{__private, Plugin, WIT_VERSION, WasmHost};
pub use host::{Host, HostExt};
pub use outcome::{CallResult, Context, Failure, Outcome, PluginInfo, Reconciled};
pub use types::{
    ApplyOptions, ClusterError, Document, Funcs, Gvk, ImageVersion, LogLevel, ObjectRef, PatchKind,
    RenderError, Target, Technology,
};
