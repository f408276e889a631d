//! `ManagedProvider` (`providers.platform-mesh.io/v1alpha1`, namespaced): a provider the operator registers in kcp
//! and deploys into the runtime cluster.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{provider::SecretReference, schema};

/// Desired state of a managed provider.
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[kube(
    group = "providers.platform-mesh.io",
    version = "v1alpha1",
    kind = "ManagedProvider",
    plural = "managedproviders",
    singular = "managedprovider",
    namespaced,
    status = "ManagedProviderStatus",
    derive = "PartialEq",
    derive = "Default",
    doc = "A provider the operator registers in kcp and deploys into the runtime cluster.",
    printcolumn = r#"{"name": "Phase", "type": "string", "description": "Overall lifecycle phase", "jsonPath": ".status.phase"}"#,
    printcolumn = r#"{"name": "Ready", "type": "string", "description": "Shows if resource is ready", "jsonPath": ".status.conditions[?(@.type=='Ready')].status"}"#
)]
#[serde(rename_all = "camelCase")]
pub struct ManagedProviderSpec {
    /// The PlatformMesh (same namespace) that must be Ready first.
    pub platform_mesh_ref: PlatformMeshRef,
    /// Workloads to deploy; may be empty.
    pub runtime_deployments: Vec<RuntimeDeployment>,
    /// The Provider in kcp; default `root:providers:system` and the ManagedProvider's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<ProviderReference>,
    /// Copied to `Provider.spec.hostOverride`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider_host_override: Option<String>,
    /// Secret (key `kubeconfig`) pointing to a remote runtime cluster.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runtime_kubeconfig_secret_name: Option<String>,
    /// Name and key of the copied kubeconfig Secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider_kubeconfig_secret: Option<KubeconfigSecretRef>,
    /// On deletion also delete the Provider in kcp.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cleanup_on_delete: Option<bool>,
}

/// Reference to a PlatformMesh by name.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
pub struct PlatformMeshRef {
    /// PlatformMesh name.
    pub name: String,
}

/// Where the Provider lives in kcp.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
pub struct ProviderReference {
    /// Workspace path holding the Provider.
    #[schemars(regex(pattern = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(:[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"))]
    pub path: String,
    /// Provider name.
    #[schemars(length(min = 1))]
    pub name: String,
}

/// Name and key of a kubeconfig Secret in the ManagedProvider's namespace.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
pub struct KubeconfigSecretRef {
    /// Secret name.
    pub name: String,
    /// Key holding the kubeconfig.
    pub key: String,
}

/// One workload to deploy: exactly one of `flux` or `ocm`.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, KubeSchema)]
#[x_kube(validation = kube::core::Rule::new("has(self.flux) != has(self.ocm)")
    .message("exactly one of flux or ocm must be set"))]
pub struct RuntimeDeployment {
    /// A Helm chart from an OCI registry or a Helm repository.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flux: Option<FluxDeployment>,
    /// A chart resolved through an OCM component.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ocm: Option<OcmDeployment>,
}

/// Source type of a Flux deployment.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum FluxSourceType {
    /// OCI registry.
    #[default]
    Oci,
    /// Helm repository.
    Helm,
}

/// A Helm chart deployed through Flux.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
pub struct FluxDeployment {
    /// `oci` (default) or `helm`.
    #[serde(default, rename = "type")]
    pub type_: FluxSourceType,
    /// `oci`: registry host and base path; `helm`: Helm repository URL.
    pub registry: String,
    /// `oci`: repository path under the registry; `helm`: chart name.
    pub chart: String,
    /// OCI tag or chart version.
    pub version: String,
    /// Helm values.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "schema::preserve_unknown")]
    pub values: Option<Value>,
    /// Plain-HTTP registry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub insecure: Option<bool>,
}

/// A chart resolved through an OCM component.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct OcmDeployment {
    /// OCM/OCI registry root, e.g. `ghcr.io/platform-mesh`.
    pub registry: String,
    /// Full component name.
    pub component: String,
    /// Component version.
    pub version: String,
    /// Deployment name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Resource name in the component (default in code: `chart`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_name: Option<String>,
    /// Reference path into the component.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference_path: Option<Vec<super::platformmesh::ReferencePathElement>>,
    /// Helm values.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "schema::preserve_unknown")]
    pub values: Option<Value>,
    /// Plain-HTTP registry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub insecure: Option<bool>,
}

/// Observed state of a managed provider.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ManagedProviderStatus {
    /// Overall lifecycle phase.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<ManagedProviderPhase>,
    /// The copied kubeconfig Secret.
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

/// Lifecycle phase of a managed provider.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, JsonSchema)]
pub enum ManagedProviderPhase {
    /// Not started.
    Pending,
    /// Waiting for the PlatformMesh to be Ready.
    WaitingForPlatformMesh,
    /// Waiting for the Provider in kcp.
    WaitingForProvider,
    /// Copying the provider kubeconfig.
    CopyingKubeconfig,
    /// Copying the kubeconfig failed.
    CopyingKubeconfigFailed,
    /// Deploying the runtime workloads.
    Deploying,
    /// Done.
    Ready,
    /// Being deleted.
    Deleting,
}
