//! The APIExport virtual workspace: `/services/apiexport/<export cluster>/<export name>/clusters/<cluster|*>/...`.
//!
//! kcp serves, for every APIExport, a view of the exported resources across all logical clusters that bind the
//! export; a provider's controller lists and watches `/clusters/*` there and reads or writes single objects under
//! `/clusters/<logical cluster>`. Here a logical cluster is *bound* when it holds an APIBinding in phase `Bound`
//! whose export reference resolves to the export, and the exported resources are that binding's
//! `status.boundResources`. Requests for other clusters or resources get 404; objects keep their `kcp.io/cluster`
//! annotation, which tells clients which cluster an object of a wildcard list or watch lives in.

use std::sync::Arc;

use serde_json::Value;

use crate::server::Shared;
use crate::store::Store;

/// The path prefix of APIExport virtual workspaces.
const PREFIX: &str = "/services/apiexport/";

/// Which export a virtual-workspace request addresses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExportRef {
    /// Logical cluster (or workspace path) of the APIExport.
    pub cluster: String,
    /// APIExport name.
    pub name: String,
}

/// Splits `/services/apiexport/<cluster>/<export>/<rest>` into the export and `/<rest>`; `None` for other paths.
pub fn split(path: &str) -> Option<(ExportRef, String)> {
    let rest = path.strip_prefix(PREFIX)?;
    let mut parts = rest.splitn(3, '/');
    let cluster = parts.next().filter(|c| !c.is_empty())?;
    let name = parts.next().filter(|n| !n.is_empty())?;
    let tail = format!("/{}", parts.next().unwrap_or(""));
    Some((
        ExportRef {
            cluster: cluster.to_string(),
            name: name.to_string(),
        },
        tail,
    ))
}

/// The logical cluster name a workspace path or cluster name stands for, without creating anything.
pub(crate) fn logical(store: &Store, target: &str) -> String {
    store
        .aliases()
        .get(target)
        .cloned()
        .unwrap_or_else(|| target.to_string())
}

/// Whether an APIBinding object binds `export` and lists `group`/`plural` among its bound resources.
fn binds(
    store: &Store,
    binding: &Value,
    own_cluster: &str,
    export: &ExportRef,
    group: &str,
    plural: &str,
) -> bool {
    if binding.pointer("/status/phase").and_then(Value::as_str) != Some("Bound") {
        return false;
    }
    let reference = &binding["spec"]["reference"]["export"];
    if reference["name"].as_str() != Some(export.name.as_str()) {
        return false;
    }
    let export_cluster = binding
        .pointer("/status/apiExportClusterName")
        .and_then(Value::as_str)
        .filter(|c| !c.is_empty())
        .map(str::to_string)
        .unwrap_or_else(|| {
            let path = reference["path"]
                .as_str()
                .filter(|p| !p.is_empty())
                .unwrap_or(own_cluster);
            logical(store, path)
        });
    if export_cluster != logical(store, &export.cluster) {
        return false;
    }
    binding
        .pointer("/status/boundResources")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .any(|r| r["group"].as_str() == Some(group) && r["resource"].as_str() == Some(plural))
}

/// Restricts a request to the logical clusters that bind an export's resource.
#[derive(Clone)]
pub struct ClusterFilter {
    export: Arc<ExportRef>,
    group: String,
    plural: String,
    shared: Arc<Shared>,
}

impl std::fmt::Debug for ClusterFilter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "ClusterFilter({}/{} {}.{})",
            self.export.cluster, self.export.name, self.plural, self.group
        )
    }
}

impl ClusterFilter {
    /// A filter for `group`/`plural` of `export`.
    pub(crate) fn new(export: ExportRef, group: &str, plural: &str, shared: Arc<Shared>) -> Self {
        ClusterFilter {
            export: Arc::new(export),
            group: group.to_string(),
            plural: plural.to_string(),
            shared,
        }
    }

    /// Whether logical cluster `cluster` binds the export's resource (with the store already locked).
    pub fn allows(&self, store: &Store, cluster: &str) -> bool {
        let Some(c) = store.cluster(cluster) else {
            return false;
        };
        let key = ("apis.kcp.io".to_string(), "apibindings".to_string());
        c.objects
            .get(&key)
            .into_iter()
            .flatten()
            .any(|(_, binding)| binds(store, binding, cluster, &self.export, &self.group, &self.plural))
    }

    /// Whether `cluster` binds the export's resource now (locks the store; for running watches, which see
    /// bindings created after they started).
    pub fn allows_now(&self, cluster: &str) -> bool {
        let store = self.shared.lock();
        self.allows(&store, cluster)
    }

    /// Whether any logical cluster binds the export's resource.
    pub fn any(&self, store: &Store) -> bool {
        store.kcp_clusters().any(|c| self.allows(store, &c.name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_takes_the_export_and_keeps_the_rest() {
        let (export, rest) =
            split("/services/apiexport/abc/providers.platform-mesh.io/clusters/*/apis/g/v1/things").unwrap();
        assert_eq!(
            export,
            ExportRef {
                cluster: "abc".into(),
                name: "providers.platform-mesh.io".into()
            }
        );
        assert_eq!(rest, "/clusters/*/apis/g/v1/things");
        assert_eq!(split("/services/apiexport/abc").map(|s| s.1), None);
        assert_eq!(split("/clusters/root/api/v1"), None);
    }
}
