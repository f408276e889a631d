//! Builders for the CustomResourceDefinitions the simulators install, and their installation.
//!
//! The simulated controllers own foreign kinds (Flux, Argo CD, ...) whose real schemas are large; what the operator
//! needs is that the resources are served with a status subresource, so every CRD here is structural with
//! `x-kubernetes-preserve-unknown-fields` under `spec` and `status`.

use std::time::Duration;

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::Client;
use kube::api::{Api, ListParams, PostParams};
use kube::core::{ApiResource, DynamicObject, GroupVersionKind};
use serde_json::{Value, json};

/// What a simulator needs to know to install and address one kind.
#[derive(Clone, Debug)]
pub struct Kind {
    /// API group, e.g. `source.toolkit.fluxcd.io`.
    pub group: &'static str,
    /// Served (and storage) version.
    pub version: &'static str,
    /// Kind, e.g. `OCIRepository`.
    pub kind: &'static str,
    /// Lower-case plural, e.g. `ocirepositories`.
    pub plural: &'static str,
    /// Short names for kubectl.
    pub short_names: &'static [&'static str],
    /// Whether objects live in namespaces.
    pub namespaced: bool,
    /// Printer columns as `(name, type, jsonPath)`.
    pub columns: &'static [(&'static str, &'static str, &'static str)],
}

/// The printer columns every condition-carrying kind shows.
pub const READY_COLUMNS: &[(&str, &str, &str)] = &[
    (
        "Ready",
        "string",
        ".status.conditions[?(@.type==\"Ready\")].status",
    ),
    (
        "Status",
        "string",
        ".status.conditions[?(@.type==\"Ready\")].message",
    ),
];

impl Kind {
    /// The kube-rs resource description used to build dynamic `Api`s.
    pub fn api_resource(&self) -> ApiResource {
        ApiResource::from_gvk_with_plural(
            &GroupVersionKind::gvk(self.group, self.version, self.kind),
            self.plural,
        )
    }

    /// The CRD's name, `<plural>.<group>`.
    pub fn crd_name(&self) -> String {
        format!("{}.{}", self.plural, self.group)
    }

    /// The CRD as JSON.
    pub fn crd(&self) -> Value {
        let mut columns: Vec<Value> = self
            .columns
            .iter()
            .map(|(name, ty, path)| json!({"name": name, "type": ty, "jsonPath": path}))
            .collect();
        columns.push(json!({"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"}));
        let preserve = json!({"type": "object", "x-kubernetes-preserve-unknown-fields": true});
        json!({
            "apiVersion": "apiextensions.k8s.io/v1",
            "kind": "CustomResourceDefinition",
            "metadata": {"name": self.crd_name()},
            "spec": {
                "group": self.group,
                "scope": if self.namespaced { "Namespaced" } else { "Cluster" },
                "names": {
                    "kind": self.kind,
                    "listKind": format!("{}List", self.kind),
                    "plural": self.plural,
                    "singular": self.kind.to_lowercase(),
                    "shortNames": self.short_names,
                },
                "versions": [{
                    "name": self.version,
                    "served": true,
                    "storage": true,
                    "subresources": {"status": {}},
                    "additionalPrinterColumns": columns,
                    "schema": {"openAPIV3Schema": {
                        "type": "object",
                        "properties": {
                            "apiVersion": {"type": "string"},
                            "kind": {"type": "string"},
                            "metadata": {"type": "object"},
                            "spec": preserve.clone(),
                            "status": preserve,
                        },
                    }},
                }],
            },
        })
    }
}

/// Creates the CRDs of `kinds` (an existing CRD is left alone) and waits until each resource can be listed.
///
/// Waiting matters because callers create objects right after [`super::spawn`] returns.
pub async fn install(client: &Client, kinds: &[Kind]) -> Result<(), kube::Error> {
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    for kind in kinds {
        let crd: CustomResourceDefinition =
            serde_json::from_value(kind.crd()).map_err(kube::Error::SerdeError)?;
        match crds.create(&PostParams::default(), &crd).await {
            Ok(_) => {}
            Err(kube::Error::Api(status)) if status.code == 409 => {}
            Err(e) => return Err(e),
        }
    }
    for kind in kinds {
        wait_served(client, kind).await?;
    }
    Ok(())
}

/// Polls a list of `kind` until the server serves it; gives up after ~10 s with the last error.
async fn wait_served(client: &Client, kind: &Kind) -> Result<(), kube::Error> {
    let api: Api<DynamicObject> = Api::all_with(client.clone(), &kind.api_resource());
    let mut attempt = 0;
    loop {
        match api.list_metadata(&ListParams::default().limit(1)).await {
            Ok(_) => return Ok(()),
            Err(e) if attempt >= 200 => return Err(e),
            Err(_) => {
                attempt += 1;
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: Kind = Kind {
        group: "example.io",
        version: "v1",
        kind: "Widget",
        plural: "widgets",
        short_names: &["wd"],
        namespaced: false,
        columns: READY_COLUMNS,
    };

    #[test]
    fn crd_is_structural_with_status_subresource() {
        let crd = SAMPLE.crd();
        assert_eq!(crd["metadata"]["name"], "widgets.example.io");
        assert_eq!(crd["spec"]["scope"], "Cluster");
        assert_eq!(crd["spec"]["names"]["shortNames"], json!(["wd"]));
        let version = &crd["spec"]["versions"][0];
        assert_eq!(version["subresources"], json!({"status": {}}));
        let props = &version["schema"]["openAPIV3Schema"]["properties"];
        assert_eq!(props["status"]["x-kubernetes-preserve-unknown-fields"], true);
        assert_eq!(
            version["additionalPrinterColumns"].as_array().map(Vec::len),
            Some(3)
        );
        // The JSON must deserialize into the typed CRD, or `install` would fail at runtime.
        let typed: CustomResourceDefinition = serde_json::from_value(crd).expect("typed CRD");
        assert_eq!(typed.spec.names.plural, "widgets");
    }
}
