//! What one pass needs from the operator's flags (spec §2.3) and from the PlatformMesh's spec (§1.1.2), read once
//! with upstream's defaults.

use platform_mesh_plugin_sdk::{Context, exposure::Exposure};
use serde::Deserialize;
use serde_json::Value;

/// Namespace of the webhook and domain CA Secrets; hard-coded upstream (spec §6.9).
pub const CA_NAMESPACE: &str = "platform-mesh-system";

/// Operator flags and PlatformMesh fields used by kcp-setup.
#[derive(Clone, Debug, PartialEq)]
pub struct Settings {
    /// `--kcp-namespace`: RootShard, FrontProxy and the admin Secret live here.
    pub kcp_namespace: String,
    /// `--kcp-root-shard-name`.
    pub root_shard_name: String,
    /// `--kcp-front-proxy-name`.
    pub front_proxy_name: String,
    /// `--kcp-cluster-admin-secret-name`.
    pub admin_secret_name: String,
    /// `--domain-certificate-ca-secret-name`.
    pub domain_ca_secret_name: String,
    /// `--domain-certificate-ca-secret-key`.
    pub domain_ca_secret_key: String,
    /// `--idp-registration-allowed`.
    pub registration_allowed: bool,
    /// `--idp-welcome-additional-redirect-uris`.
    pub welcome_redirect_uris: Vec<String>,
    /// `--idp-welcome-additional-post-logout-redirect-uris`.
    pub welcome_post_logout_redirect_uris: Vec<String>,
    /// Exposure variables (spec §5.6.1).
    pub exposure: Exposure,
    /// Names of `spec.featureToggles`, in order.
    pub toggles: Vec<String>,
    /// `spec.kcp.extraDefaultAPIBindings`.
    pub extra_bindings: Vec<ExtraBinding>,
    /// `spec.kcp.extraWorkspaces`.
    pub extra_workspaces: Vec<ExtraWorkspace>,
}

/// One `spec.kcp.extraDefaultAPIBindings` entry (spec §6.6).
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", default)]
pub struct ExtraBinding {
    pub workspace_type_path: String,
    pub export: String,
    pub path: String,
}

/// One `spec.kcp.extraWorkspaces` entry (spec §6.7).
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct ExtraWorkspace {
    pub path: String,
    #[serde(rename = "type")]
    pub type_: TypeRef,
}

/// A WorkspaceType reference `{name, path}`.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct TypeRef {
    pub name: String,
    pub path: String,
}

fn flag<'a>(ctx: &'a Context, key: &str, default: &'a str) -> &'a str {
    ctx.flag(key).filter(|v| !v.is_empty()).unwrap_or(default)
}

fn flag_list(ctx: &Context, key: &str) -> Vec<String> {
    let items = ctx.operator_config.get(key).and_then(Value::as_array);
    items
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

fn spec_list<T: for<'de> Deserialize<'de>>(ctx: &Context, pointer: &str) -> Result<Vec<T>, String> {
    match ctx.field(pointer) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(value) => Vec::<T>::deserialize(value)
            .map_err(|e| format!("{}: {e}", pointer.trim_start_matches('/').replace('/', "."))),
    }
}

impl Settings {
    /// Reads the settings; a malformed `spec.kcp` list is an error naming the field.
    pub fn read(ctx: &Context) -> Result<Self, String> {
        let toggles = ctx.field("/spec/featureToggles").and_then(Value::as_array);
        let toggles = toggles
            .into_iter()
            .flatten()
            .filter_map(|t| t.get("name").and_then(Value::as_str))
            .map(str::to_owned)
            .collect();
        Ok(Settings {
            kcp_namespace: flag(ctx, "kcpNamespace", "platform-mesh-system").to_owned(),
            root_shard_name: flag(ctx, "kcpRootShardName", "root").to_owned(),
            front_proxy_name: flag(ctx, "kcpFrontProxyName", "frontproxy").to_owned(),
            admin_secret_name: flag(ctx, "kcpClusterAdminSecretName", "kcp-cluster-admin-client-cert")
                .to_owned(),
            domain_ca_secret_name: flag(ctx, "domainCertificateCaSecretName", "domain-certificate")
                .to_owned(),
            domain_ca_secret_key: flag(ctx, "domainCertificateCaSecretKey", "ca.crt").to_owned(),
            registration_allowed: ctx
                .operator_config
                .get("idpRegistrationAllowed")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            welcome_redirect_uris: flag_list(ctx, "idpWelcomeAdditionalRedirectUris"),
            welcome_post_logout_redirect_uris: flag_list(ctx, "idpWelcomeAdditionalPostLogoutRedirectUris"),
            exposure: Exposure::from_spec(ctx.field("/spec/exposure")),
            toggles,
            extra_bindings: spec_list(ctx, "/spec/kcp/extraDefaultAPIBindings")?,
            extra_workspaces: spec_list(ctx, "/spec/kcp/extraWorkspaces")?,
        })
    }

    /// Whether a toggle with exactly this name is listed.
    pub fn has_toggle(&self, name: &str) -> bool {
        self.toggles.iter().any(|t| t == name)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn ctx(spec: Value) -> Context {
        Context::for_object(
            "platformmesh",
            json!({"metadata": {"name": "pm", "namespace": "ns"}, "spec": spec}),
        )
    }

    #[test]
    fn defaults_follow_upstream() {
        let s = Settings::read(&ctx(json!({}))).unwrap();
        assert_eq!(s.kcp_namespace, "platform-mesh-system");
        assert_eq!(s.admin_secret_name, "kcp-cluster-admin-client-cert");
        assert_eq!(s.domain_ca_secret_key, "ca.crt");
        assert_eq!(s.exposure.base_domain_port(), "portal.localhost:8443");
        assert!(s.extra_bindings.is_empty() && s.extra_workspaces.is_empty());
    }

    #[test]
    fn well_known_ports_drop_from_base_domain_port() {
        let s = Settings::read(&ctx(json!({"exposure": {"baseDomain": "x.io", "port": 443}}))).unwrap();
        assert_eq!(s.exposure.base_domain_port(), "x.io");
        assert_eq!(s.exposure.port, "443");
    }

    #[test]
    fn kcp_lists_and_toggles_are_read() {
        let s = Settings::read(&ctx(json!({
            "featureToggles": [{"name": "a"}, {"parameters": {}}],
            "kcp": {"extraDefaultAPIBindings": [{"workspaceTypePath": "root:orgs", "export": "e", "path": "root"}],
                    "extraWorkspaces": [{"path": "root:x", "type": {"name": "universal", "path": "root"}}]},
        })))
        .unwrap();
        assert!(s.has_toggle("a") && !s.has_toggle("b"));
        assert_eq!(s.extra_bindings[0].workspace_type_path, "root:orgs");
        assert_eq!(s.extra_workspaces[0].type_.name, "universal");
    }

    #[test]
    fn malformed_kcp_list_names_the_field() {
        let err = Settings::read(&ctx(json!({"kcp": {"extraWorkspaces": "nope"}}))).unwrap_err();
        assert!(err.starts_with("spec.kcp.extraWorkspaces: "), "{err}");
    }
}
