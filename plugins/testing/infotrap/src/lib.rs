//! Panics in `info()`: the host smoke-calls `info()` before a plugin set goes into service, so a set holding this
//! plugin must be refused and the set in service kept.

use platform_mesh_plugin_sdk::{CallResult, Context, Host, Plugin, PluginInfo, Reconciled};

/// The plugin.
pub struct InfoTrap;

impl Plugin for InfoTrap {
    fn info() -> PluginInfo {
        panic!("info() fails on purpose")
    }

    fn process(_host: &dyn Host, _ctx: &Context) -> CallResult {
        Ok(Reconciled::ok())
    }
}

platform_mesh_plugin_sdk::export_plugin!(InfoTrap);
