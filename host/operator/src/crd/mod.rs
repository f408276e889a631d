//! The custom resources the operator serves, generated into CRDs from these types (`platform-mesh-operator crds`).

mod generate;
mod managedprovider;
mod platformmesh;
mod provider;
mod schema;

pub use generate::{CrdError, all_crds, crd_file_name, crd_yaml, crds_yaml};
pub use managedprovider::*;
pub use platformmesh::*;
pub use provider::*;
