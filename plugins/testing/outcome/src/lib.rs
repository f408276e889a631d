//! Returns the outcome its plugin config (`{"outcome": ...}`) or the object's annotation
//! `test.platform-mesh.io/outcome` asks for — `ok`, `pending`, `stop` or `error` — with a status patch naming it.
//! With `"log": true` it logs one line, and with `"get": {apiVersion, kind, namespace, name}` it reads one object
//! from the runtime cluster and returns its name as the message; the host tests and benchmarks use both.

use std::time::Duration;

use platform_mesh_plugin_sdk::{
    CallResult, Context, Failure, Gvk, Host, LogLevel, ObjectRef, Plugin, PluginInfo, Reconciled, Target,
};
use serde_json::{Value, json};

/// The plugin.
pub struct OutcomePlugin;

fn choice(ctx: &Context) -> String {
    let annotation = ctx
        .field("/metadata/annotations/test.platform-mesh.io~1outcome")
        .and_then(Value::as_str);
    let config = ctx.plugin_config.get("outcome").and_then(Value::as_str);
    annotation.or(config).unwrap_or("ok").to_owned()
}

impl Plugin for OutcomePlugin {
    fn info() -> PluginInfo {
        PluginInfo::new("OutcomeSubroutine", "0.1.0").with_finalizer("test.platform-mesh.io/outcome")
    }

    fn process(host: &dyn Host, ctx: &Context) -> CallResult {
        if ctx.plugin_config.get("log").and_then(Value::as_bool) == Some(true) {
            host.log(LogLevel::Info, "processing", &[("object", ctx.name())]);
        }
        let mut message = None;
        if let Some(get) = ctx.plugin_config.get("get") {
            let field = |k: &str| get.get(k).and_then(Value::as_str).unwrap_or_default();
            let gvk = Gvk::from_api_version(field("apiVersion"), field("kind"));
            let object = ObjectRef {
                gvk,
                namespace: Some(field("namespace").to_owned()),
                name: field("name").into(),
            };
            let found = host
                .get(&Target::Runtime, &object)
                .map_err(|e| Failure::new(format!("get: {e}")))?;
            message = found.and_then(|o| {
                o.pointer("/metadata/name")
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            });
        }
        let chosen = choice(ctx);
        let status = json!({"testOutcome": chosen});
        let after = Duration::from_secs(7);
        Ok(match chosen.as_str() {
            "pending" => Reconciled::pending("pending on purpose", after),
            "stop" => Reconciled::stop_after(after, "stopped on purpose"),
            "error" => return Err(Failure::new("failed on purpose").with_status(status)),
            _ => Reconciled::ok().with_message(message.unwrap_or_default()),
        }
        .with_status(status))
    }

    fn finalize(_host: &dyn Host, ctx: &Context) -> CallResult {
        Ok(Reconciled::ok().with_status(json!({"finalized": ctx.name()})))
    }
}

platform_mesh_plugin_sdk::export_plugin!(OutcomePlugin);
