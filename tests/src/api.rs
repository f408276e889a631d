//! Dynamic APIs over any kind, the tests' own writes, and the conditions of objects.

use anyhow::Context as _;
use kube::{
    Api, Client,
    api::{ApiResource, DynamicObject, GroupVersionKind, Patch, PatchParams, PostParams},
};
use serde_json::Value;

/// The field manager of the tests' own server-side applies.
pub const MANAGER: &str = "e2e";

/// A dynamic API for `kind` of `api_version` (`group/version`, or `v1` for the core group) in `namespace`
/// (`None`: a cluster-scoped kind, or all namespaces).
pub fn dynamic(
    client: &Client,
    api_version: &str,
    kind: &str,
    plural: &str,
    namespace: Option<&str>,
) -> Api<DynamicObject> {
    let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
    let resource = ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk(group, version, kind), plural);
    match namespace {
        Some(ns) => Api::namespaced_with(client.clone(), ns, &resource),
        None => Api::all_with(client.clone(), &resource),
    }
}

/// Server-side applies `object` through `api` as [`MANAGER`], taking over conflicting fields.
pub async fn apply(api: &Api<DynamicObject>, object: Value) -> anyhow::Result<()> {
    let name = object["metadata"]["name"].as_str().unwrap_or_default().to_owned();
    api.patch(
        &name,
        &PatchParams::apply(MANAGER).force(),
        &Patch::Apply(&object),
    )
    .await
    .with_context(|| format!("applying {} {name}", object["kind"]))?;
    Ok(())
}

/// Creates `object` through `api`.
pub async fn create(api: &Api<DynamicObject>, object: Value) -> anyhow::Result<()> {
    let object: DynamicObject = serde_json::from_value(object)?;
    api.create(&PostParams::default(), &object)
        .await
        .context("creating an object")?;
    Ok(())
}

/// Creates `object` through `api` unless an object of its name exists.
pub async fn create_if_absent(api: &Api<DynamicObject>, object: Value) -> anyhow::Result<()> {
    let object: DynamicObject = serde_json::from_value(object)?;
    match api.create(&PostParams::default(), &object).await {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(s)) if s.code == 409 => Ok(()),
        Err(e) => Err(e).context("creating an object"),
    }
}

/// Whether `name` exists in `api`.
pub async fn exists(api: &Api<DynamicObject>, name: &str) -> anyhow::Result<bool> {
    Ok(api.get_opt(name).await?.is_some())
}

/// The conditions of `object` (`status.conditions`).
pub fn conditions(object: &DynamicObject) -> Vec<Value> {
    object.data["status"]["conditions"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// The status of condition `type_` of `object`.
pub fn condition<'a>(object: &'a DynamicObject, type_: &str) -> Option<&'a str> {
    object.data["status"]["conditions"]
        .as_array()?
        .iter()
        .find(|c| c["type"] == type_)?
        .get("status")?
        .as_str()
}
