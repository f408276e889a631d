//! Which resources to wait for: `spec.wait.resourceTypes`, or the default HelmRelease entry (spec §8.1).
//!
//! An entry names its kind flat (`group`, `version`, `kind`, `matchLabels`, `matchExpressions`) as upstream's CRD
//! does, or in the shape the product documentation shows (`apiVersions.versions`, `groupKind`, `labelSelector`);
//! a non-empty flat field wins over its alias, and both selectors must match. `statusFieldPath` with
//! `statusFieldValue` replaces the condition check.

use std::collections::BTreeMap;

use platform_mesh_plugin_sdk::{Context, selector::Requirement};
use serde::Deserialize;
use serde_json::Value;

/// The longest `statusFieldPath` accepted (the CRD says the same).
pub const MAX_PATH_LEN: usize = 256;

/// One entry of `spec.wait.resourceTypes`, aliases resolved.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
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
    /// Checked instead of the condition when set.
    pub status_field: Option<StatusField>,
}

/// A field of the object that must have a given value.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StatusField {
    /// Path segments: object keys, or array indices where the value is an array.
    pub segments: Vec<String>,
    pub value: String,
}

impl StatusField {
    /// The field exists and is the wanted string, or a number or boolean written as the wanted text.
    pub fn matches(&self, object: &Value) -> bool {
        let mut current = object;
        for segment in &self.segments {
            let next = match current {
                Value::Object(map) => map.get(segment),
                Value::Array(items) => segment.parse::<usize>().ok().and_then(|i| items.get(i)),
                _ => None,
            };
            let Some(next) = next else { return false };
            current = next;
        }
        match current {
            Value::String(text) => *text == self.value,
            Value::Bool(flag) => self.value == if *flag { "true" } else { "false" },
            Value::Number(number) => self.value == number.to_string(),
            _ => false,
        }
    }
}

/// `null` (the CRD marks every field nullable) reads as the field's default instead of failing the entry.
fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// The documented `apiVersions` object.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ApiVersions {
    #[serde(deserialize_with = "null_as_default")]
    versions: Vec<String>,
}

/// The documented `groupKind` object.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct GroupKind {
    #[serde(deserialize_with = "null_as_default")]
    group: String,
    #[serde(deserialize_with = "null_as_default")]
    kind: String,
}

/// The documented `labelSelector` object.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct NestedSelector {
    #[serde(deserialize_with = "null_as_default")]
    match_labels: BTreeMap<String, String>,
    #[serde(deserialize_with = "null_as_default")]
    match_expressions: Vec<Requirement>,
}

/// An entry as written.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct Raw {
    #[serde(deserialize_with = "null_as_default")]
    group: String,
    #[serde(deserialize_with = "null_as_default")]
    version: String,
    #[serde(deserialize_with = "null_as_default")]
    kind: String,
    #[serde(deserialize_with = "null_as_default")]
    api_versions: ApiVersions,
    #[serde(deserialize_with = "null_as_default")]
    group_kind: GroupKind,
    #[serde(deserialize_with = "null_as_default")]
    name: String,
    #[serde(deserialize_with = "null_as_default")]
    namespace: String,
    #[serde(deserialize_with = "null_as_default")]
    match_labels: BTreeMap<String, String>,
    #[serde(deserialize_with = "null_as_default")]
    match_expressions: Vec<Requirement>,
    #[serde(deserialize_with = "null_as_default")]
    label_selector: NestedSelector,
    #[serde(deserialize_with = "null_as_default")]
    condition_type: String,
    #[serde(deserialize_with = "null_as_default")]
    condition_status: String,
    #[serde(deserialize_with = "null_as_default")]
    status_field_path: Option<String>,
    #[serde(deserialize_with = "null_as_default")]
    status_field_value: Option<String>,
}

fn first_non_empty(flat: String, alias: impl IntoIterator<Item = String>) -> String {
    if !flat.is_empty() {
        return flat;
    }
    alias.into_iter().find(|v| !v.is_empty()).unwrap_or_default()
}

/// Splits `.status.phase` (the leading dot is optional) into segments; every segment must be non-empty.
fn parse_path(path: &str) -> Result<Vec<String>, String> {
    if path.len() > MAX_PATH_LEN {
        return Err(format!(
            "statusFieldPath is longer than {MAX_PATH_LEN} characters"
        ));
    }
    let trimmed = path.strip_prefix('.').unwrap_or(path);
    let segments: Vec<String> = trimmed.split('.').map(str::to_owned).collect();
    if segments.iter().any(String::is_empty) {
        return Err(format!("statusFieldPath {path:?} has an empty segment"));
    }
    Ok(segments)
}

impl Raw {
    fn resolve(self) -> Result<ResourceType, String> {
        let group = if self.group.is_empty() {
            self.group_kind.group
        } else {
            self.group
        };
        let version = first_non_empty(self.version, self.api_versions.versions);
        let kind = first_non_empty(self.kind, [self.group_kind.kind]);
        if kind.is_empty() || version.is_empty() {
            return Err(
                "names no kind and version (set kind and version, or groupKind and apiVersions)".into(),
            );
        }
        let mut match_labels = self.match_labels;
        let mut match_expressions = self.match_expressions;
        for (key, value) in self.label_selector.match_labels {
            match match_labels.get(&key) {
                None => {
                    match_labels.insert(key, value);
                }
                // Both selectors must hold: a second value for the same key is a requirement of its own.
                Some(existing) if *existing != value => match_expressions.push(Requirement {
                    key,
                    operator: "In".into(),
                    values: vec![value],
                }),
                Some(_) => {}
            }
        }
        match_expressions.extend(self.label_selector.match_expressions);
        let status_field = match (self.status_field_path, self.status_field_value) {
            (None, None) => None,
            (Some(path), Some(value)) if !path.is_empty() => Some(StatusField {
                segments: parse_path(&path)?,
                value,
            }),
            _ => return Err("needs both statusFieldPath and statusFieldValue".into()),
        };
        Ok(ResourceType {
            group,
            version,
            kind,
            name: self.name,
            namespace: self.namespace,
            match_labels,
            match_expressions,
            condition_type: self.condition_type,
            condition_status: self.condition_status,
            status_field,
        })
    }
}

/// The default: HelmReleases created by the operator in the PlatformMesh's namespace (where the Deployment
/// subroutine renders them) must be Ready. Upstream looks in `default` instead and so checks nothing.
pub fn default_resource_types(namespace: &str) -> Vec<ResourceType> {
    vec![ResourceType {
        group: "helm.toolkit.fluxcd.io".into(),
        version: "v2".into(),
        kind: "HelmRelease".into(),
        namespace: namespace.into(),
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

/// `spec.wait` absent → the default list; present → exactly its `resourceTypes` (possibly none). An entry that
/// cannot be decoded is skipped (the API server's schema already rejects such objects); one that decodes but is
/// incomplete or contradictory is an `Err` naming its index and the problem.
pub fn resource_types(ctx: &Context) -> Vec<Result<ResourceType, String>> {
    match ctx.field("/spec/wait") {
        None | Some(Value::Null) => default_resource_types(ctx.namespace())
            .into_iter()
            .map(Ok)
            .collect(),
        Some(wait) => wait
            .get("resourceTypes")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
            .filter_map(|(index, item)| {
                let raw = Raw::deserialize(item).ok()?;
                Some(
                    raw.resolve()
                        .map_err(|problem| format!("spec.wait.resourceTypes[{index}] {problem}")),
                )
            })
            .collect(),
    }
}
