//! Executes `unreachable` in `process`, so the host must turn a raw wasm trap into a failure.

use platform_mesh_plugin_sdk::{CallResult, Context, Host, Plugin, PluginInfo};

/// The plugin.
pub struct Trap;

impl Plugin for Trap {
    fn info() -> PluginInfo {
        PluginInfo::new("TrapSubroutine", "0.1.0")
    }

    fn process(_host: &dyn Host, _ctx: &Context) -> CallResult {
        #[cfg(target_arch = "wasm32")]
        core::arch::wasm32::unreachable();
        #[cfg(not(target_arch = "wasm32"))]
        std::process::abort();
    }
}

platform_mesh_plugin_sdk::export_plugin!(Trap);
