//! Reports WIT version 0.1.99 from `info()`, bypassing the SDK's glue (which always reports the version it was
//! built against): the same 0.1 line as the host with another patch level, which the host must load.

use platform_mesh_plugin_sdk::bindings::exports::platform_mesh::operator::subroutine::{
    Context, Failure, Guest, PluginInfo, ReconcileResult,
};

/// The plugin.
pub struct WitCompat;

impl Guest for WitCompat {
    fn info() -> PluginInfo {
        PluginInfo {
            name: "WitCompatSubroutine".into(),
            version: "0.1.0".into(),
            wit_version: "0.1.99".into(),
            finalizers: Vec::new(),
        }
    }

    fn process(_ctx: Context) -> Result<ReconcileResult, Failure> {
        Err(Failure {
            message: "not called by the tests".into(),
            status_patch: None,
        })
    }

    fn finalize(_ctx: Context) -> Result<ReconcileResult, Failure> {
        Err(Failure {
            message: "not called by the tests".into(),
            status_patch: None,
        })
    }
}

// Only wasm gets the export glue; see `export_plugin!` for why.
#[cfg(target_arch = "wasm32")]
platform_mesh_plugin_sdk::bindings::export_raw!(WitCompat with_types_in platform_mesh_plugin_sdk::bindings);
