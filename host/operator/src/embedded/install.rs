//! Installing the CRDs and applying the samples into the embedded API server.

use std::{path::Path, time::Duration};

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::{
    Api, Client,
    api::{DynamicObject, GroupVersionKind, Patch, PatchParams},
    discovery::{Scope, pinned_kind},
};
use serde::Deserialize;
use serde_json::Value;

use super::EmbeddedError;
use crate::crd;

/// The field manager the embedded mode applies with.
const MANAGER: &str = "platform-mesh-operator";

/// Server-side applies the operator's CRDs and waits until they are served.
pub async fn install_crds(client: &Client) -> Result<(), EmbeddedError> {
    let api: Api<CustomResourceDefinition> = Api::all(client.clone());
    for crd in crd::all_crds() {
        let name = crd.metadata.name.clone().unwrap_or_default();
        api.patch(&name, &PatchParams::apply(MANAGER).force(), &Patch::Apply(&crd))
            .await
            .map_err(|source| EmbeddedError::Install {
                what: format!("CRD {name}"),
                source,
            })?;
    }
    let gvk = GroupVersionKind::gvk("core.platform-mesh.io", "v1alpha1", "PlatformMesh");
    let mut attempts = 0;
    loop {
        match pinned_kind(client, &gvk).await {
            Ok(_) => return Ok(()),
            Err(_) if attempts < 100 => attempts += 1,
            Err(source) => {
                return Err(EmbeddedError::Install {
                    what: "waiting for the PlatformMesh CRD".into(),
                    source,
                });
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Reads every YAML document of `path`.
pub fn read_documents(path: &Path) -> Result<Vec<Value>, EmbeddedError> {
    let text = std::fs::read_to_string(path).map_err(|source| EmbeddedError::ReadSample {
        path: path.display().to_string(),
        source,
    })?;
    let mut documents = Vec::new();
    for document in serde_norway::Deserializer::from_str(&text) {
        let value = Value::deserialize(document).map_err(|source| EmbeddedError::ParseSample {
            path: path.display().to_string(),
            source,
        })?;
        if value.is_object() {
            documents.push(value);
        }
    }
    Ok(documents)
}

/// Server-side applies one object, resolving its kind through discovery.
pub async fn apply(client: &Client, object: &Value) -> Result<(), EmbeddedError> {
    let api_version = object["apiVersion"].as_str().unwrap_or_default();
    let kind = object["kind"].as_str().unwrap_or_default();
    let name = object["metadata"]["name"].as_str().unwrap_or_default().to_owned();
    let what = format!("{kind} {name}");
    let install = |source| EmbeddedError::Install {
        what: what.clone(),
        source,
    };
    let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
    let (resource, capabilities) = pinned_kind(client, &GroupVersionKind::gvk(group, version, kind))
        .await
        .map_err(install)?;
    let api: Api<DynamicObject> = match capabilities.scope {
        Scope::Namespaced => {
            let namespace = object["metadata"]["namespace"].as_str().unwrap_or("default");
            Api::namespaced_with(client.clone(), namespace, &resource)
        }
        Scope::Cluster => Api::all_with(client.clone(), &resource),
    };
    api.patch(&name, &PatchParams::apply(MANAGER).force(), &Patch::Apply(object))
        .await
        .map_err(install)?;
    Ok(())
}
