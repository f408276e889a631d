//! The operator flags this subroutine reads (spec §2.3, §2.8), with the operator's defaults when a flag is absent.

use platform_mesh_plugin_sdk::Context;
use serde_json::Value;

/// Flags and PlatformMesh fields that decide where secrets come from and which URLs they carry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    /// `--kcp-url`; empty means the in-cluster front-proxy URL.
    pub kcp_url: String,
    /// `--kcp-namespace`: RootShard, FrontProxy and the kcp Secrets live here.
    pub kcp_namespace: String,
    /// `--kcp-root-shard-name`; its CA Secret is `<name>-ca`.
    pub root_shard: String,
    /// `--kcp-front-proxy-name`.
    pub front_proxy: String,
    /// `--kcp-front-proxy-port`.
    pub front_proxy_port: String,
    /// `--kcp-cluster-admin-secret-name`.
    pub cluster_admin_secret: String,
}

impl Settings {
    /// Reads the flags from the call context.
    pub fn from_context(ctx: &Context) -> Self {
        let flag = |key: &str, default: &str| {
            ctx.flag(key)
                .filter(|v| !v.is_empty())
                .unwrap_or(default)
                .to_owned()
        };
        Settings {
            kcp_url: ctx.flag("kcpUrl").unwrap_or_default().to_owned(),
            kcp_namespace: flag("kcpNamespace", "platform-mesh-system"),
            root_shard: flag("kcpRootShardName", "root"),
            front_proxy: flag("kcpFrontProxyName", "frontproxy"),
            front_proxy_port: flag("kcpFrontProxyPort", "8443"),
            cluster_admin_secret: flag("kcpClusterAdminSecretName", "kcp-cluster-admin-client-cert"),
        }
    }

    /// The kcp base URL every in-cluster kubeconfig points at: `--kcp-url`, or
    /// `https://<front-proxy>-front-proxy.<kcp-namespace>:<port>`.
    pub fn base_url(&self) -> String {
        if self.kcp_url.is_empty() {
            format!(
                "https://{}-front-proxy.{}:{}",
                self.front_proxy, self.kcp_namespace, self.front_proxy_port
            )
        } else {
            self.kcp_url.trim_end_matches('/').to_owned()
        }
    }

    /// The CA Secret of the root shard.
    pub fn root_ca_secret(&self) -> String {
        format!("{}-ca", self.root_shard)
    }
}

/// The public kcp host of connections with `external: true`: `https://kcp.api.<baseDomain>:<port>`.
/// Upstream dereferences a missing `spec.exposure` here (a panic); this is a clear error instead.
pub fn external_base_url(pm: &Value) -> Result<String, String> {
    let Some(exposure) = pm.pointer("/spec/exposure").filter(|e| e.is_object()) else {
        return Err("provider connection with external: true requires spec.exposure".into());
    };
    let domain = exposure
        .get("baseDomain")
        .and_then(Value::as_str)
        .filter(|d| !d.is_empty())
        .ok_or("provider connection with external: true requires spec.exposure.baseDomain")?;
    let port = exposure.get("port").and_then(Value::as_i64).unwrap_or(8443);
    Ok(format!("https://kcp.api.{domain}:{port}"))
}

/// `base` + `/` + `path`, with exactly one slash between them.
pub fn join_url(base: &str, path: &str) -> String {
    format!("{}/{}", base.trim_end_matches('/'), path.trim_start_matches('/'))
}
