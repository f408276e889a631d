//! The state a Go operator leaves behind, for the take-over and adoption scenarios: objects under upstream's names
//! with upstream's content and none of this operator's labels, and the request counters that tell what a pass
//! changed.

use std::collections::{BTreeMap, BTreeSet};

use apiserver::Server;
use kube::{Api, Client, api::DynamicObject};
use serde_json::{Value, json};

use crate::api::{create, dynamic};

/// A kind the scenarios look at: `(api version, kind, plural)`.
pub type Kind = (&'static str, &'static str, &'static str);

pub const HELM_RELEASE: Kind = ("helm.toolkit.fluxcd.io/v2", "HelmRelease", "helmreleases");
pub const OCI_REPOSITORY: Kind = ("source.toolkit.fluxcd.io/v1", "OCIRepository", "ocirepositories");
pub const HELM_REPOSITORY: Kind = (
    "source.toolkit.fluxcd.io/v1",
    "HelmRepository",
    "helmrepositories",
);
pub const OCM_REPOSITORY: Kind = ("delivery.ocm.software/v1alpha1", "Repository", "repositories");
pub const OCM_COMPONENT: Kind = ("delivery.ocm.software/v1alpha1", "Component", "components");
pub const OCM_RESOURCE: Kind = ("delivery.ocm.software/v1alpha1", "Resource", "resources");

/// Every Flux and OCM kind a ManagedProvider writes.
pub const RUNTIME_KINDS: [Kind; 6] = [
    HELM_RELEASE,
    OCI_REPOSITORY,
    HELM_REPOSITORY,
    OCM_REPOSITORY,
    OCM_COMPONENT,
    OCM_RESOURCE,
];

/// A namespaced API of `kind`.
pub fn api(client: &Client, kind: Kind, namespace: &str) -> Api<DynamicObject> {
    dynamic(client, kind.0, kind.1, kind.2, Some(namespace))
}

/// The objects the Go operator's DeploySubroutine creates for a Flux `oci` runtime deployment (spec §4.9.5): an
/// OCIRepository and a HelmRelease, both named after the chart's last `/` segment.
pub fn go_flux_oci(
    namespace: &str,
    registry: &str,
    chart: &str,
    version: &str,
    values: Option<Value>,
) -> Vec<Value> {
    let name = chart.rsplit('/').next().unwrap_or(chart);
    let mut release = json!({"apiVersion": HELM_RELEASE.0, "kind": HELM_RELEASE.1,
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"interval": "5m", "chartRef": {"kind": "OCIRepository", "name": name, "namespace": namespace}}});
    if let Some(values) = values {
        release["spec"]["values"] = values;
    }
    vec![
        json!({"apiVersion": OCI_REPOSITORY.0, "kind": OCI_REPOSITORY.1,
            "metadata": {"name": name, "namespace": namespace},
            "spec": {"url": format!("oci://{registry}/{chart}"), "ref": {"tag": version}, "provider": "generic",
                     "interval": "1m0s",
                     "layerSelector": {"mediaType": "application/vnd.cncf.helm.chart.content.v1.tar+gzip",
                                       "operation": "copy"}}}),
        release,
    ]
}

/// The objects of a Flux `helm` runtime deployment: a HelmRepository and a HelmRelease named after the chart.
pub fn go_flux_helm(namespace: &str, registry: &str, chart: &str, version: &str) -> Vec<Value> {
    let name = chart.rsplit('/').next().unwrap_or(chart);
    vec![
        json!({"apiVersion": HELM_REPOSITORY.0, "kind": HELM_REPOSITORY.1,
            "metadata": {"name": name, "namespace": namespace},
            "spec": {"url": registry, "interval": "5m"}}),
        json!({"apiVersion": HELM_RELEASE.0, "kind": HELM_RELEASE.1,
            "metadata": {"name": name, "namespace": namespace},
            "spec": {"interval": "5m", "chart": {"spec": {"chart": chart, "version": version,
                "sourceRef": {"kind": "HelmRepository", "name": name, "namespace": namespace}}}}}),
    ]
}

/// Creates `objects` (no labels of this operator: as the Go operator left them).
pub async fn seed(client: &Client, objects: Vec<Value>) -> anyhow::Result<()> {
    for object in objects {
        let kind = RUNTIME_KINDS
            .into_iter()
            .find(|k| object["kind"] == k.1 && object["apiVersion"] == k.0)
            .ok_or_else(|| anyhow::anyhow!("no API for {}", object["kind"]))?;
        let namespace = object["metadata"]["namespace"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        create(&api(client, kind, &namespace), object).await?;
    }
    Ok(())
}

/// `kind/name → (uid, spec)` of every object of `kinds` in `namespace`.
pub async fn inventory(
    client: &Client,
    kinds: &[Kind],
    namespace: &str,
) -> anyhow::Result<BTreeMap<String, (String, Value)>> {
    let mut out = BTreeMap::new();
    for kind in kinds {
        for object in api(client, *kind, namespace).list(&Default::default()).await? {
            let name = object.metadata.name.clone().unwrap_or_default();
            let uid = object.metadata.uid.clone().unwrap_or_default();
            out.insert(format!("{}/{name}", kind.1), (uid, object.data["spec"].clone()));
        }
    }
    Ok(out)
}

/// What changed between two inventories: objects created under new names, objects deleted or recreated (uid
/// changed), and objects whose spec changed.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Changes {
    pub created: BTreeSet<String>,
    pub deleted_or_recreated: BTreeSet<String>,
    pub spec_changed: BTreeSet<String>,
}

/// Compares `before` with `after`.
pub fn changes(
    before: &BTreeMap<String, (String, Value)>,
    after: &BTreeMap<String, (String, Value)>,
) -> Changes {
    let mut out = Changes::default();
    for (key, (uid, spec)) in before {
        match after.get(key) {
            None => {
                out.deleted_or_recreated.insert(key.clone());
            }
            Some((new_uid, _)) if new_uid != uid => {
                out.deleted_or_recreated.insert(key.clone());
            }
            Some((_, new_spec)) if new_spec != spec => {
                out.spec_changed.insert(key.clone());
            }
            Some(_) => {}
        }
    }
    out.created = after
        .keys()
        .filter(|k| !before.contains_key(*k))
        .cloned()
        .collect();
    out
}

/// Delete requests the server has answered so far.
pub fn deletes(server: &Server) -> u64 {
    server
        .requests()
        .snapshot()
        .by_verb
        .get("delete")
        .copied()
        .unwrap_or(0)
}
