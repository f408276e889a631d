//! The OCM controllers: `delivery.ocm.software/v1alpha1` Repository, Component and Resource.
//!
//! Rules (all values are derived deterministically from the specs, nothing is fetched):
//! - Repository: `Ready=True`.
//! - Component: `Ready=True` and `status.component {component, version}`, where the version is [`resolve_version`]
//!   of `spec.semver`.
//! - Resource: waits until the Component named by `spec.componentRef.name` (same namespace) exists, then gets
//!   `Ready=True`, `status.component {name, version}` and `status.resource {name, version, access}`:
//!   - `name` = `spec.resource.byReference.resource.name` (else the Resource's name);
//!   - `version` = the Component's resolved version;
//!   - `access` from the metadata keys `artifact` / `repo` (annotation first, then label, as the operator reads
//!     them), with `<artifact>` = the Resource's name minus one trailing `-image` or `-chart`:
//!     - `artifact=image` → `{imageReference: ghcr.io/platform-mesh/images/<artifact>:<version>}`;
//!     - `repo=git` → `{repoUrl: https://github.com/platform-mesh/<artifact>, commit: <40 hex of sha256(artifact@version)>}`;
//!     - `repo=helm` → `{helmRepository: https://charts.platform-mesh.io/<artifact>}`;
//!     - otherwise (chart from OCI, the OCM default) → `{imageReference: ghcr.io/platform-mesh/charts/<artifact>:<version>}`.
//!
//!   `status.resource.imageReference` mirrors `access.imageReference` when there is one.

use std::sync::Arc;
use std::time::Duration;

use kube::core::DynamicObject;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tokio::task::JoinSet;

use super::controller::{
    Action, Context, Obj, ReconcileError, Scope, reconciler, set_condition, spawn_controller,
};
use super::crds::{self, Kind, READY_COLUMNS};

const fn kind(kind: &'static str, plural: &'static str) -> Kind {
    Kind {
        group: "delivery.ocm.software",
        version: "v1alpha1",
        kind,
        plural,
        short_names: &[],
        namespaced: true,
        columns: READY_COLUMNS,
    }
}

/// `delivery.ocm.software/v1alpha1` Repository.
pub const REPOSITORY: Kind = kind("Repository", "repositories");
/// `delivery.ocm.software/v1alpha1` Component.
pub const COMPONENT: Kind = kind("Component", "components");
/// `delivery.ocm.software/v1alpha1` Resource.
pub const RESOURCE: Kind = kind("Resource", "resources");

/// How long a Resource waits for its Component before looking again.
const RETRY: Duration = Duration::from_millis(250);

/// Installs the OCM CRDs and starts the controllers; `default_version` is used when a semver is not exact.
pub async fn start(
    ctx: &Arc<Context>,
    delay: Duration,
    default_version: &str,
    tasks: &mut JoinSet<()>,
) -> Result<(), ReconcileError> {
    crds::install(&ctx.client(None)?, &[REPOSITORY, COMPONENT, RESOURCE]).await?;
    spawn_controller(
        tasks,
        ctx,
        Scope::Plain,
        REPOSITORY.api_resource(),
        delay,
        reconciler(reconcile_repository),
    );
    let v = default_version.to_string();
    let component = reconciler(move |ctx, obj| reconcile_component(ctx, obj, v.clone()));
    spawn_controller(
        tasks,
        ctx,
        Scope::Plain,
        COMPONENT.api_resource(),
        delay,
        component,
    );
    let v = default_version.to_string();
    let resource = reconciler(move |ctx, obj| reconcile_resource(ctx, obj, v.clone()));
    spawn_controller(tasks, ctx, Scope::Plain, RESOURCE.api_resource(), delay, resource);
    Ok(())
}

/// The version a Component reports for `semver`: the version itself when it is exact (`1.2.3`, `v1.2.3-rc.1`),
/// else (a range such as `>=1.0.0`, or nothing) `default_version`.
pub fn resolve_version(semver: Option<&str>, default_version: &str) -> String {
    match semver.map(str::trim) {
        Some(v) if is_exact(v) => v.to_string(),
        _ => default_version.to_string(),
    }
}

fn is_exact(v: &str) -> bool {
    let core = v.strip_prefix('v').unwrap_or(v);
    let core = core.split(['-', '+']).next().unwrap_or_default();
    let parts: Vec<&str> = core.split('.').collect();
    parts.len() == 3
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
}

/// A metadata key as the operator reads it: non-empty annotation first, then label.
fn meta<'a>(obj: &'a DynamicObject, key: &str) -> Option<&'a str> {
    let from = |m: &'a Option<std::collections::BTreeMap<String, String>>| {
        m.as_ref()
            .and_then(|m| m.get(key))
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    };
    from(&obj.metadata.annotations).or_else(|| from(&obj.metadata.labels))
}

/// `status.resource` of a Resource at `version`.
pub fn resource_status(obj: &DynamicObject, version: &str) -> Value {
    let own = obj.metadata.name.clone().unwrap_or_default();
    let spec = obj.data.get("spec").unwrap_or(&Value::Null);
    let name = spec["resource"]["byReference"]["resource"]["name"]
        .as_str()
        .unwrap_or(&own)
        .to_string();
    let artifact = own
        .strip_suffix("-image")
        .or_else(|| own.strip_suffix("-chart"))
        .unwrap_or(&own);
    let access = match (meta(obj, "artifact"), meta(obj, "repo")) {
        (Some("image"), _) => {
            json!({"imageReference": format!("ghcr.io/platform-mesh/images/{artifact}:{version}")})
        }
        (_, Some("git")) => {
            let digest = hex::encode(Sha256::digest(format!("{artifact}@{version}").as_bytes()));
            json!({"repoUrl": format!("https://github.com/platform-mesh/{artifact}"), "commit": &digest[..40]})
        }
        (_, Some("helm")) => json!({"helmRepository": format!("https://charts.platform-mesh.io/{artifact}")}),
        _ => json!({"imageReference": format!("ghcr.io/platform-mesh/charts/{artifact}:{version}")}),
    };
    let mut out = json!({"name": name, "version": version, "access": access});
    if let Some(image) = out["access"]["imageReference"].as_str().map(str::to_string) {
        out["imageReference"] = json!(image);
    }
    out
}

async fn reconcile_repository(ctx: Arc<Context>, obj: Obj) -> Result<Action, ReconcileError> {
    let conditions = set_condition(
        &obj.status()["conditions"],
        "Ready",
        "True",
        "Ready",
        "repository is reachable",
        obj.generation(),
    );
    obj.update_status(
        &ctx,
        json!({"conditions": conditions, "observedGeneration": obj.generation()}),
    )
    .await?;
    Ok(Action::Done)
}

async fn reconcile_component(
    ctx: Arc<Context>,
    obj: Obj,
    default_version: String,
) -> Result<Action, ReconcileError> {
    let version = resolve_version(obj.spec()["semver"].as_str(), &default_version);
    let component = obj.spec()["component"].as_str().unwrap_or_default().to_string();
    let conditions = set_condition(
        &obj.status()["conditions"],
        "Ready",
        "True",
        "Ready",
        &format!("resolved {version}"),
        obj.generation(),
    );
    let fields = json!({
        "component": {"component": component, "version": version},
        "conditions": conditions,
        "observedGeneration": obj.generation(),
    });
    obj.update_status(&ctx, fields).await?;
    Ok(Action::Done)
}

async fn reconcile_resource(
    ctx: Arc<Context>,
    obj: Obj,
    default_version: String,
) -> Result<Action, ReconcileError> {
    let ns = obj.namespace().unwrap_or_default();
    let component_name = obj.spec()["componentRef"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let component = ctx
        .api(None, &COMPONENT.api_resource(), Some(&ns))?
        .get_opt(&component_name)
        .await?;
    let Some(component) = component else {
        let message = format!("Component {ns}/{component_name} not found");
        let conditions = set_condition(
            &obj.status()["conditions"],
            "Ready",
            "False",
            "GetComponentFailed",
            &message,
            obj.generation(),
        );
        obj.update_status(&ctx, json!({"conditions": conditions})).await?;
        return Ok(Action::Requeue(RETRY));
    };
    let semver = component.data["spec"]["semver"].as_str().map(str::to_string);
    let version = resolve_version(semver.as_deref(), &default_version);
    let component_id = component.data["spec"]["component"]
        .as_str()
        .unwrap_or(&component_name)
        .to_string();
    let conditions = set_condition(
        &obj.status()["conditions"],
        "Ready",
        "True",
        "Ready",
        "resource resolved",
        obj.generation(),
    );
    let fields = json!({
        "component": {"name": component_id, "version": version},
        "resource": resource_status(&obj.obj, &version),
        "conditions": conditions,
        "observedGeneration": obj.generation(),
    });
    obj.update_status(&ctx, fields).await?;
    Ok(Action::Done)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resource(name: &str, labels: Value, annotations: Value) -> DynamicObject {
        serde_json::from_value(
            json!({"apiVersion": "delivery.ocm.software/v1alpha1", "kind": "Resource",
            "metadata": {"name": name, "namespace": "ns", "labels": labels, "annotations": annotations},
            "spec": {"resource": {"byReference": {"resource": {"name": "chart"}}}}}),
        )
        .expect("resource")
    }

    #[test]
    fn exact_versions_are_kept_ranges_use_default() {
        assert_eq!(resolve_version(Some("1.2.3"), "0.1.0"), "1.2.3");
        assert_eq!(resolve_version(Some("v1.2.3-rc.1"), "0.1.0"), "v1.2.3-rc.1");
        assert_eq!(resolve_version(Some(">=1.0.0"), "0.1.0"), "0.1.0");
        assert_eq!(resolve_version(None, "0.9.0"), "0.9.0");
    }

    #[test]
    fn access_follows_artifact_and_repo() {
        let chart = resource_status(
            &resource("keycloak", json!({"artifact": "chart", "repo": "oci"}), json!({})),
            "1.0.0",
        );
        assert_eq!(chart["name"], "chart");
        assert_eq!(
            chart["access"]["imageReference"],
            "ghcr.io/platform-mesh/charts/keycloak:1.0.0"
        );
        assert_eq!(chart["imageReference"], chart["access"]["imageReference"]);
        let image = resource_status(
            &resource(
                "druid-image",
                json!({}),
                json!({"artifact": "image", "repo": "oci"}),
            ),
            "2.0.0",
        );
        assert_eq!(
            image["access"]["imageReference"],
            "ghcr.io/platform-mesh/images/druid:2.0.0"
        );
        let git = resource_status(
            &resource(
                "gateway-api",
                json!({"artifact": "chart", "repo": "git"}),
                json!({}),
            ),
            "1.0.0",
        );
        assert_eq!(
            git["access"]["repoUrl"],
            "https://github.com/platform-mesh/gateway-api"
        );
        assert_eq!(git["access"]["commit"].as_str().map(str::len), Some(40));
        let helm = resource_status(
            &resource("x-chart", json!({"artifact": "chart", "repo": "helm"}), json!({})),
            "1.0.0",
        );
        assert_eq!(
            helm["access"]["helmRepository"],
            "https://charts.platform-mesh.io/x"
        );
        assert!(helm.get("imageReference").is_none());
    }

    #[test]
    fn annotation_wins_over_label() {
        let r = resource("a", json!({"artifact": "chart"}), json!({"artifact": "image"}));
        assert_eq!(meta(&r, "artifact"), Some("image"));
    }
}
