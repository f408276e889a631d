//! kcp's own controllers, over all logical clusters (`/clusters/*`).
//!
//! Rules:
//! - Workspace: once the server has set `spec.cluster`, `status.phase=Ready` and
//!   `status.URL=<base_url>/clusters/<path>`, where `<path>` is the parent workspace's path plus `:<name>`. Paths
//!   are learned from the Workspaces seen (starting at `root`), else from the `kcp.io/path` annotation of the
//!   parent's `LogicalCluster` `cluster`.
//!   Before it turns Ready, the `spec.defaultAPIBindings` of its WorkspaceType (`spec.type {name, path}`, path
//!   defaulting to the parent) are created as APIBindings named after the export in the new workspace.
//! - WorkspaceType: `Ready=True`.
//! - APIExport: `status.identityHash` = [`identity_hash`] of its logical cluster and name, when missing.
//! - APIBinding: resolves `spec.reference.export {path, name}` (path defaults to the binding's own cluster), takes
//!   the export's schemas (`spec.latestResourceSchemas` in v1alpha1, `spec.resources[].schema` in v1alpha2), reads
//!   those APIResourceSchemas from the export's workspace and creates the equivalent CRDs in the binding's logical
//!   cluster, so the resources are served there; then `phase=Bound`, `Ready=True`, `status.boundResources`.
//!   A missing export or schema leaves it `phase=Binding` and retries.
//! - APIExportEndpointSlice: `status.apiExportEndpoints=[{url: <base_url>/services/apiexport/<export's logical
//!   cluster>/<export name>}]` for `spec.export {path, name}`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use kube::ResourceExt;
use kube::api::{Api, PostParams};
use kube::core::{ApiResource, DynamicObject, GroupVersionKind};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tokio::task::JoinSet;

use super::controller::{
    Action, CLUSTER_ANNOTATION, Context, Obj, ReconcileError, Scope, reconciler, set_condition,
    spawn_controller,
};
use super::crds::Kind;

const fn kcp(group: &'static str, version: &'static str, kind: &'static str, plural: &'static str) -> Kind {
    Kind {
        group,
        version,
        kind,
        plural,
        short_names: &[],
        namespaced: false,
        columns: &[],
    }
}

/// `tenancy.kcp.io/v1alpha1` Workspace.
pub const WORKSPACE: Kind = kcp("tenancy.kcp.io", "v1alpha1", "Workspace", "workspaces");
/// `tenancy.kcp.io/v1alpha1` WorkspaceType.
pub const WORKSPACE_TYPE: Kind = kcp("tenancy.kcp.io", "v1alpha1", "WorkspaceType", "workspacetypes");
/// `apis.kcp.io/v1alpha1` APIExport.
pub const APIEXPORT_V1ALPHA1: Kind = kcp("apis.kcp.io", "v1alpha1", "APIExport", "apiexports");
/// `apis.kcp.io/v1alpha2` APIExport.
pub const APIEXPORT_V1ALPHA2: Kind = kcp("apis.kcp.io", "v1alpha2", "APIExport", "apiexports");
/// `apis.kcp.io/v1alpha1` APIBinding.
pub const APIBINDING: Kind = kcp("apis.kcp.io", "v1alpha1", "APIBinding", "apibindings");
/// `apis.kcp.io/v1alpha2` APIBinding.
pub const APIBINDING_V1ALPHA2: Kind = kcp("apis.kcp.io", "v1alpha2", "APIBinding", "apibindings");
/// `apis.kcp.io/v1alpha1` APIResourceSchema.
pub const APIRESOURCESCHEMA: Kind = kcp(
    "apis.kcp.io",
    "v1alpha1",
    "APIResourceSchema",
    "apiresourceschemas",
);
/// `apis.kcp.io/v1alpha1` APIExportEndpointSlice.
pub const ENDPOINT_SLICE: Kind = kcp(
    "apis.kcp.io",
    "v1alpha1",
    "APIExportEndpointSlice",
    "apiexportendpointslices",
);
/// `core.kcp.io/v1alpha1` LogicalCluster.
pub const LOGICAL_CLUSTER: Kind = kcp("core.kcp.io", "v1alpha1", "LogicalCluster", "logicalclusters");

/// How long a dependent object waits before looking again.
const RETRY: Duration = Duration::from_millis(250);

/// The deterministic identity hash of APIExport `name` in logical cluster `cluster` (sha256 hex of `cluster:name`).
pub fn identity_hash(cluster: &str, name: &str) -> String {
    hex::encode(Sha256::digest(format!("{cluster}:{name}").as_bytes()))
}

/// Logical cluster name → workspace path, learned from Workspaces.
type Paths = Arc<Mutex<HashMap<String, String>>>;

/// Starts the kcp controllers (the kinds are built into the server; nothing to install).
pub async fn start(
    ctx: &Arc<Context>,
    delay: Duration,
    tasks: &mut JoinSet<()>,
) -> Result<(), ReconcileError> {
    let paths: Paths = Arc::new(Mutex::new(HashMap::from([(
        "root".to_string(),
        "root".to_string(),
    )])));
    let ws = reconciler(move |ctx, obj| reconcile_workspace(ctx, obj, paths.clone()));
    let all = Scope::AllClusters;
    spawn_controller(tasks, ctx, all.clone(), WORKSPACE.api_resource(), delay, ws);
    spawn_controller(
        tasks,
        ctx,
        all.clone(),
        WORKSPACE_TYPE.api_resource(),
        delay,
        reconciler(reconcile_ready),
    );
    spawn_controller(
        tasks,
        ctx,
        all.clone(),
        APIEXPORT_V1ALPHA1.api_resource(),
        delay,
        reconciler(reconcile_export),
    );
    spawn_controller(
        tasks,
        ctx,
        all.clone(),
        APIBINDING.api_resource(),
        delay,
        reconciler(reconcile_binding),
    );
    spawn_controller(
        tasks,
        ctx,
        all,
        ENDPOINT_SLICE.api_resource(),
        delay,
        reconciler(reconcile_slice),
    );
    Ok(())
}

fn lock(paths: &Paths) -> std::sync::MutexGuard<'_, HashMap<String, String>> {
    paths.lock().unwrap_or_else(|e| e.into_inner())
}

/// The workspace path of logical cluster `cluster`, from what was learned or from its LogicalCluster object.
async fn path_of(ctx: &Context, paths: &Paths, cluster: &str) -> Result<Option<String>, ReconcileError> {
    if let Some(p) = lock(paths).get(cluster) {
        return Ok(Some(p.clone()));
    }
    let api = ctx.api(Some(cluster), &LOGICAL_CLUSTER.api_resource(), None)?;
    let found = match api.get_opt("cluster").await {
        Ok(lc) => lc.and_then(|lc| lc.annotations().get("kcp.io/path").cloned()),
        // Not every server serves LogicalCluster objects; learning from Workspaces is enough then.
        Err(kube::Error::Api(s)) if s.code == 404 => None,
        Err(e) => return Err(e.into()),
    };
    if let Some(p) = &found {
        lock(paths).insert(cluster.to_string(), p.clone());
    }
    Ok(found)
}

/// The status a Workspace at `path` gets.
pub fn workspace_status(base_url: &str, path: &str, existing: &Value, generation: i64) -> Value {
    let conditions = set_condition(
        &existing["conditions"],
        "WorkspaceScheduled",
        "True",
        "Scheduled",
        "",
        generation,
    );
    let conditions = set_condition(&conditions, "Ready", "True", "Ready", "", generation);
    json!({"phase": "Ready", "URL": format!("{base_url}/clusters/{path}"), "conditions": conditions})
}

async fn reconcile_workspace(ctx: Arc<Context>, obj: Obj, paths: Paths) -> Result<Action, ReconcileError> {
    let (Some(parent), Some(logical)) = (
        obj.cluster.clone(),
        obj.spec()["cluster"].as_str().map(str::to_string),
    ) else {
        return Ok(Action::Requeue(RETRY));
    };
    let Some(parent_path) = path_of(&ctx, &paths, &parent).await? else {
        return Ok(Action::Requeue(RETRY));
    };
    let path = format!("{parent_path}:{}", obj.name());
    lock(&paths).insert(logical.clone(), path.clone());
    if obj.status()["phase"] != "Ready" {
        create_default_bindings(&ctx, obj.spec(), &parent_path, &logical).await?;
    }
    obj.update_status(
        &ctx,
        workspace_status(ctx.base_url(), &path, obj.status(), obj.generation()),
    )
    .await?;
    Ok(Action::Done)
}

/// The APIBindings a workspace of type `spec.type {name, path}` starts with: the type's
/// `spec.defaultAPIBindings` as `(binding name, export path, export name)`; the type path defaults to the parent.
pub fn default_bindings(workspace_type: &Value, type_path: &str) -> Vec<(String, String, String)> {
    workspace_type["spec"]["defaultAPIBindings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|b| {
            let export = b["export"].as_str().filter(|e| !e.is_empty())?;
            let path = b["path"].as_str().filter(|p| !p.is_empty()).unwrap_or(type_path);
            Some((export.to_string(), path.to_string(), export.to_string()))
        })
        .collect()
}

/// Creates the default APIBindings of the workspace's type in the new logical cluster, as kcp's initializers do
/// before a workspace turns Ready. A type that cannot be found (e.g. the built-in `universal`) has none.
async fn create_default_bindings(
    ctx: &Context,
    spec: &Value,
    parent_path: &str,
    logical: &str,
) -> Result<(), ReconcileError> {
    let Some(type_name) = spec["type"]["name"].as_str().filter(|n| !n.is_empty()) else {
        return Ok(());
    };
    let type_path = spec["type"]["path"]
        .as_str()
        .filter(|p| !p.is_empty())
        .unwrap_or(parent_path);
    let types = ctx.api(Some(type_path), &WORKSPACE_TYPE.api_resource(), None)?;
    let Some(workspace_type) = types.get_opt(type_name).await? else {
        return Ok(());
    };
    let workspace_type = to_value(&workspace_type, "WorkspaceType")?;
    let bindings = ctx.api(Some(logical), &APIBINDING.api_resource(), None)?;
    for (name, path, export) in default_bindings(&workspace_type, type_path) {
        let binding: DynamicObject = serde_json::from_value(json!({
            "apiVersion": "apis.kcp.io/v1alpha1",
            "kind": "APIBinding",
            "metadata": {"name": name},
            "spec": {"reference": {"export": {"path": path, "name": export}}},
        }))
        .map_err(|source| ReconcileError::Decode {
            what: "APIBinding".into(),
            source,
        })?;
        match bindings.create(&PostParams::default(), &binding).await {
            Ok(_) => {}
            Err(kube::Error::Api(s)) if s.code == 409 => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

async fn reconcile_ready(ctx: Arc<Context>, obj: Obj) -> Result<Action, ReconcileError> {
    let conditions = set_condition(
        &obj.status()["conditions"],
        "Ready",
        "True",
        "Ready",
        "",
        obj.generation(),
    );
    obj.update_status(&ctx, json!({"conditions": conditions})).await?;
    Ok(Action::Done)
}

async fn reconcile_export(ctx: Arc<Context>, obj: Obj) -> Result<Action, ReconcileError> {
    if obj.status()["identityHash"]
        .as_str()
        .is_some_and(|h| !h.is_empty())
    {
        return Ok(Action::Done);
    }
    let cluster = obj.cluster.clone().unwrap_or_default();
    obj.update_status(
        &ctx,
        json!({"identityHash": identity_hash(&cluster, &obj.name())}),
    )
    .await?;
    Ok(Action::Done)
}

/// `(path, name)` of the export an APIBinding (`spec.reference.export`) or endpoint slice (`spec.export`) names;
/// the path defaults to `own_cluster`.
pub fn export_reference(spec: &Value, own_cluster: &str) -> Option<(String, String)> {
    let r = if spec["reference"]["export"].is_object() {
        &spec["reference"]["export"]
    } else {
        &spec["export"]
    };
    let name = r["name"].as_str().filter(|n| !n.is_empty())?.to_string();
    let path = r["path"]
        .as_str()
        .filter(|p| !p.is_empty())
        .unwrap_or(own_cluster)
        .to_string();
    Some((path, name))
}

/// The APIResourceSchema names an export publishes, from either API version, without duplicates.
pub fn schema_names(v1alpha1: Option<&Value>, v1alpha2: Option<&Value>) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    let from_v1 = v1alpha1
        .and_then(|e| e["spec"]["latestResourceSchemas"].as_array())
        .into_iter()
        .flatten();
    let from_v2 = v1alpha2
        .and_then(|e| e["spec"]["resources"].as_array())
        .into_iter()
        .flatten()
        .map(|r| &r["schema"]);
    for n in from_v1.chain(from_v2).filter_map(Value::as_str) {
        if !names.iter().any(|m| m == n) {
            names.push(n.to_string());
        }
    }
    names
}

/// The CRD equivalent to an APIResourceSchema's `spec`.
pub fn crd_from_schema(spec: &Value) -> Value {
    let group = spec["group"].as_str().unwrap_or_default();
    let plural = spec["names"]["plural"].as_str().unwrap_or_default();
    let versions: Vec<Value> = spec["versions"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|v| {
            let mut v = v.clone();
            if let Some(schema) = v.get("schema").cloned() {
                // APIResourceSchema carries the bare OpenAPI schema; a CRD wraps it.
                if schema.get("openAPIV3Schema").is_none() {
                    v["schema"] = json!({"openAPIV3Schema": schema});
                }
            }
            v
        })
        .collect();
    json!({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": format!("{plural}.{group}")},
        "spec": {"group": group, "names": spec["names"].clone(), "scope": spec["scope"].clone(), "versions": versions},
    })
}

/// The `apiextensions.k8s.io/v1` CustomResourceDefinition resource.
pub fn crd_resource() -> ApiResource {
    ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("apiextensions.k8s.io", "v1", "CustomResourceDefinition"),
        "customresourcedefinitions",
    )
}

fn to_value(obj: &DynamicObject, what: &str) -> Result<Value, ReconcileError> {
    serde_json::to_value(obj).map_err(|source| ReconcileError::Decode {
        what: what.to_string(),
        source,
    })
}

async fn reconcile_binding(ctx: Arc<Context>, obj: Obj) -> Result<Action, ReconcileError> {
    let own = obj.cluster.clone().unwrap_or_default();
    let Some((path, name)) = export_reference(obj.spec(), &own) else {
        return binding_waiting(&ctx, &obj, "spec.reference.export is not set").await;
    };
    let v1 = ctx
        .api(Some(&path), &APIEXPORT_V1ALPHA1.api_resource(), None)?
        .get_opt(&name)
        .await?;
    let Some(v1) = v1 else {
        return binding_waiting(&ctx, &obj, &format!("APIExport {path}:{name} not found")).await;
    };
    // The v1alpha2 view may not be served by every server; the v1alpha1 one is enough then.
    let v2 = ctx
        .api(Some(&path), &APIEXPORT_V1ALPHA2.api_resource(), None)?
        .get_opt(&name)
        .await
        .ok()
        .flatten();
    let v1 = to_value(&v1, "APIExport")?;
    let v2 = v2.map(|v| to_value(&v, "APIExport")).transpose()?;
    let identity = v1["status"]["identityHash"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let export_cluster = v1["metadata"]["annotations"][CLUSTER_ANNOTATION]
        .as_str()
        .unwrap_or(&path)
        .to_string();
    let schemas = ctx.api(Some(&path), &APIRESOURCESCHEMA.api_resource(), None)?;
    let crds = ctx.api(Some(&own), &crd_resource(), None)?;
    let mut bound = Vec::new();
    for schema_name in schema_names(Some(&v1), v2.as_ref()) {
        let Some(schema) = schemas.get_opt(&schema_name).await? else {
            return binding_waiting(
                &ctx,
                &obj,
                &format!("APIResourceSchema {path}:{schema_name} not found"),
            )
            .await;
        };
        let schema = to_value(&schema, "APIResourceSchema")?;
        let crd = crd_from_schema(&schema["spec"]);
        let crd_name = crd["metadata"]["name"].as_str().unwrap_or_default().to_string();
        if crds.get_opt(&crd_name).await?.is_none() {
            let crd: DynamicObject =
                serde_json::from_value(crd).map_err(|source| ReconcileError::Decode {
                    what: "CRD".into(),
                    source,
                })?;
            match crds.create(&PostParams::default(), &crd).await {
                Ok(_) => {}
                Err(kube::Error::Api(s)) if s.code == 409 => {}
                Err(e) => return Err(e.into()),
            }
        }
        bound.push(json!({
            "group": schema["spec"]["group"],
            "resource": schema["spec"]["names"]["plural"],
            "schema": {"name": schema_name, "identityHash": identity, "UID": schema["metadata"]["uid"]},
            "storageVersions": schema["spec"]["versions"].as_array().into_iter().flatten()
                .filter(|v| v["storage"] == true).map(|v| v["name"].clone()).collect::<Vec<_>>(),
        }));
    }
    let conditions = set_condition(
        &obj.status()["conditions"],
        "APIExportValid",
        "True",
        "",
        "",
        obj.generation(),
    );
    let conditions = set_condition(
        &conditions,
        "InitialBindingCompleted",
        "True",
        "",
        "",
        obj.generation(),
    );
    let conditions = set_condition(&conditions, "Ready", "True", "", "", obj.generation());
    let fields = json!({
        "phase": "Bound",
        "apiExportClusterName": export_cluster,
        "boundResources": bound,
        "conditions": conditions,
    });
    obj.update_status(&ctx, fields).await?;
    Ok(Action::Done)
}

async fn binding_waiting(ctx: &Context, obj: &Obj, message: &str) -> Result<Action, ReconcileError> {
    let conditions = set_condition(
        &obj.status()["conditions"],
        "Ready",
        "False",
        "APIExportNotFound",
        message,
        obj.generation(),
    );
    obj.update_status(ctx, json!({"phase": "Binding", "conditions": conditions}))
        .await?;
    Ok(Action::Requeue(RETRY))
}

async fn reconcile_slice(ctx: Arc<Context>, obj: Obj) -> Result<Action, ReconcileError> {
    let own = obj.cluster.clone().unwrap_or_default();
    let Some((path, name)) = export_reference(obj.spec(), &own) else {
        return Ok(Action::Done);
    };
    let api: Api<DynamicObject> = ctx.api(Some(&path), &APIEXPORT_V1ALPHA1.api_resource(), None)?;
    let Some(export) = api.get_opt(&name).await? else {
        return Ok(Action::Requeue(RETRY));
    };
    let cluster = export
        .annotations()
        .get(CLUSTER_ANNOTATION)
        .cloned()
        .unwrap_or(path);
    let url = format!("{}/services/apiexport/{cluster}/{name}", ctx.base_url());
    let conditions = set_condition(
        &obj.status()["conditions"],
        "APIExportValid",
        "True",
        "",
        "",
        obj.generation(),
    );
    obj.update_status(
        &ctx,
        json!({"apiExportEndpoints": [{"url": url}], "conditions": conditions}),
    )
    .await?;
    Ok(Action::Done)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_hash_is_stable_sha256_hex() {
        let h = identity_hash("root", "tenancy.kcp.io");
        assert_eq!(h.len(), 64);
        assert_eq!(h, identity_hash("root", "tenancy.kcp.io"));
        assert_ne!(h, identity_hash("other", "tenancy.kcp.io"));
    }

    #[test]
    fn export_reference_reads_both_shapes() {
        let binding = json!({"reference": {"export": {"path": "root:pm", "name": "core.platform-mesh.io"}}});
        assert_eq!(
            export_reference(&binding, "c"),
            Some(("root:pm".into(), "core.platform-mesh.io".into()))
        );
        let slice = json!({"export": {"name": "x"}});
        assert_eq!(export_reference(&slice, "own"), Some(("own".into(), "x".into())));
        assert_eq!(export_reference(&json!({}), "own"), None);
    }

    #[test]
    fn schema_names_merge_versions() {
        let v1 = json!({"spec": {"latestResourceSchemas": ["v1.widgets.ex.io"]}});
        let v2 =
            json!({"spec": {"resources": [{"schema": "v1.widgets.ex.io"}, {"schema": "v2.gadgets.ex.io"}]}});
        assert_eq!(
            schema_names(Some(&v1), Some(&v2)),
            vec!["v1.widgets.ex.io", "v2.gadgets.ex.io"]
        );
        assert!(schema_names(None, None).is_empty());
    }

    #[test]
    fn crd_from_schema_wraps_openapi_schema() {
        let spec = json!({"group": "ex.io", "scope": "Cluster",
            "names": {"plural": "widgets", "singular": "widget", "kind": "Widget", "listKind": "WidgetList"},
            "versions": [{"name": "v1", "served": true, "storage": true, "schema": {"type": "object"},
                "subresources": {"status": {}}}]});
        let crd = crd_from_schema(&spec);
        assert_eq!(crd["metadata"]["name"], "widgets.ex.io");
        assert_eq!(
            crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["type"],
            "object"
        );
        assert_eq!(crd["spec"]["versions"][0]["subresources"], json!({"status": {}}));
    }

    #[test]
    fn default_bindings_default_their_path_to_the_type_path() {
        let wt = json!({"spec": {"defaultAPIBindings": [
            {"export": "tenancy.kcp.io", "path": "root"},
            {"export": "core.platform-mesh.io"},
            {"path": "root"}
        ]}});
        assert_eq!(
            default_bindings(&wt, "root:pm"),
            vec![
                ("tenancy.kcp.io".into(), "root".into(), "tenancy.kcp.io".into()),
                (
                    "core.platform-mesh.io".into(),
                    "root:pm".into(),
                    "core.platform-mesh.io".into()
                ),
            ]
        );
        assert!(default_bindings(&json!({}), "root").is_empty());
    }

    #[test]
    fn workspace_status_is_ready_with_url() {
        let s = workspace_status("http://h:1", "root:orgs", &Value::Null, 1);
        assert_eq!(s["phase"], "Ready");
        assert_eq!(s["URL"], "http://h:1/clusters/root:orgs");
    }
}
