//! What the ManagedProvider and Provider controllers made, read back from the embedded server for the summary.

use kube::{
    Api, Client,
    api::{ApiResource, DynamicObject, GroupVersionKind, ListParams},
};
use serde_json::Value;

use crate::lifecycle::ObjectKey;

/// The label the runtime deployment puts on every object of a ManagedProvider.
const OWNER_LABEL: &str = "providers.platform-mesh.io/managed-provider";
/// Where a ManagedProvider's Provider lives unless `spec.provider` says otherwise.
const DEFAULT_PROVIDER_PATH: &str = "root:providers:system";

/// The kinds a ManagedProvider deploys (group, version, kind, plural).
const DEPLOYED: [(&str, &str, &str, &str); 6] = [
    ("helm.toolkit.fluxcd.io", "v2", "HelmRelease", "helmreleases"),
    (
        "source.toolkit.fluxcd.io",
        "v1",
        "OCIRepository",
        "ocirepositories",
    ),
    (
        "source.toolkit.fluxcd.io",
        "v1",
        "HelmRepository",
        "helmrepositories",
    ),
    ("delivery.ocm.software", "v1alpha1", "Resource", "resources"),
    ("delivery.ocm.software", "v1alpha1", "Component", "components"),
    ("delivery.ocm.software", "v1alpha1", "Repository", "repositories"),
];

fn resource(group: &str, version: &str, kind: &str, plural: &str) -> ApiResource {
    ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk(group, version, kind), plural)
}

fn managed_provider_api(client: &Client, namespace: &str) -> Api<DynamicObject> {
    let resource = resource(
        "providers.platform-mesh.io",
        "v1alpha1",
        "ManagedProvider",
        "managedproviders",
    );
    Api::namespaced_with(client.clone(), namespace, &resource)
}

fn provider_api(kcp: &Client) -> Api<DynamicObject> {
    Api::all_with(
        kcp.clone(),
        &resource("providers.platform-mesh.io", "v1alpha1", "Provider", "providers"),
    )
}

fn text<'a>(value: &'a Value, pointer: &str) -> Option<&'a str> {
    value
        .pointer(pointer)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

/// Whether `object` has a condition `Ready` with status `True`.
fn ready(object: &DynamicObject) -> bool {
    object.data["status"]["conditions"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|c| c["type"] == "Ready" && c["status"] == "True")
}

/// The workspace path and name of the Provider a ManagedProvider stands for (`spec.provider`, else
/// `root:providers:system` and the ManagedProvider's name).
pub async fn provider_of(client: &Client, managed: &ObjectKey) -> (String, String) {
    let namespace = managed.namespace.as_deref().unwrap_or("default");
    let object = managed_provider_api(client, namespace)
        .get_opt(&managed.name)
        .await
        .ok()
        .flatten();
    let spec = object.as_ref().map(|o| &o.data["spec"]);
    let path = spec
        .and_then(|s| text(s, "/provider/path"))
        .unwrap_or(DEFAULT_PROVIDER_PATH);
    let name = spec
        .and_then(|s| text(s, "/provider/name"))
        .unwrap_or(&managed.name);
    (path.to_owned(), name.to_owned())
}

/// The ManagedProvider's objects: its deployed objects (by label), the copied kubeconfig Secret and its Provider.
pub async fn by_managed_provider(client: &Client, managed: &ObjectKey) -> Vec<String> {
    let namespace = managed.namespace.as_deref().unwrap_or("default");
    let (path, provider) = provider_of(client, managed).await;
    let mut made = vec![format!("Provider {provider} in kcp workspace {path}")];
    let selector = ListParams::default().labels(&format!("{OWNER_LABEL}={}", managed.name));
    for (group, version, kind, plural) in DEPLOYED {
        let api: Api<DynamicObject> =
            Api::namespaced_with(client.clone(), namespace, &resource(group, version, kind, plural));
        // A kind the cluster does not serve holds nothing of ours.
        let Ok(list) = api.list(&selector).await else {
            continue;
        };
        for object in list.items {
            let name = object.metadata.name.clone().unwrap_or_default();
            let state = if ready(&object) { "Ready" } else { "not Ready" };
            made.push(format!("{kind} {namespace}/{name} ({state})"));
        }
    }
    let object = managed_provider_api(client, namespace)
        .get_opt(&managed.name)
        .await
        .ok()
        .flatten();
    if let Some(secret) = object
        .as_ref()
        .and_then(|o| text(&o.data, "/status/providerKubeconfigSecretRef/name"))
    {
        made.push(format!(
            "Secret {namespace}/{secret} (the Provider's kubeconfig, copied)"
        ));
    }
    made
}

/// The Provider's objects: its workspace under `root:providers` and its kubeconfig Secret.
pub async fn by_provider(server: &apiserver::Server, path: &str, name: &str) -> Vec<String> {
    let Ok(Some(provider)) = provider_api(&server.kcp_client(path)).get_opt(name).await else {
        return Vec::new();
    };
    let mut made = Vec::new();
    let cluster = provider
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get("kcp.io/cluster"))
        .filter(|c| !c.is_empty());
    if let Some(cluster) = cluster {
        let workspaces: Api<DynamicObject> = Api::all_with(
            server.kcp_client("root:providers"),
            &resource("tenancy.kcp.io", "v1alpha1", "Workspace", "workspaces"),
        );
        let workspace = format!("{name}-{cluster}");
        if let Ok(Some(found)) = workspaces.get_opt(&workspace).await {
            let phase = text(&found.data, "/status/phase").unwrap_or("no phase");
            made.push(format!("Workspace root:providers:{workspace} ({phase})"));
        }
    }
    if let Some(secret) = text(&provider.data, "/status/providerKubeconfigSecretRef/name") {
        let namespace =
            text(&provider.data, "/status/providerKubeconfigSecretRef/namespace").unwrap_or("default");
        made.push(format!("Secret {namespace}/{secret} in {path} (its kubeconfig)"));
    }
    made
}
