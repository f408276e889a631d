//! One cluster's objects and the resource types it serves.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use serde_json::Value;

use crate::resources::{ResKey, ResourceInfo, kcp_builtins, plain_builtins, resources_from_crd};

/// Objects of one resource type, keyed by `(namespace, name)` (namespace empty for cluster-scoped).
pub type Objects = BTreeMap<(String, String), Value>;

/// A plain Kubernetes cluster or one kcp logical cluster.
#[derive(Clone, Debug)]
pub struct Cluster {
    /// Logical cluster name (empty for the plain cluster).
    pub name: String,
    /// Workspace path, when known (`root`, `root:orgs`).
    pub path: Option<String>,
    /// Whether this is a kcp logical cluster.
    pub kcp: bool,
    builtins: Arc<Vec<Arc<ResourceInfo>>>,
    crds: Vec<Arc<ResourceInfo>>,
    /// Stored objects per resource type.
    pub objects: HashMap<ResKey, Objects>,
}

/// The storage key of CustomResourceDefinitions.
pub fn crd_key() -> ResKey {
    (
        "apiextensions.k8s.io".to_string(),
        "customresourcedefinitions".to_string(),
    )
}

/// The storage key of Namespaces.
pub fn ns_key() -> ResKey {
    (String::new(), "namespaces".to_string())
}

impl Cluster {
    /// An empty cluster.
    pub fn new(name: &str, path: Option<String>, kcp: bool) -> Self {
        Self {
            name: name.to_string(),
            path,
            kcp,
            builtins: if kcp { kcp_builtins() } else { plain_builtins() },
            crds: Vec::new(),
            objects: HashMap::new(),
        }
    }

    /// Every served resource type: built-ins first, then CRDs.
    pub fn resources(&self) -> impl Iterator<Item = &Arc<ResourceInfo>> {
        self.builtins.iter().chain(self.crds.iter())
    }

    /// The type served at `group/version/plural`.
    pub fn resource(&self, group: &str, version: &str, plural: &str) -> Option<Arc<ResourceInfo>> {
        self.resources()
            .find(|r| r.group == group && r.plural == plural && r.serves(version))
            .cloned()
    }

    /// Recomputes the CRD-defined types from the stored CRDs.
    pub fn refresh_crds(&mut self) {
        let crds = self.objects.get(&crd_key());
        self.crds = crds
            .map(|m| m.values().filter_map(resources_from_crd).map(Arc::new).collect())
            .unwrap_or_default();
    }

    /// An object by key.
    pub fn get(&self, key: &ResKey, ns: &str, name: &str) -> Option<&Value> {
        self.objects.get(key)?.get(&(ns.to_string(), name.to_string()))
    }

    /// Whether namespace `ns` exists.
    pub fn has_namespace(&self, ns: &str) -> bool {
        self.get(&ns_key(), "", ns).is_some()
    }

    /// Whether any namespaced object remains in `ns`.
    pub fn namespace_empty(&self, ns: &str) -> bool {
        !self
            .objects
            .iter()
            .any(|(k, objs)| *k != ns_key() && objs.keys().any(|(n, _)| n == ns))
    }
}
