//! Loops forever in `process`; only the host's deadline ends it.

use platform_mesh_plugin_sdk::{CallResult, Context, Host, Plugin, PluginInfo};

/// The plugin.
pub struct Spin;

impl Plugin for Spin {
    fn info() -> PluginInfo {
        PluginInfo::new("SpinSubroutine", "0.1.0")
    }

    fn process(_host: &dyn Host, _ctx: &Context) -> CallResult {
        let mut n = 0u64;
        loop {
            // black_box keeps the optimiser from proving the loop has no effect.
            n = std::hint::black_box(n.wrapping_add(1));
        }
    }
}

platform_mesh_plugin_sdk::export_plugin!(Spin);
