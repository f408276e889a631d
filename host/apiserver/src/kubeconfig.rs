//! Kubeconfig files pointing at the embedded server.

use std::path::Path;

use serde_json::json;

/// Contexts `embedded` (current, the plain cluster) and `kcp-root` (`<url>/clusters/root`), anonymous user.
pub fn kubeconfig(url: &str) -> kube::config::Kubeconfig {
    let doc = json!({
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {"name": "embedded", "cluster": {"server": url}},
            {"name": "kcp-root", "cluster": {"server": format!("{url}/clusters/root")}},
        ],
        "users": [{"name": "anonymous", "user": {}}],
        "contexts": [
            {"name": "embedded", "context": {"cluster": "embedded", "user": "anonymous"}},
            {"name": "kcp-root", "context": {"cluster": "kcp-root", "user": "anonymous"}},
        ],
        "current-context": "embedded",
    });
    serde_json::from_value(doc).unwrap_or_default()
}

/// Writes a kubeconfig as YAML.
///
/// # Errors
///
/// Serialisation or I/O failures.
pub fn write(config: &kube::config::Kubeconfig, path: &Path) -> std::io::Result<()> {
    let yaml = serde_norway::to_string(config).map_err(std::io::Error::other)?;
    std::fs::write(path, yaml)
}
