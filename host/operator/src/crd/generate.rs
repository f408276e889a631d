//! CRD generation: the three CRDs as objects and as the multi-document YAML that `crds` prints and
//! `deploy/crds/` holds.

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::CustomResourceExt;

use super::{ManagedProvider, PlatformMesh, Provider};

/// Why the CRDs could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum CrdError {
    /// A CRD did not serialise to YAML.
    #[error("serialising CRD {name} to YAML")]
    Yaml {
        /// The CRD name.
        name: String,
        /// The serialiser's error.
        #[source]
        error: serde_norway::Error,
    },
}

/// The CRDs of every custom resource the operator serves, in a fixed order.
pub fn all_crds() -> Vec<CustomResourceDefinition> {
    vec![PlatformMesh::crd(), Provider::crd(), ManagedProvider::crd()]
}

/// The file name a CRD is kept under in `deploy/crds/`: `<crd name>.yaml`.
pub fn crd_file_name(crd: &CustomResourceDefinition) -> String {
    format!("{}.yaml", crd.metadata.name.as_deref().unwrap_or("unnamed"))
}

/// One CRD as a YAML document (without the `---` separator).
pub fn crd_yaml(crd: &CustomResourceDefinition) -> Result<String, CrdError> {
    serde_norway::to_string(crd).map_err(|error| CrdError::Yaml {
        name: crd.metadata.name.clone().unwrap_or_default(),
        error,
    })
}

/// All CRDs as one multi-document YAML stream, each document introduced by `---`.
pub fn crds_yaml() -> Result<String, CrdError> {
    let mut out = String::new();
    for crd in all_crds() {
        out.push_str("---\n");
        out.push_str(&crd_yaml(&crd)?);
    }
    Ok(out)
}
