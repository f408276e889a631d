//! What a cluster serves: resource types, built-in and CRD-defined.

mod builtin;
mod crd;
mod view;

pub use builtin::{kcp_builtins, plain_builtins};
pub use crd::{crd_status, resources_from_crd};
pub use view::{CORE_EVENTS, View};

use std::collections::HashMap;

use serde_json::Value;

/// An additional printer column (`kubectl get`), from a CRD's `additionalPrinterColumns`.
#[derive(Clone, Debug, PartialEq)]
pub struct Column {
    /// Column header.
    pub name: String,
    /// OpenAPI type of the cell (`string`, `integer`, `date`, ...).
    pub type_: String,
    /// JSONPath into the object, e.g. `.status.phase`.
    pub json_path: String,
    /// Priority; columns above 0 only show with `-o wide`.
    pub priority: i64,
}

/// One served resource type.
#[derive(Clone, Debug)]
pub struct ResourceInfo {
    /// API group; empty for the core group.
    pub group: String,
    /// Served versions, preferred first.
    pub versions: Vec<String>,
    /// Kind, e.g. `ConfigMap`.
    pub kind: String,
    /// Plural resource name used in URLs.
    pub plural: String,
    /// Singular name.
    pub singular: String,
    /// Whether objects live in namespaces.
    pub namespaced: bool,
    /// Whether the resource has a `/status` subresource.
    pub status: bool,
    /// kubectl short names.
    pub short_names: Vec<String>,
    /// kubectl categories.
    pub categories: Vec<String>,
    /// Additional printer columns (per version: the same for all, as CRDs usually do).
    pub columns: Vec<Column>,
    /// The openAPIV3Schema per version, for CRDs.
    pub schemas: HashMap<String, Value>,
    /// Set when this type is served from another type's objects (core `v1` Events).
    pub view: Option<View>,
    /// A review type: only `create` is served and nothing is stored (access and token reviews).
    pub review: bool,
}

impl ResourceInfo {
    /// Whether `version` is served.
    pub fn serves(&self, version: &str) -> bool {
        self.versions.iter().any(|v| v == version)
    }

    /// `group/version` for a version of this resource (`v1` for the core group).
    pub fn api_version(&self, version: &str) -> String {
        if self.group.is_empty() {
            version.to_string()
        } else {
            format!("{}/{version}", self.group)
        }
    }

    /// The key objects of this type are stored under.
    pub fn key(&self) -> ResKey {
        match &self.view {
            Some(v) => v.key(),
            None => (self.group.clone(), self.plural.clone()),
        }
    }

    /// A stored object in this type's shape (`apiVersion`/`kind` of `version`).
    pub fn present(&self, stored: &Value, version: &str) -> Value {
        let av = self.api_version(version);
        let mut o = match &self.view {
            Some(v) => v.to_view(stored, &av),
            None => stored.clone(),
        };
        o["apiVersion"] = Value::String(av);
        o["kind"] = Value::String(self.kind.clone());
        o
    }

    /// Parses a `fieldSelector` on this type's fields into one on the stored objects.
    pub fn field_selector(&self, s: &str) -> crate::status::ApiResult<crate::selector::FieldSelector> {
        let sel = crate::selector::FieldSelector::parse(s)?;
        Ok(match &self.view {
            Some(v) => sel.renamed(|f| v.stored_field(f)),
            None => sel,
        })
    }

    /// An object of this type's shape as it is stored.
    pub fn to_storage(&self, obj: Value, version: &str) -> Value {
        match &self.view {
            Some(v) => v.to_storage(&obj, &self.api_version(version)),
            None => obj,
        }
    }

    /// The schema of `version`, if the resource has one.
    pub fn schema(&self, version: &str) -> Option<&Value> {
        self.schemas.get(version)
    }
}

/// Storage key of a resource type: `(group, plural)`.
pub type ResKey = (String, String);

/// A compact way to declare a built-in resource.
pub(crate) struct Decl {
    pub group: &'static str,
    pub versions: &'static [&'static str],
    pub kind: &'static str,
    pub plural: &'static str,
    pub namespaced: bool,
    pub status: bool,
    pub short: &'static [&'static str],
    pub view: Option<View>,
    pub review: bool,
}

/// Built-in types in kubectl's `all` category (`kubectl get all`), as Kubernetes declares them.
const CATEGORY_ALL: &[(&str, &str)] = &[
    ("", "pods"),
    ("", "services"),
    ("apps", "deployments"),
    ("apps", "statefulsets"),
    ("apps", "daemonsets"),
];

impl Decl {
    pub(crate) fn build(&self) -> ResourceInfo {
        let in_all = CATEGORY_ALL.contains(&(self.group, self.plural));
        ResourceInfo {
            group: self.group.to_string(),
            versions: self.versions.iter().map(|v| v.to_string()).collect(),
            kind: self.kind.to_string(),
            plural: self.plural.to_string(),
            singular: self.kind.to_lowercase(),
            namespaced: self.namespaced,
            status: self.status,
            short_names: self.short.iter().map(|s| s.to_string()).collect(),
            categories: if in_all {
                vec!["all".to_string()]
            } else {
                Vec::new()
            },
            columns: Vec::new(),
            schemas: HashMap::new(),
            view: self.view,
            review: self.review,
        }
    }
}
