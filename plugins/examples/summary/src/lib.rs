//! An example vendor plugin: after the platform's own subroutines, it posts a ConfigMap
//! `<platformmesh>-summary` next to each PlatformMesh with one line per condition, so tools without access to
//! the custom resource can see how the platform is doing. Plugin config: `{"suffix": "-summary"}`.

use platform_mesh_plugin_sdk::{
    ApplyOptions, CallResult, Context, Host, Plugin, PluginInfo, Reconciled, Target,
};
use serde_json::{Value, json};

/// The plugin.
pub struct Summary;

impl Plugin for Summary {
    fn info() -> PluginInfo {
        PluginInfo::new("SummarySubroutine", env!("CARGO_PKG_VERSION"))
    }

    fn process(host: &dyn Host, ctx: &Context) -> CallResult {
        let suffix = ctx.plugin_config["suffix"].as_str().unwrap_or("-summary");
        let conditions = ctx.field("/status/conditions").and_then(Value::as_array);
        let lines: Vec<String> = conditions
            .into_iter()
            .flatten()
            .map(|c| {
                format!(
                    "{}={} {}",
                    c["type"].as_str().unwrap_or("?"),
                    c["status"].as_str().unwrap_or("?"),
                    c["message"].as_str().unwrap_or_default()
                )
            })
            .collect();
        let summary = json!({
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": format!("{}{suffix}", ctx.name()), "namespace": ctx.namespace()},
            "data": {"conditions": lines.join("\n")},
        });
        host.apply(
            &Target::Runtime,
            &summary,
            &ApplyOptions::force("example-summary"),
        )?;
        Ok(Reconciled::ok())
    }
}

platform_mesh_plugin_sdk::export_plugin!(Summary);

#[cfg(test)]
mod tests {
    use platform_mesh_plugin_sdk::{Gvk, testing::FakeHost};

    use super::*;

    #[test]
    fn posts_one_line_per_condition() {
        let host = FakeHost::new();
        let object = json!({"metadata": {"name": "pm", "namespace": "ns"}, "status": {"conditions": [
            {"type": "WaitSubroutine", "status": "True", "message": ""},
            {"type": "Ready", "status": "Unknown", "message": "pending"},
        ]}});
        let done = Summary::process(&host, &Context::for_object("platformmesh", object)).unwrap();
        assert_eq!(done, Reconciled::ok());
        let posted = host.object(
            &Target::Runtime,
            &Gvk::new("", "v1", "ConfigMap").object(Some("ns"), "pm-summary"),
        );
        assert_eq!(
            posted.unwrap()["data"]["conditions"],
            "WaitSubroutine=True \nReady=Unknown pending"
        );
    }
}
