//! Reports WIT version 0.2.0 from `info()`, bypassing the SDK's glue (which always reports the version it was
//! built against), so the host's version check has something to refuse.

use platform_mesh_plugin_sdk::bindings::exports::platform_mesh::operator::subroutine::{
    Context, Failure, Guest, PluginInfo, ReconcileResult,
};

/// The plugin.
pub struct WitMismatch;

impl Guest for WitMismatch {
    fn info() -> PluginInfo {
        PluginInfo {
            name: "WitMismatchSubroutine".into(),
            version: "0.1.0".into(),
            wit_version: "0.2.0".into(),
            finalizers: Vec::new(),
        }
    }

    fn process(_ctx: Context) -> Result<ReconcileResult, Failure> {
        Err(Failure {
            message: "a refused plugin is never called".into(),
            status_patch: None,
        })
    }

    fn finalize(_ctx: Context) -> Result<ReconcileResult, Failure> {
        Err(Failure {
            message: "a refused plugin is never called".into(),
            status_patch: None,
        })
    }
}

// Only wasm gets the export glue; see `export_plugin!` for why.
#[cfg(target_arch = "wasm32")]
platform_mesh_plugin_sdk::bindings::export_raw!(WitMismatch with_types_in platform_mesh_plugin_sdk::bindings);
