//! `Provider` (`providers.platform-mesh.io/v1alpha1`, cluster-scoped): a service provider living in a kcp
//! workspace, for which the operator creates a workspace and a scoped kubeconfig.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::schema;

/// Desired state of a provider.
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[kube(
    group = "providers.platform-mesh.io",
    version = "v1alpha1",
    kind = "Provider",
    plural = "providers",
    singular = "provider",
    status = "ProviderStatus",
    derive = "PartialEq",
    derive = "Default",
    doc = "A service provider in kcp: the operator creates its workspace and a scoped kubeconfig.",
    printcolumn = r#"{"name": "Phase", "type": "string", "description": "Bootstrap phase", "jsonPath": ".status.phase"}"#,
    printcolumn = r#"{"name": "KubeconfigSecret", "type": "string", "description": "Secret holding the provider kubeconfig", "jsonPath": ".status.providerKubeconfigSecretRef.name"}"#,
    printcolumn = r#"{"name": "Ready", "type": "string", "description": "Shows if resource is ready", "jsonPath": ".status.conditions[?(@.type=='Ready')].status"}"#
)]
#[serde(rename_all = "camelCase")]
pub struct ProviderSpec {
    /// Where to write the provider's kubeconfig; default `<name>-provider-kubeconfig` in `default`, key
    /// `kubeconfig`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider_kubeconfig_secret: Option<ProviderKubeconfigSecret>,
    /// Base URL written into the kubeconfig instead of the operator's kcp URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_override: Option<String>,
    /// What the provider's kubeconfig may do in the provider workspace. Absent: the default provider role (see
    /// [`ProviderAccess`]); upstream always granted cluster-admin.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access: Option<ProviderAccess>,
}

/// The rights of a provider's kubeconfig inside its workspace: the rules of ClusterRole `<name>-provider`, or
/// cluster-admin when asked for explicitly.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProviderAccess {
    /// Bind `cluster-admin` instead of the declared rules (upstream's behaviour).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster_admin: Option<bool>,
    /// The rules granted. Empty: the default provider role — everything in `apis.kcp.io` (APIExports and their
    /// content, APIResourceSchemas, endpoint slices, APIBindings), `ui.platform-mesh.io` content, and
    /// namespaces, ConfigMaps, Secrets and Events.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<k8s_openapi::api::rbac::v1::PolicyRule>,
}

/// Name, namespace and key of a kubeconfig Secret.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
pub struct ProviderKubeconfigSecret {
    /// Secret name.
    pub name: String,
    /// Secret namespace.
    pub namespace: String,
    /// Key holding the kubeconfig.
    pub key: String,
}

/// A `{name, namespace}` reference to a Secret, replaced as a whole.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[schemars(extend("x-kubernetes-map-type" = "atomic"))]
pub struct SecretReference {
    /// Secret name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Secret namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
}

/// Observed state of a provider.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProviderStatus {
    /// `Pending`, `ProvisioningWorkspace`, `ProvisioningKubeconfig`, `Ready` or `Deleting`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<ProviderPhase>,
    /// The kubeconfig Secret written for the provider.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider_kubeconfig_secret_ref: Option<SecretReference>,
    /// One condition per subroutine plus `Ready`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(schema_with = "schema::conditions")]
    pub conditions: Vec<Condition>,
    /// The generation the last clean reconcile pass saw.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
}

/// Bootstrap phase of a provider.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, JsonSchema)]
pub enum ProviderPhase {
    /// Not started.
    Pending,
    /// Creating the provider workspace.
    ProvisioningWorkspace,
    /// Writing the kubeconfig.
    ProvisioningKubeconfig,
    /// Done.
    Ready,
    /// Being deleted.
    Deleting,
}
