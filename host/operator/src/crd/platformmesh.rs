//! `PlatformMesh` (`core.platform-mesh.io/v1alpha1`, namespaced): one platform-mesh installation.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

use super::schema;

/// Desired state of a platform-mesh installation. Every field is optional.
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[kube(
    group = "core.platform-mesh.io",
    version = "v1alpha1",
    kind = "PlatformMesh",
    plural = "platformmeshes",
    singular = "platformmesh",
    namespaced,
    status = "PlatformMeshStatus",
    derive = "PartialEq",
    derive = "Default",
    doc = "A platform-mesh installation: the operator deploys its components, sets up kcp and writes provider secrets.",
    printcolumn = r#"{"name": "KCP", "type": "string", "description": "KCP status (shows reason if Unknown)", "jsonPath": ".status.conditions[?(@.type=='KcpsetupSubroutine')].status"}"#,
    printcolumn = r#"{"name": "KCP_REASON", "type": "string", "description": "KCP reason if status is Unknown", "jsonPath": ".status.conditions[?(@.type=='KcpsetupSubroutine')].reason", "priority": 1}"#,
    printcolumn = r#"{"name": "SECRET", "type": "string", "description": "SECRET status (shows reason if Unknown)", "jsonPath": ".status.conditions[?(@.type=='ProvidersecretSubroutine')].status"}"#,
    printcolumn = r#"{"name": "SECRET_REASON", "type": "string", "description": "SECRET reason if status is Unknown", "jsonPath": ".status.conditions[?(@.type=='ProvidersecretSubroutine')].reason", "priority": 1}"#,
    printcolumn = r#"{"name": "DEPLOYMENT", "type": "string", "description": "DEPLOYMENT status (shows reason if Unknown)", "jsonPath": ".status.conditions[?(@.type=='DeploymentSubroutine')].status"}"#,
    printcolumn = r#"{"name": "DEPLOYMENT_REASON", "type": "string", "description": "DEPLOYMENT reason if status is Unknown", "jsonPath": ".status.conditions[?(@.type=='DeploymentSubroutine')].reason", "priority": 1}"#,
    printcolumn = r#"{"name": "WAIT", "type": "string", "description": "WAIT status (shows reason if Unknown)", "jsonPath": ".status.conditions[?(@.type=='WaitSubroutine')].status"}"#,
    printcolumn = r#"{"name": "WAIT_REASON", "type": "string", "description": "WAIT reason if status is Unknown", "jsonPath": ".status.conditions[?(@.type=='WaitSubroutine')].reason", "priority": 1}"#,
    printcolumn = r#"{"name": "Ready", "type": "string", "description": "Shows if resource is ready", "jsonPath": ".status.conditions[?(@.type=='Ready')].status"}"#
)]
#[serde(rename_all = "camelCase")]
pub struct PlatformMeshSpec {
    /// External exposure of the portal (defaults in code: `portal.localhost`, `8443`, `https`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exposure: Option<Exposure>,
    /// kcp set-up: provider connections, extra API bindings and workspaces.
    #[serde(default, skip_serializing_if = "Kcp::is_empty")]
    pub kcp: Kcp,
    /// Component value overrides, merged over the profile's component values.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "schema::preserve_unknown")]
    pub values: Option<Value>,
    /// Declared for compatibility; the operator does not read it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "schema::preserve_unknown")]
    pub infra_values: Option<Value>,
    /// The OCM repository and component the platform is deployed from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ocm: Option<Ocm>,
    /// Feature toggles applied by the feature-toggle subroutine.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub feature_toggles: Option<Vec<FeatureToggle>>,
    /// What the wait subroutine waits for; replaces the default list when present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wait: Option<WaitConfig>,
    /// The profile ConfigMap; default `<name>-profile` in the PlatformMesh's namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile_config_map: Option<ProfileConfigMapRef>,
    /// The cluster this installation's components run in, when it is not the infra cluster: a kubeconfig Secret
    /// in the PlatformMesh's namespace on the infra cluster. Flux objects get it as `spec.kubeConfig.secretRef`,
    /// Argo CD Applications its server as destination. Overrides the `--remote-runtime-infra-secret-*` flags, so
    /// one operator can serve several environments.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runtime_kubeconfig_secret: Option<RuntimeKubeconfigSecret>,
}

/// How the portal is exposed.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Exposure {
    /// Base domain, e.g. `portal.localhost`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_domain: Option<String>,
    /// Port, e.g. `8443`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<i32>,
    /// Protocol, e.g. `https`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<String>,
}

/// kcp settings.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Kcp {
    /// Replaces the built-in default provider connections.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider_connections: Option<Vec<ProviderConnection>>,
    /// Appended to the default or the configured provider connections.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extra_provider_connections: Option<Vec<ProviderConnection>>,
    /// Extra API bindings added to workspace types.
    #[serde(
        default,
        rename = "extraDefaultAPIBindings",
        skip_serializing_if = "Option::is_none"
    )]
    pub extra_default_api_bindings: Option<Vec<DefaultApiBinding>>,
    /// Extra workspaces to create.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extra_workspaces: Option<Vec<ExtraWorkspace>>,
}

impl Kcp {
    /// Whether nothing is set (the field is then left out when serialising, like Go's `omitempty`).
    pub fn is_empty(&self) -> bool {
        self == &Kcp::default()
    }
}

/// A kubeconfig Secret the operator writes for a component. `adminAuth: true` writes an admin kubeconfig; otherwise
/// (scoped mode) exactly one of `endpointSliceName` or `apiExportName` must be set.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, KubeSchema)]
#[x_kube(validation = kube::core::Rule::new(
    "(has(self.adminAuth) && self.adminAuth) || \
     ((has(self.endpointSliceName) && size(self.endpointSliceName) > 0) != \
      (has(self.apiExportName) && size(self.apiExportName) > 0))"
).message("a scoped connection (adminAuth false or absent) needs exactly one of endpointSliceName or apiExportName"))]
#[serde(rename_all = "camelCase")]
pub struct ProviderConnection {
    /// Name of the Secret to write.
    pub secret: String,
    /// kcp workspace path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// A URL path used instead of `/clusters/<path>` in admin mode.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw_path: Option<String>,
    /// Name of an APIExportEndpointSlice in `path`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint_slice_name: Option<String>,
    /// Name of an APIExport in `path` (scoped mode only).
    #[serde(default, rename = "apiExportName", skip_serializing_if = "Option::is_none")]
    pub api_export_name: Option<String>,
    /// Use the public kcp host instead of the in-cluster front-proxy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external: Option<bool>,
    /// Target namespace of the Secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// `true`: admin kubeconfig; `false` or absent: scoped kubeconfig.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub admin_auth: Option<bool>,
}

/// An API binding added to a workspace type.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DefaultApiBinding {
    /// Path of the workspace type.
    pub workspace_type_path: String,
    /// The APIExport name.
    pub export: String,
    /// The workspace of the APIExport.
    pub path: String,
}

/// A workspace to create in kcp.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
pub struct ExtraWorkspace {
    /// Workspace path.
    pub path: String,
    /// Workspace type.
    #[serde(rename = "type")]
    pub type_: WorkspaceTypeRef,
}

/// Reference to a workspace type.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
pub struct WorkspaceTypeRef {
    /// Type name.
    pub name: String,
    /// Workspace path holding the type.
    pub path: String,
}

/// The OCM source of the platform.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Ocm {
    /// OCM repository.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repo: Option<NamedDefault>,
    /// OCM component.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub component: Option<NamedDefault>,
    /// Reference path into the component.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference_path: Option<Vec<ReferencePathElement>>,
}

/// An object reference whose name defaults to `platform-mesh`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
pub struct NamedDefault {
    /// Name; the CRD defaults it to `platform-mesh`.
    #[serde(default = "default_platform_mesh")]
    pub name: String,
}

impl Default for NamedDefault {
    fn default() -> Self {
        Self {
            name: default_platform_mesh(),
        }
    }
}

fn default_platform_mesh() -> String {
    "platform-mesh".to_owned()
}

/// One element of an OCM reference path.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
pub struct ReferencePathElement {
    /// Reference name.
    pub name: String,
}

/// A feature toggle.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
pub struct FeatureToggle {
    /// Toggle name, e.g. `feature-enable-getting-started`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Toggle parameters, passed to the toggle's manifests as `.parameters`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameters: Option<BTreeMap<String, String>>,
}

/// What the wait subroutine waits for.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct WaitConfig {
    /// The resource types to check; an empty list waits for nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_types: Option<Vec<WaitResourceType>>,
}

/// A kind of object, and which of its objects must carry a condition or a status field value. The kind is named
/// either flat (`group`, `version`, `kind`, `matchLabels`, `matchExpressions`) or in the documented nested shape
/// (`apiVersions`, `groupKind`, `labelSelector`); a flat field wins over its nested alias.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[schemars(extend("x-kubernetes-map-type" = "atomic"))]
#[serde(rename_all = "camelCase")]
pub struct WaitResourceType {
    /// API group (empty for the core group).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// API version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Kind.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Alias of `version`: the first of `versions` is used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_versions: Option<WaitApiVersions>,
    /// Alias of `group` and `kind`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_kind: Option<WaitGroupKind>,
    /// A single object by name; when empty the objects are listed with the label selector.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Namespace; empty lists across all namespaces.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Label selector: exact label matches.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub match_labels: Option<BTreeMap<String, String>>,
    /// Label selector: set-based requirements.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-kubernetes-list-type" = "atomic"))]
    pub match_expressions: Option<Vec<LabelSelectorRequirement>>,
    /// Alias of `matchLabels` and `matchExpressions`; both selectors must match when both are given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label_selector: Option<WaitLabelSelector>,
    /// Condition type that must be present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub condition_type: Option<String>,
    /// Required status of that condition.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub condition_status: Option<String>,
    /// Dot-separated path of a field (e.g. `.status.phase`) checked instead of the condition when set; needs
    /// `statusFieldValue`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 256))]
    pub status_field_path: Option<String>,
    /// The value the field at `statusFieldPath` must have (numbers and booleans as written in JSON).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_field_value: Option<String>,
}

/// The versions of a kind; the first is waited for.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
pub struct WaitApiVersions {
    /// API versions, preferred first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-kubernetes-list-type" = "atomic"))]
    pub versions: Option<Vec<String>>,
}

/// A group and kind.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
pub struct WaitGroupKind {
    /// API group (empty for the core group).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// Kind.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
}

/// A label selector.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct WaitLabelSelector {
    /// Exact label matches.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub match_labels: Option<BTreeMap<String, String>>,
    /// Set-based requirements.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-kubernetes-list-type" = "atomic"))]
    pub match_expressions: Option<Vec<LabelSelectorRequirement>>,
}

/// A label selector requirement (`key`, `operator`, `values`).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
pub struct LabelSelectorRequirement {
    /// Label key.
    pub key: String,
    /// `In`, `NotIn`, `Exists` or `DoesNotExist`.
    pub operator: String,
    /// Values for `In` and `NotIn`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-kubernetes-list-type" = "atomic"))]
    pub values: Option<Vec<String>>,
}

/// Reference to the profile ConfigMap.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
pub struct ProfileConfigMapRef {
    /// ConfigMap name.
    #[schemars(length(min = 1))]
    pub name: String,
    /// ConfigMap namespace; default the PlatformMesh's namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
}

/// Reference to the Secret holding the kubeconfig of a PlatformMesh's runtime cluster.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
pub struct RuntimeKubeconfigSecret {
    /// Secret name.
    #[schemars(length(min = 1))]
    pub name: String,
    /// Key of the kubeconfig in the Secret; default `kubeconfig`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
}

/// Observed state of a platform-mesh installation.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PlatformMeshStatus {
    /// One condition per subroutine plus `Ready`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(schema_with = "schema::conditions")]
    pub conditions: Vec<Condition>,
    /// The generation the last clean reconcile pass saw.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// Next scheduled reconcile (not used).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_reconcile_time: Option<k8s_openapi::apimachinery::pkg::apis::meta::v1::Time>,
    /// kcp workspaces set up by the operator.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kcp_workspaces: Option<Vec<KcpWorkspace>>,
}

/// A kcp workspace and its phase.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
pub struct KcpWorkspace {
    /// Workspace path.
    pub name: String,
    /// Phase, e.g. `Ready`.
    pub phase: String,
}
