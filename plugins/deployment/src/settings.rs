//! What one reconcile of the deployment subroutine works with: the PlatformMesh's identity and spec fields, and the
//! operator flags it reads (spec §2.3), taken from the call context once.

use platform_mesh_plugin_sdk::Context;
use serde_json::Value;

/// The profile ConfigMap key (spec §5.5).
pub const PROFILE_KEY: &str = "profile.yaml";

/// Where a kubeconfig Secret is: `spec.runtimeKubeconfigSecret` of the PlatformMesh (ours, not upstream's).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KubeconfigSecret {
    pub name: String,
    pub key: String,
    /// Named by the PlatformMesh (then the subroutine reads it for the Argo CD destination) rather than by flags.
    pub from_spec: bool,
}

/// The inputs of one reconcile.
#[derive(Clone, Debug)]
pub struct Settings {
    /// PlatformMesh name and namespace.
    pub name: String,
    pub namespace: String,
    /// `spec` of the PlatformMesh (`{}` if absent).
    pub spec: Value,
    /// The remote runtime cluster's kubeconfig Secret for Flux `spec.kubeConfig`: the PlatformMesh field if set,
    /// else the `--remote-runtime-infra-secret-*` flags when `--remote-runtime-kubeconfig` is set.
    pub kubeconfig: Option<KubeconfigSecret>,
    pub webhook_secret_name: String,
    pub webhook_ca_secret_name: String,
    pub enable_istio: bool,
    pub is_local: bool,
    pub kcp_namespace: String,
    pub root_shard_name: String,
    pub front_proxy_name: String,
    /// How the istio sidecar check finds the operator's own pod.
    pub pod: OperatorPod,
}

/// The label upstream finds the operator's pods by.
pub const OPERATOR_POD_LABEL: &str = "app=platform-mesh-operator";
/// Upstream's namespace of the operator.
pub const OPERATOR_NAMESPACE: &str = "platform-mesh-system";

/// Where the operator's pod is, for the istio sidecar check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OperatorPod {
    /// Named by the downward API (`PMO_POD_NAME`/`PMO_POD_NAMESPACE`): `(namespace, name)`.
    Named(String, String),
    /// The pods labelled [`OPERATOR_POD_LABEL`] in this namespace (`PMO_POD_NAMESPACE`, else
    /// [`OPERATOR_NAMESPACE`]), as upstream finds them — what a Go Deployment without the variables gets.
    Labelled(String),
}

fn flag<'a>(ctx: &'a Context, key: &str, default: &'a str) -> &'a str {
    ctx.flag(key).filter(|v| !v.is_empty()).unwrap_or(default)
}

fn bool_flag(ctx: &Context, key: &str, default: bool) -> bool {
    ctx.operator_config
        .get(key)
        .and_then(Value::as_bool)
        .unwrap_or(default)
}

impl Settings {
    /// Reads the settings from the call context (flag defaults as upstream's).
    pub fn from_context(ctx: &Context) -> Self {
        let spec = ctx
            .field("/spec")
            .cloned()
            .unwrap_or_else(|| Value::Object(Default::default()));
        let per_platform_mesh = spec.get("runtimeKubeconfigSecret").and_then(|r| {
            let name = r.get("name")?.as_str().filter(|n| !n.is_empty())?;
            let key = r.get("key").and_then(Value::as_str).filter(|k| !k.is_empty());
            Some(KubeconfigSecret {
                name: name.to_owned(),
                key: key.unwrap_or("kubeconfig").to_owned(),
                from_spec: true,
            })
        });
        let from_flags = (!flag(ctx, "remoteRuntimeKubeconfig", "").is_empty()).then(|| KubeconfigSecret {
            name: flag(ctx, "remoteRuntimeInfraSecretName", "").to_owned(),
            key: flag(ctx, "remoteRuntimeInfraSecretKey", "").to_owned(),
            from_spec: false,
        });
        let pod_namespace = flag(ctx, "podNamespace", OPERATOR_NAMESPACE).to_owned();
        let pod = match ctx.flag("podName").filter(|n| !n.is_empty()) {
            Some(name) => OperatorPod::Named(pod_namespace, name.to_owned()),
            None => OperatorPod::Labelled(pod_namespace),
        };
        Settings {
            name: ctx.name().to_owned(),
            namespace: ctx.namespace().to_owned(),
            spec,
            kubeconfig: per_platform_mesh.or(from_flags),
            webhook_secret_name: flag(ctx, "authorizationWebhookSecretName", "kcp-webhook-secret").to_owned(),
            webhook_ca_secret_name: flag(
                ctx,
                "authorizationWebhookSecretCaName",
                "rebac-authz-webhook-cert",
            )
            .to_owned(),
            enable_istio: bool_flag(ctx, "subroutinesDeploymentEnableIstio", true),
            is_local: bool_flag(ctx, "isLocal", false),
            kcp_namespace: flag(ctx, "kcpNamespace", "platform-mesh-system").to_owned(),
            root_shard_name: flag(ctx, "kcpRootShardName", "root").to_owned(),
            front_proxy_name: flag(ctx, "kcpFrontProxyName", "frontproxy").to_owned(),
            pod,
        }
    }

    /// A spec field, `None` when absent or null.
    pub fn spec_field(&self, key: &str) -> Option<&Value> {
        self.spec.get(key).filter(|v| !v.is_null())
    }

    /// The profile ConfigMap's namespace and name (spec §5.5): `spec.profileConfigMap` (namespace defaulting to
    /// the PlatformMesh's), else `<name>-profile` in the PlatformMesh's namespace.
    pub fn profile_config_map(&self) -> (String, String) {
        let reference = self.spec_field("profileConfigMap");
        let name = reference
            .and_then(|r| r.get("name"))
            .and_then(Value::as_str)
            .filter(|n| !n.is_empty());
        match name {
            Some(name) => {
                let namespace = reference
                    .and_then(|r| r.get("namespace"))
                    .and_then(Value::as_str)
                    .filter(|n| !n.is_empty())
                    .unwrap_or(&self.namespace);
                (namespace.to_owned(), name.to_owned())
            }
            None => (self.namespace.clone(), format!("{}-profile", self.name)),
        }
    }
}
