//! The names spec §4.8 derives from a Provider `p` living in logical cluster `c`.

use platform_mesh_plugin_sdk::{Context, Failure, Gvk, ObjectRef};
use serde_json::Value;

/// Where provider workspaces live.
pub const PARENT: &str = "root:providers";

/// Names of the objects made for one Provider.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Names {
    /// The provider workspace: `<p>-<c>`.
    pub workspace: String,
    /// ServiceAccount, ClusterRole and ClusterRoleBinding: `<p>-provider`.
    pub service_account: String,
    /// The ServiceAccount's token Secret: `<p>-provider-token`.
    pub token_secret: String,
    provider: String,
}

impl Names {
    /// The names for the Provider in `ctx`; fails when the Provider carries no `kcp.io/cluster` annotation.
    pub fn of(ctx: &Context) -> Result<Names, Failure> {
        let cluster = ctx
            .field("/metadata/annotations")
            .and_then(|a| a.get("kcp.io/cluster"))
            .and_then(Value::as_str)
            .filter(|c| !c.is_empty())
            .ok_or_else(|| {
                Failure::new(format!(
                    "Provider {} has no kcp.io/cluster annotation; it must be read from kcp",
                    ctx.name()
                ))
            })?;
        let p = ctx.name();
        Ok(Names {
            workspace: format!("{p}-{cluster}"),
            service_account: format!("{p}-provider"),
            token_secret: format!("{p}-provider-token"),
            provider: p.to_owned(),
        })
    }

    /// The provider Workspace object in `root:providers`.
    pub fn workspace_ref(&self) -> ObjectRef {
        Gvk::new("tenancy.kcp.io", "v1alpha1", "Workspace").object(None, &self.workspace)
    }

    /// `root:providers:<workspace>`.
    pub fn workspace_path(&self) -> String {
        format!("{PARENT}:{}", self.workspace)
    }

    /// `(name, namespace, key)` of the kubeconfig Secret in the Provider's workspace: `spec.providerKubeconfigSecret`
    /// or `<p>-provider-kubeconfig` in `default` under `kubeconfig`.
    pub fn kubeconfig_secret(&self, ctx: &Context) -> (String, String, String) {
        let spec = ctx.field("/spec/providerKubeconfigSecret");
        let field = |k: &str| {
            spec.and_then(|s| s.get(k))
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        match (field("name"), field("namespace"), field("key")) {
            (Some(name), Some(namespace), Some(key)) => (name, namespace, key),
            _ => (
                format!("{}-provider-kubeconfig", self.provider),
                "default".into(),
                "kubeconfig".into(),
            ),
        }
    }
}
