//! Which resources to wait for: `spec.wait.resourceTypes`, or the default HelmRelease entry (spec §8.1).

use std::collections::BTreeMap;

use platform_mesh_plugin_sdk::{Context, selector::Requirement};
use serde::Deserialize;
use serde_json::Value;

/// One entry of `spec.wait.resourceTypes`; every key is flat in the item.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ResourceType {
    pub group: String,
    pub version: String,
    pub kind: String,
    /// Set: get this object. Empty: list with the selector.
    pub name: String,
    /// Empty: all namespaces (list) or a cluster-scoped object (get).
    pub namespace: String,
    pub match_labels: BTreeMap<String, String>,
    pub match_expressions: Vec<Requirement>,
    pub condition_type: String,
    pub condition_status: String,
}

/// The default: HelmReleases in `default` created by the operator must be Ready.
pub fn default_resource_types() -> Vec<ResourceType> {
    vec![ResourceType {
        group: "helm.toolkit.fluxcd.io".into(),
        version: "v2".into(),
        kind: "HelmRelease".into(),
        namespace: "default".into(),
        match_expressions: vec![Requirement {
            key: "core.platform-mesh.io/operator-created".into(),
            operator: "In".into(),
            values: vec!["true".into()],
        }],
        condition_type: "Ready".into(),
        condition_status: "True".into(),
        ..Default::default()
    }]
}

/// `spec.wait` absent → the default list; present → exactly its `resourceTypes` (possibly none). An entry
/// that cannot be decoded is skipped: the API server's schema already rejects such objects.
pub fn resource_types(ctx: &Context) -> Vec<ResourceType> {
    match ctx.field("/spec/wait") {
        None | Some(Value::Null) => default_resource_types(),
        Some(wait) => wait
            .get("resourceTypes")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|item| ResourceType::deserialize(item).ok())
            .collect(),
    }
}
