//! Template data of a toggle's manifests: the exposure variables of spec §5.6.1 (`baseDomain`, `protocol`,
//! `port` as a string, `baseDomainPort`), plus the toggle's `parameters` as `.parameters` (upstream ignores them).

use serde_json::{Map, Value, json};

/// The data for one toggle entry of `spec.featureToggles`.
pub fn for_toggle(pm: &Value, toggle: &Value) -> Value {
    let exposure = pm.pointer("/spec/exposure");
    let field = |k: &str| exposure.and_then(|e| e.get(k));
    let base_domain = field("baseDomain")
        .and_then(Value::as_str)
        .filter(|d| !d.is_empty())
        .unwrap_or("portal.localhost");
    let protocol = field("protocol")
        .and_then(Value::as_str)
        .filter(|p| !p.is_empty())
        .unwrap_or("https");
    let port = field("port")
        .and_then(Value::as_i64)
        .filter(|p| *p != 0)
        .unwrap_or(8443);
    let base_domain_port = if port == 80 || port == 443 {
        base_domain.to_owned()
    } else {
        format!("{base_domain}:{port}")
    };
    let parameters = toggle
        .get("parameters")
        .filter(|p| p.is_object())
        .cloned()
        .unwrap_or_else(|| Value::Object(Map::new()));
    json!({
        "baseDomain": base_domain,
        "protocol": protocol,
        "port": port.to_string(),
        "baseDomainPort": base_domain_port,
        "parameters": parameters,
    })
}

#[cfg(test)]
mod tests {
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
