//! Kubeconfigs read and written by this subroutine: the kcp admin configuration (spec §2.8), the admin form
//! (spec §7.2 step 7) and the token form (spec §7.4) of provider kubeconfigs.

use base64::{Engine, engine::general_purpose::STANDARD};
use platform_mesh_plugin_sdk::{Gvk, Host, Target};
use serde_json::{Value, json};

use crate::settings::Settings;

/// The decoded value of `key` in a Secret's `data`; `None` if absent, empty or not base64 text.
pub fn secret_value(secret: &Value, key: &str) -> Option<String> {
    let encoded = secret.pointer(&format!("/data/{key}"))?.as_str()?;
    let bytes = STANDARD.decode(encoded).ok()?;
    String::from_utf8(bytes).ok().filter(|s| !s.is_empty())
}

/// Reads a Secret from the runtime cluster; a missing Secret is an error naming it.
pub fn read_secret(host: &dyn Host, namespace: &str, name: &str) -> Result<Value, String> {
    let secret = Gvk::new("", "v1", "Secret").object(Some(namespace), name);
    host.get(&Target::Runtime, &secret)
        .map_err(|e| format!("reading secret {namespace}/{name}: {e}"))?
        .ok_or_else(|| format!("secret {namespace}/{name} not found"))
}

/// Parses kubeconfig text (YAML or JSON) with the host's YAML reader.
pub fn parse(host: &dyn Host, name: &str, text: &str) -> Result<Value, String> {
    let doc = host
        .parse_yaml(name, text)
        .map_err(|e| format!("parsing kubeconfig: {e}"))?;
    if doc.is_object() {
        Ok(doc)
    } else {
        Err(format!("parsing kubeconfig: {name} is not a mapping"))
    }
}

fn named<'a>(kubeconfig: &'a Value, list: &str, name: &str) -> Option<&'a Value> {
    kubeconfig
        .get(list)?
        .as_array()?
        .iter()
        .find(|e| e["name"] == name)
}

/// The CA (PEM text, possibly empty) of the admin kcp configuration built from the cluster-admin Secret
/// (spec §2.8). Every way that configuration cannot be built is an error, as upstream's "Failed to build
/// kubeconfig" is.
pub fn admin_ca(host: &dyn Host, settings: &Settings) -> Result<String, String> {
    let (ns, name) = (&settings.kcp_namespace, &settings.cluster_admin_secret);
    let secret = read_secret(host, ns, name)?;
    if secret
        .get("data")
        .and_then(Value::as_object)
        .is_none_or(|d| d.is_empty())
    {
        return Err(format!("secret {ns}/{name} has no data"));
    }
    if let Some(text) = secret_value(&secret, "kubeconfig") {
        let kubeconfig = parse(host, &format!("secret {ns}/{name} key kubeconfig"), &text)?;
        let context_name = kubeconfig["current-context"].as_str().unwrap_or_default();
        let context = named(&kubeconfig, "contexts", context_name).ok_or_else(|| {
            format!("context {context_name:?} not found in kubeconfig of secret {ns}/{name}")
        })?;
        let cluster_name = context["context"]["cluster"].as_str().unwrap_or_default();
        let cluster = named(&kubeconfig, "clusters", cluster_name).ok_or_else(|| {
            format!("cluster {cluster_name:?} not found in kubeconfig of secret {ns}/{name}")
        })?;
        let ca = cluster["cluster"]["certificate-authority-data"]
            .as_str()
            .and_then(|b64| STANDARD.decode(b64).ok())
            .and_then(|bytes| String::from_utf8(bytes).ok());
        return Ok(ca.unwrap_or_default());
    }
    let Some(ca) = secret_value(&secret, "ca.crt") else {
        return Err(format!(
            "secret {ns}/{name} has neither a kubeconfig nor a ca.crt key"
        ));
    };
    for key in ["tls.crt", "tls.key"] {
        if secret_value(&secret, key).is_none() {
            return Err(format!("secret {ns}/{name} is missing key {key}"));
        }
    }
    Ok(ca)
}

/// The admin form: `source` with every cluster's server and CA replaced (spec §7.2 step 7). Users, contexts and
/// the current context stay as they are.
pub fn admin_form(source: &Value, server: &str, ca_pem: &str) -> Value {
    let mut out = source.clone();
    if let Some(clusters) = out.get_mut("clusters").and_then(Value::as_array_mut) {
        for entry in clusters {
            if let Some(cluster) = entry.get_mut("cluster").and_then(Value::as_object_mut) {
                cluster.insert("server".into(), json!(server));
                cluster.insert(
                    "certificate-authority-data".into(),
                    json!(STANDARD.encode(ca_pem)),
                );
                cluster.remove("certificate-authority");
                cluster.remove("insecure-skip-tls-verify");
            }
        }
    }
    out
}

/// The CA PEM texts of every cluster entry of a kubeconfig.
pub fn cluster_cas(kubeconfig: &Value) -> Vec<String> {
    let clusters = kubeconfig.get("clusters").and_then(Value::as_array);
    clusters
        .into_iter()
        .flatten()
        .filter_map(|c| c.pointer("/cluster/certificate-authority-data")?.as_str())
        .filter_map(|b64| String::from_utf8(STANDARD.decode(b64).ok()?).ok())
        .collect()
}

/// The token form (spec §7.4).
pub fn token_form(server: &str, ca_pem: &str, token: &str) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "default-cluster", "cluster": {
            "server": server,
            "certificate-authority-data": STANDARD.encode(ca_pem),
        }}],
        "users": [{"name": "default-auth", "user": {"token": token}}],
        "contexts": [{"name": "default-context", "context": {"cluster": "default-cluster", "user": "default-auth"}}],
        "current-context": "default-context",
    })
}

/// The bearer token of a token-form kubeconfig's current user, if any.
pub fn token_of(kubeconfig: &Value) -> Option<String> {
    let context = kubeconfig["current-context"].as_str()?;
    let user = named(kubeconfig, "contexts", context)?["context"]["user"].as_str()?;
    named(kubeconfig, "users", user)?["user"]["token"]
        .as_str()
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
}

/// Serialises a kubeconfig as YAML with the host's `toYaml`.
pub fn to_text(host: &dyn Host, kubeconfig: &Value) -> Result<String, String> {
    host.to_yaml(kubeconfig)
        .map_err(|e| format!("serialising kubeconfig: {e}"))
}
