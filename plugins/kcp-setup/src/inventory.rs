//! Spec §6.9: the identity hashes of kcp's root APIExports and the CA bundles the webhook and authentication
//! manifests embed. Both are read on every pass, so a rotated CA reaches kcp on the next reconcile (fix of §11.3
//! item 31: upstream cached the CA bundles until the process restarted).

use base64::{Engine as _, engine::general_purpose::STANDARD};
use platform_mesh_plugin_sdk::{Gvk, Host, Target};
use serde_json::{Map, Value};

use crate::settings::{CA_NAMESPACE, Settings};

/// `(template key, APIExport in root)` of the identity hashes.
pub const IDENTITY_HASHES: [(&str, &str); 3] = [
    ("apiExportRootTenancyKcpIoIdentityHash", "tenancy.kcp.io"),
    ("apiExportRootShardsKcpIoIdentityHash", "shards.core.kcp.io"),
    ("apiExportRootTopologyKcpIoIdentityHash", "topology.kcp.io"),
];

/// `(template key, Secret, key)` of the webhook CA bundles.
pub const WEBHOOK_CA_BUNDLES: [(&str, &str, &str); 3] = [
    (
        "account-operator.webhooks.core.platform-mesh.io.ca-bundle",
        "account-operator-webhook-server-cert",
        "ca.crt",
    ),
    (
        "identityproviderconfiguration-validator.webhooks.core.platform-mesh.io.ca-bundle",
        "security-operator-ca-secret",
        "ca.crt",
    ),
    (
        "organization-validator.webhooks.core.platform-mesh.io.ca-bundle",
        "account-operator-webhook-server-cert",
        "ca.crt",
    ),
];

/// Reads `status.identityHash` of the three root APIExports into `data`.
pub fn identity_hashes(host: &dyn Host, data: &mut Map<String, Value>) -> Result<(), String> {
    let export = Gvk::new("apis.kcp.io", "v1alpha1", "APIExport");
    for (key, name) in IDENTITY_HASHES {
        let found = host
            .get(&Target::kcp("root"), &export.object(None, name))
            .map_err(|e| format!("getting APIExport root:{name}: {e}"))?;
        let hash = found
            .as_ref()
            .and_then(|e| e.pointer("/status/identityHash"))
            .and_then(Value::as_str)
            .filter(|h| !h.is_empty());
        match (found.is_some(), hash) {
            (_, Some(hash)) => data.insert(key.into(), Value::String(hash.to_owned())),
            (true, None) => return Err(format!("APIExport root:{name} has no status.identityHash yet")),
            (false, None) => return Err(format!("APIExport root:{name} not found")),
        };
    }
    Ok(())
}

/// Why a CA bundle could not be read.
#[derive(Debug, PartialEq, Eq)]
pub enum CaError {
    /// The Secret does not exist yet (its operator or issuer has not written it): wait for it.
    Missing(String),
    /// Reading failed, or the Secret lacks the key or its value is not usable.
    Failed(String),
}

impl std::fmt::Display for CaError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CaError::Missing(m) | CaError::Failed(m) => f.write_str(m),
        }
    }
}

/// The base64 value of `key` in Secret `CA_NAMESPACE/name`.
pub fn ca_bundle(host: &dyn Host, name: &str, key: &str) -> Result<String, CaError> {
    let secret = Gvk::new("", "v1", "Secret").object(Some(CA_NAMESPACE), name);
    let secret = host
        .get(&Target::Runtime, &secret)
        .map_err(|e| CaError::Failed(format!("getting Secret {CA_NAMESPACE}/{name}: {e}")))?
        .ok_or_else(|| CaError::Missing(format!("Secret {CA_NAMESPACE}/{name} not found")))?;
    secret
        .pointer("/data")
        .and_then(|d| d.get(key))
        .and_then(Value::as_str)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
        .ok_or_else(|| CaError::Failed(format!("Secret {CA_NAMESPACE}/{name} has no key {key}")))
}

/// Adds the webhook CA bundles (base64) and `domainCA` (base64) / `domainCADec` (PEM text) to `data`.
pub fn ca_bundles(
    host: &dyn Host,
    settings: &Settings,
    data: &mut Map<String, Value>,
) -> Result<(), CaError> {
    // Two webhooks share one Secret; read it once per pass.
    let mut read: Vec<(&str, &str, String)> = Vec::new();
    for (key, secret, secret_key) in WEBHOOK_CA_BUNDLES {
        let value = match read.iter().find(|(s, k, _)| *s == secret && *k == secret_key) {
            Some((_, _, value)) => value.clone(),
            None => {
                let value = ca_bundle(host, secret, secret_key)?;
                read.push((secret, secret_key, value.clone()));
                value
            }
        };
        data.insert(key.into(), Value::String(value));
    }
    let (name, key) = (&settings.domain_ca_secret_name, &settings.domain_ca_secret_key);
    let domain = ca_bundle(host, name, key)?;
    let pem = STANDARD.decode(&domain).map_err(|e| {
        CaError::Failed(format!(
            "Secret {CA_NAMESPACE}/{name} key {key} is not base64: {e}"
        ))
    })?;
    let pem = String::from_utf8(pem)
        .map_err(|_| CaError::Failed(format!("Secret {CA_NAMESPACE}/{name} key {key} is not text")))?;
    data.insert("domainCA".into(), Value::String(domain));
    data.insert("domainCADec".into(), Value::String(pem));
    Ok(())
}
