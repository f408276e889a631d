//! Template data of a toggle's manifests: the exposure variables of spec §5.6.1 (`baseDomain`, `protocol`,
//! `port` as a string, `baseDomainPort`), plus the toggle's `parameters` as `.parameters` (upstream ignores them).

use platform_mesh_plugin_sdk::exposure::Exposure;
use serde_json::{Map, Value};

/// The data for one toggle entry of `spec.featureToggles`.
pub fn for_toggle(pm: &Value, toggle: &Value) -> Value {
    let mut data = Exposure::of(pm).variables();
    let parameters = toggle
        .get("parameters")
        .filter(|p| p.is_object())
        .cloned()
        .unwrap_or_else(|| Value::Object(Map::new()));
    data.insert("parameters".into(), parameters);
    Value::Object(data)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn defaults_and_port_rules() {
        let v = for_toggle(&json!({}), &json!({"name": "t"}));
        assert_eq!(
            v,
            json!({"baseDomain": "portal.localhost", "protocol": "https", "port": "8443",
                   "baseDomainPort": "portal.localhost:8443", "parameters": {}})
        );
        let pm =
            json!({"spec": {"exposure": {"baseDomain": "example.com", "port": 443, "protocol": "http"}}});
        let v = for_toggle(&pm, &json!({"name": "t", "parameters": {"title": "Hi"}}));
        assert_eq!(v["baseDomainPort"], "example.com");
        assert_eq!(v["port"], "443");
        assert_eq!(v["parameters"]["title"], "Hi");
    }
}
