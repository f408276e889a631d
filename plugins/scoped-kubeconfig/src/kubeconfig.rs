//! The kubeconfig handed to a provider (spec §7.4, token form) and the kcp URL it points at.

use base64::{Engine as _, engine::general_purpose::STANDARD};
use platform_mesh_plugin_sdk::{Context, Host, RenderError};
use serde_json::json;

/// `spec.hostOverride`, else `--kcp-url`, else the in-cluster front-proxy URL (spec §2.8).
pub fn base_url(ctx: &Context) -> String {
    let non_empty = |v: Option<&str>| v.filter(|s| !s.is_empty()).map(str::to_owned);
    if let Some(host) = non_empty(ctx.field("/spec/hostOverride").and_then(|v| v.as_str())) {
        return host.trim_end_matches('/').to_owned();
    }
    if let Some(url) = non_empty(ctx.flag("kcpUrl")) {
        return url.trim_end_matches('/').to_owned();
    }
    let flag = |k: &str, default: &str| non_empty(ctx.flag(k)).unwrap_or_else(|| default.to_owned());
    format!(
        "https://{}-front-proxy.{}:{}",
        flag("kcpFrontProxyName", "frontproxy"),
        flag("kcpNamespace", "platform-mesh-system"),
        flag("kcpFrontProxyPort", "8443")
    )
}

/// The kubeconfig YAML for `server` with `(token, ca)` as stored in the token Secret (both base64).
pub fn render(host: &dyn Host, server: &str, (token, ca): &(String, String)) -> Result<String, RenderError> {
    let token = STANDARD
        .decode(token)
        .ok()
        .and_then(|t| String::from_utf8(t).ok())
        .ok_or_else(|| RenderError {
            source: "token Secret".into(),
            line: None,
            column: None,
            message: "data.token is not base64 UTF-8".into(),
        })?;
    let config = json!({
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "default-cluster", "cluster": {"server": server, "certificate-authority-data": ca}}],
        "users": [{"name": "default-auth", "user": {"token": token}}],
        "contexts": [{"name": "default-context", "context": {"cluster": "default-cluster", "user": "default-auth"}}],
        "current-context": "default-context",
    });
    host.to_yaml(&config)
}

/// Secret data encoding.
pub fn encode(text: &str) -> String {
    STANDARD.encode(text)
}
