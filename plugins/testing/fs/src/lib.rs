//! Probes the sandbox's filesystem. Plugin config `{"read": "<path>"}` reads a file, `{"write": "<path>"}` writes
//! one. The outcome is always `ok`, with the message `ok: <n> bytes` or `error: <io error>`, so the host test can
//! see what the guest saw.

use platform_mesh_plugin_sdk::{CallResult, Context, Host, Plugin, PluginInfo, Reconciled};
use serde_json::Value;

/// The plugin.
pub struct Fs;

impl Plugin for Fs {
    fn info() -> PluginInfo {
        PluginInfo::new("FsSubroutine", "0.1.0")
    }

    fn process(_host: &dyn Host, ctx: &Context) -> CallResult {
        let path = |k: &str| {
            ctx.plugin_config
                .get(k)
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        let result = if let Some(p) = path("read") {
            std::fs::read(p).map(|b| b.len())
        } else if let Some(p) = path("write") {
            std::fs::write(p, b"written by a plugin").map(|()| 19)
        } else {
            return Ok(Reconciled::ok().with_message("nothing to do"));
        };
        let message = match result {
            Ok(n) => format!("ok: {n} bytes"),
            Err(e) => format!("error: {e}"),
        };
        Ok(Reconciled::ok().with_message(message))
    }
}

platform_mesh_plugin_sdk::export_plugin!(Fs);
