//! Template strings inside `spec.values` (spec §5.6.4 step 4, upstream `renderTemplatesInValue`): every string that
//! contains both `{{` and `}}` is rendered with the deployment function map; a string that fails to parse or execute
//! is kept as it is (upstream behaviour, so that `${...}` and other tools' syntax pass through).

use platform_mesh_plugin_sdk::{Funcs, Host, LogLevel};
use serde_json::Value;

/// `value` with every template string rendered with `data`.
pub fn render_templates_in_value(host: &dyn Host, value: &Value, data: &Value) -> Value {
    match value {
        Value::String(s) if s.contains("{{") && s.contains("}}") => {
            match host.render_string("spec.values", s, data, Funcs::Deployment) {
                Ok(rendered) => Value::String(rendered),
                Err(e) => {
                    host.log(
                        LogLevel::Debug,
                        "keeping a spec.values string that does not render",
                        &[("error", &e.to_string())],
                    );
                    value.clone()
                }
            }
        }
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), render_templates_in_value(host, v, data)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|v| render_templates_in_value(host, v, data))
                .collect(),
        ),
        other => other.clone(),
    }
}
