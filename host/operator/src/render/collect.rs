//! Reading back what the deployment plugin applied to an offline cluster, and printing it.

use kube::{
    Api, Client,
    api::{DynamicObject, ListParams},
    discovery::{Discovery, verbs},
};
use serde_json::Value;

/// The objects one target cluster would get.
#[derive(Clone, Debug, PartialEq)]
pub struct Group {
    /// `runtime` or `infra`.
    pub target: String,
    /// The objects, sorted by apiVersion, kind, namespace and name.
    pub objects: Vec<Value>,
}

/// The field manager whose objects are collected.
const MANAGER: &str = "platform-mesh-deployment";

/// Metadata the API server sets.
const SERVER_METADATA: &[&str] = &[
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "managedFields",
    "selfLink",
];

fn applied_by_us(object: &Value) -> bool {
    object["metadata"]["managedFields"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|e| e["manager"] == MANAGER)
}

fn strip(mut object: Value) -> Value {
    if let Some(map) = object.as_object_mut() {
        map.remove("status");
    }
    if let Some(meta) = object.get_mut("metadata").and_then(Value::as_object_mut) {
        for key in SERVER_METADATA {
            meta.remove(*key);
        }
        // kcp annotates every object with its logical cluster; not part of what was applied.
        if let Some(annotations) = meta.get_mut("annotations").and_then(Value::as_object_mut) {
            annotations.remove("kcp.io/cluster");
            if annotations.is_empty() {
                meta.remove("annotations");
            }
        }
    }
    object
}

fn sort_key(object: &Value) -> (String, String, String, String) {
    let field = |p: &str| {
        object
            .pointer(p)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    (
        field("/apiVersion"),
        field("/kind"),
        field("/metadata/namespace"),
        field("/metadata/name"),
    )
}

/// Every object of every served kind whose managed fields name the deployment's field manager.
pub async fn applied(client: &Client) -> Result<Vec<Value>, kube::Error> {
    let discovery = Discovery::new(client.clone()).run().await?;
    let mut out = Vec::new();
    for group in discovery.groups() {
        for (resource, capabilities) in group.recommended_resources() {
            if !capabilities.supports_operation(verbs::LIST) {
                continue;
            }
            let api: Api<DynamicObject> = Api::all_with(client.clone(), &resource);
            for item in api.list(&ListParams::default()).await?.items {
                let mut object = serde_json::to_value(&item).map_err(kube::Error::SerdeError)?;
                if !applied_by_us(&object) {
                    continue;
                }
                object["apiVersion"] = Value::String(resource.api_version.clone());
                object["kind"] = Value::String(resource.kind.clone());
                out.push(strip(object));
            }
        }
    }
    out.sort_by_key(sort_key);
    Ok(out)
}

/// The groups as multi-document YAML: a comment line per target, then `---` and each object.
pub fn to_yaml(groups: &[Group]) -> Result<String, gotmpl::yaml::YamlError> {
    let mut out = String::new();
    for group in groups {
        out.push_str(&format!(
            "# Target: {} cluster ({} objects)\n",
            group.target,
            group.objects.len()
        ));
        for object in &group.objects {
            let field = |p: &str| object.pointer(p).and_then(Value::as_str).unwrap_or_default();
            out.push_str("---\n");
            out.push_str(&format!(
                "# {} {}/{} -> {}\n",
                field("/kind"),
                field("/metadata/namespace"),
                field("/metadata/name"),
                group.target
            ));
            out.push_str(&gotmpl::yaml::to_yaml(object)?);
        }
    }
    Ok(out)
}
