//! Allocates and touches 4 MiB chunks in `process` until the host's memory cap stops it.

use platform_mesh_plugin_sdk::{CallResult, Context, Host, Plugin, PluginInfo};

/// The plugin.
pub struct Hog;

impl Plugin for Hog {
    fn info() -> PluginInfo {
        PluginInfo::new("HogSubroutine", "0.1.0")
    }

    fn process(_host: &dyn Host, _ctx: &Context) -> CallResult {
        let mut chunks: Vec<Vec<u8>> = Vec::new();
        loop {
            chunks.push(vec![1u8; 4 << 20]);
            std::hint::black_box(&chunks);
        }
    }
}

platform_mesh_plugin_sdk::export_plugin!(Hog);
