//! Panics in `process`; the host must report the panic message it captured from stderr.

use platform_mesh_plugin_sdk::{CallResult, Context, Host, Plugin, PluginInfo};

/// The plugin.
pub struct Panic;

impl Plugin for Panic {
    fn info() -> PluginInfo {
        PluginInfo::new("PanicSubroutine", "0.1.0")
    }

    fn process(_host: &dyn Host, ctx: &Context) -> CallResult {
        panic!("guest panicked on purpose for {}", ctx.name());
    }
}

platform_mesh_plugin_sdk::export_plugin!(Panic);
