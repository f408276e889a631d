//! Flux: source-controller (OCIRepository, HelmRepository, GitRepository), helm-controller (HelmRelease) and
//! kustomize-controller (Kustomization).
//!
//! Rules:
//! - a source becomes `Ready=True` (reason `Succeeded`) with `status.artifact` and `observedGeneration`;
//! - a HelmRelease becomes `Ready=True` (reason `ReconciliationSucceeded`) only when the source named by
//!   `spec.chartRef` or `spec.chart.spec.sourceRef` exists and is Ready; until then it is `Ready=False`
//!   (reason `SourceNotReady`) and re-checked; with `spec.suspend: true` it stays `Ready=False` (reason `Suspended`);
//! - a Kustomization becomes Ready like a source (its own `sourceRef` is not simulated).
//!
//! Every status carries `observedGeneration = metadata.generation`, so a spec change is reconciled again.

use std::sync::Arc;
use std::time::Duration;

use kube::api::Api;
use kube::core::DynamicObject;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tokio::task::JoinSet;

use super::controller::{
    Action, Context, Obj, ReconcileError, Scope, is_true, reconciler, set_condition, spawn_controller,
};
use super::crds::{self, Kind, READY_COLUMNS};

/// `source.toolkit.fluxcd.io/v1` OCIRepository.
pub const OCI_REPOSITORY: Kind = source("OCIRepository", "ocirepositories", &["ocirepo"]);
/// `source.toolkit.fluxcd.io/v1` HelmRepository.
pub const HELM_REPOSITORY: Kind = source("HelmRepository", "helmrepositories", &["helmrepo"]);
/// `source.toolkit.fluxcd.io/v1` GitRepository.
pub const GIT_REPOSITORY: Kind = source("GitRepository", "gitrepositories", &["gitrepo"]);
/// `helm.toolkit.fluxcd.io/v2` HelmRelease.
pub const HELM_RELEASE: Kind = Kind {
    group: "helm.toolkit.fluxcd.io",
    version: "v2",
    kind: "HelmRelease",
    plural: "helmreleases",
    short_names: &["hr"],
    namespaced: true,
    columns: READY_COLUMNS,
};
/// `kustomize.toolkit.fluxcd.io/v1` Kustomization.
pub const KUSTOMIZATION: Kind = Kind {
    group: "kustomize.toolkit.fluxcd.io",
    version: "v1",
    kind: "Kustomization",
    plural: "kustomizations",
    short_names: &["ks"],
    namespaced: true,
    columns: READY_COLUMNS,
};

const fn source(kind: &'static str, plural: &'static str, short: &'static [&'static str]) -> Kind {
    Kind {
        group: "source.toolkit.fluxcd.io",
        version: "v1",
        kind,
        plural,
        short_names: short,
        namespaced: true,
        columns: READY_COLUMNS,
    }
}

/// How often a HelmRelease waiting for its source looks again.
const SOURCE_POLL: Duration = Duration::from_millis(250);

/// Installs the Flux CRDs and starts the controllers.
pub async fn start(
    ctx: &Arc<Context>,
    delay: Duration,
    tasks: &mut JoinSet<()>,
) -> Result<(), ReconcileError> {
    let kinds = [
        OCI_REPOSITORY,
        HELM_REPOSITORY,
        GIT_REPOSITORY,
        HELM_RELEASE,
        KUSTOMIZATION,
    ];
    crds::install(&ctx.client(None)?, &kinds).await?;
    for kind in [OCI_REPOSITORY, HELM_REPOSITORY, GIT_REPOSITORY, KUSTOMIZATION] {
        spawn_controller(
            tasks,
            ctx,
            Scope::Plain,
            kind.api_resource(),
            delay,
            reconciler(reconcile_source),
        );
    }
    spawn_controller(
        tasks,
        ctx,
        Scope::Plain,
        HELM_RELEASE.api_resource(),
        delay,
        reconciler(reconcile_release),
    );
    Ok(())
}

async fn reconcile_source(ctx: Arc<Context>, obj: Obj) -> Result<Action, ReconcileError> {
    obj.update_status(&ctx, source_status(&obj.ar.kind, &obj.obj))
        .await?;
    Ok(Action::Done)
}

/// The status a ready source (or Kustomization) gets.
pub fn source_status(kind: &str, obj: &DynamicObject) -> Value {
    let status = obj.data.get("status").unwrap_or(&Value::Null);
    let generation = obj.metadata.generation.unwrap_or(0);
    let spec = obj.data.get("spec").unwrap_or(&Value::Null);
    let revision = revision_of(spec);
    let name = obj.metadata.name.clone().unwrap_or_default();
    let ns = obj.metadata.namespace.clone().unwrap_or_default();
    let digest = hex::encode(Sha256::digest(
        format!("{kind}/{ns}/{name}@{revision}").as_bytes(),
    ));
    let message = format!("stored artifact for revision '{revision}'");
    let conditions = set_condition(
        &status["conditions"],
        "Ready",
        "True",
        "Succeeded",
        &message,
        generation,
    );
    let mut out = json!({"observedGeneration": generation, "conditions": conditions});
    if kind == KUSTOMIZATION.kind {
        out["lastAppliedRevision"] = json!(revision);
    } else {
        let url = format!(
            "http://source-controller.flux-system.svc.cluster.local./{}/{ns}/{name}/{digest}.tar.gz",
            kind.to_lowercase()
        );
        out["artifact"] = json!({
            "path": format!("{}/{ns}/{name}/{digest}.tar.gz", kind.to_lowercase()),
            "url": url,
            "revision": revision,
            "digest": format!("sha256:{digest}"),
            "lastUpdateTime": status["artifact"]["lastUpdateTime"].as_str().map(str::to_string).unwrap_or_else(super::controller::now),
        });
        out["url"] = json!(url);
    }
    out
}

/// The revision a source would report: the tag/commit/semver it points at, else `latest`.
fn revision_of(spec: &Value) -> String {
    let reference = &spec["ref"];
    for key in ["tag", "semver", "commit", "branch", "digest"] {
        if let Some(v) = reference[key].as_str().filter(|v| !v.is_empty()) {
            return v.to_string();
        }
    }
    "latest".to_string()
}

/// The source a HelmRelease depends on: `(kind, namespace, name)`.
pub fn release_source(release: &DynamicObject) -> Option<(String, String, String)> {
    let spec = release.data.get("spec")?;
    let own_ns = release.metadata.namespace.clone().unwrap_or_default();
    let reference = if spec["chartRef"].is_object() {
        &spec["chartRef"]
    } else {
        &spec["chart"]["spec"]["sourceRef"]
    };
    let kind = reference["kind"].as_str()?.to_string();
    let name = reference["name"].as_str()?.to_string();
    let ns = reference["namespace"]
        .as_str()
        .filter(|n| !n.is_empty())
        .map(str::to_string)
        .unwrap_or(own_ns);
    Some((kind, ns, name))
}

/// Why a HelmRelease is or is not Ready: `(status, reason, message)`.
pub fn release_readiness(
    release: &DynamicObject,
    source: Option<&DynamicObject>,
) -> (bool, &'static str, String) {
    let spec = release.data.get("spec").unwrap_or(&Value::Null);
    if spec["suspend"].as_bool() == Some(true) {
        return (false, "Suspended", "reconciliation is suspended".to_string());
    }
    let Some((kind, ns, name)) = release_source(release) else {
        return (
            false,
            "InvalidChartReference",
            "no chartRef or chart.spec.sourceRef".to_string(),
        );
    };
    match source {
        None => (false, "SourceNotReady", format!("{kind} '{ns}/{name}' not found")),
        Some(s) if !is_true(s.data.get("status").unwrap_or(&Value::Null), "Ready") => (
            false,
            "SourceNotReady",
            format!("{kind} '{ns}/{name}' is not ready"),
        ),
        Some(_) => {
            let rel = release.metadata.name.clone().unwrap_or_default();
            (
                true,
                "InstallSucceeded",
                format!("Helm install succeeded for release {ns}/{rel}"),
            )
        }
    }
}

/// How many releases a HelmRelease's history keeps (Flux's default `maxHistory`).
const MAX_HISTORY: usize = 5;

fn sha256_digest(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

/// The release history a deployed HelmRelease reports, newest first, in the shape of Flux's Snapshot: the chart,
/// the digest of the values, the Helm release name, namespace and revision, and when it was first and last
/// deployed. An unchanged chart and values keep the current entry (no write); a change adds a revision and marks
/// the previous one superseded.
pub fn release_history(release: &DynamicObject, source: Option<&DynamicObject>, now: &str) -> Vec<Value> {
    let spec = release.data.get("spec").unwrap_or(&Value::Null);
    let own_ns = release.metadata.namespace.clone().unwrap_or_default();
    let name = release.metadata.name.clone().unwrap_or_default();
    let target_ns = spec["targetNamespace"].as_str().filter(|n| !n.is_empty());
    let release_name = match spec["releaseName"].as_str().filter(|n| !n.is_empty()) {
        Some(n) => n.to_string(),
        None => match target_ns {
            Some(t) => format!("{t}-{name}"),
            None => name.clone(),
        },
    };
    let release_ns = target_ns.map(str::to_string).unwrap_or(own_ns);
    let source_data = source.map(|s| &s.data).unwrap_or(&Value::Null);
    let chart_name = spec["chart"]["spec"]["chart"]
        .as_str()
        .map(str::to_string)
        .or_else(|| {
            source_data["spec"]["url"]
                .as_str()
                .and_then(|u| u.trim_end_matches('/').rsplit('/').next())
                .filter(|n| !n.is_empty())
                .map(str::to_string)
        })
        .unwrap_or_else(|| name.clone());
    let chart_version = spec["chart"]["spec"]["version"]
        .as_str()
        .or_else(|| source_data["status"]["artifact"]["revision"].as_str())
        .unwrap_or("0.0.0")
        .to_string();
    let values = spec.get("values").cloned().unwrap_or_else(|| json!({}));
    let config_digest = sha256_digest(values.to_string().as_bytes());
    let previous: Vec<Value> = release.data["status"]["history"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let same = |e: &Value| {
        e["chartName"] == chart_name.as_str()
            && e["chartVersion"] == chart_version.as_str()
            && e["configDigest"] == config_digest.as_str()
            && e["name"] == release_name.as_str()
            && e["namespace"] == release_ns.as_str()
            && e["status"] == "deployed"
    };
    if let Some(current) = previous.first().filter(|e| same(e) && e["digest"].is_string()) {
        let mut kept = vec![current.clone()];
        kept.extend(previous.iter().skip(1).take(MAX_HISTORY - 1).cloned());
        return kept;
    }
    let revision = previous.first().and_then(|e| e["version"].as_i64()).unwrap_or(0) + 1;
    let first_deployed = previous
        .first()
        .and_then(|e| e["firstDeployed"].as_str())
        .unwrap_or(now)
        .to_string();
    let identity = json!([
        release_name,
        release_ns,
        revision,
        chart_name,
        chart_version,
        config_digest
    ]);
    let entry = json!({
        "name": release_name,
        "namespace": release_ns,
        "version": revision,
        "status": "deployed",
        "chartName": chart_name,
        "chartVersion": chart_version,
        "configDigest": config_digest,
        "digest": sha256_digest(identity.to_string().as_bytes()),
        "firstDeployed": first_deployed,
        "lastDeployed": now,
    });
    let mut history = vec![entry];
    history.extend(previous.into_iter().take(MAX_HISTORY - 1).map(|mut e| {
        if e["status"] == "deployed" {
            e["status"] = json!("superseded");
        }
        e
    }));
    history
}

async fn reconcile_release(ctx: Arc<Context>, obj: Obj) -> Result<Action, ReconcileError> {
    let source = match release_source(&obj.obj) {
        Some((kind, ns, name)) => match source_kind(&kind) {
            Some(k) => {
                let api: Api<DynamicObject> = ctx.api(None, &k.api_resource(), Some(&ns))?;
                api.get_opt(&name).await?
            }
            None => None,
        },
        None => None,
    };
    let (ready, reason, message) = release_readiness(&obj.obj, source.as_ref());
    let reason = if ready { "ReconciliationSucceeded" } else { reason };
    let status = if ready { "True" } else { "False" };
    let conditions = set_condition(
        &obj.status()["conditions"],
        "Ready",
        status,
        reason,
        &message,
        obj.generation(),
    );
    let mut fields = json!({"observedGeneration": obj.generation(), "conditions": conditions});
    if ready {
        let ns = obj.namespace().unwrap_or_default();
        let history = release_history(&obj.obj, source.as_ref(), &super::controller::now());
        let action = if history.len() > 1 { "upgrade" } else { "install" };
        let latest = &history[0];
        fields["lastAttemptedRevision"] = latest["chartVersion"].clone();
        fields["lastAttemptedConfigDigest"] = latest["configDigest"].clone();
        fields["lastAttemptedGeneration"] = json!(obj.generation());
        fields["lastAttemptedReleaseAction"] = json!(action);
        fields["storageNamespace"] = json!(ns);
        fields["history"] = Value::Array(history);
    }
    obj.update_status(&ctx, fields).await?;
    let suspended = obj.spec()["suspend"].as_bool() == Some(true);
    Ok(if ready || suspended {
        Action::Done
    } else {
        Action::Requeue(SOURCE_POLL)
    })
}

fn source_kind(kind: &str) -> Option<Kind> {
    [OCI_REPOSITORY, HELM_REPOSITORY, GIT_REPOSITORY]
        .into_iter()
        .find(|k| k.kind == kind)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(value: Value) -> DynamicObject {
        serde_json::from_value(value).expect("object")
    }

    fn release(spec: Value) -> DynamicObject {
        object(
            json!({"apiVersion": "helm.toolkit.fluxcd.io/v2", "kind": "HelmRelease",
            "metadata": {"name": "app", "namespace": "pm", "generation": 2}, "spec": spec}),
        )
    }

    #[test]
    fn source_status_is_ready_with_artifact() {
        let repo = object(
            json!({"apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "OCIRepository",
            "metadata": {"name": "app", "namespace": "pm", "generation": 4}, "spec": {"ref": {"tag": "1.2.3"}}}),
        );
        let status = source_status("OCIRepository", &repo);
        assert_eq!(status["observedGeneration"], 4);
        assert_eq!(status["artifact"]["revision"], "1.2.3");
        assert!(
            status["artifact"]["digest"]
                .as_str()
                .unwrap()
                .starts_with("sha256:")
        );
        assert!(is_true(&status, "Ready"));
    }

    #[test]
    fn release_source_prefers_chart_ref_and_defaults_namespace() {
        let r = release(json!({"chartRef": {"kind": "OCIRepository", "name": "src"}}));
        assert_eq!(
            release_source(&r),
            Some(("OCIRepository".into(), "pm".into(), "src".into()))
        );
        let r = release(
            json!({"chart": {"spec": {"sourceRef": {"kind": "HelmRepository", "name": "h", "namespace": "x"}}}}),
        );
        assert_eq!(
            release_source(&r),
            Some(("HelmRepository".into(), "x".into(), "h".into()))
        );
    }

    #[test]
    fn release_waits_for_ready_source_and_respects_suspend() {
        let r = release(json!({"chartRef": {"kind": "OCIRepository", "name": "src"}}));
        assert_eq!(release_readiness(&r, None).1, "SourceNotReady");
        let unready = object(json!({"apiVersion": "v1", "kind": "X", "metadata": {"name": "src"}}));
        assert!(!release_readiness(&r, Some(&unready)).0);
        let ready = object(
            json!({"apiVersion": "v1", "kind": "X", "metadata": {"name": "src"},
            "status": {"conditions": [{"type": "Ready", "status": "True"}]}}),
        );
        assert!(release_readiness(&r, Some(&ready)).0);
        let suspended =
            release(json!({"suspend": true, "chartRef": {"kind": "OCIRepository", "name": "src"}}));
        assert_eq!(
            release_readiness(&suspended, Some(&ready)),
            (false, "Suspended", "reconciliation is suspended".into())
        );
    }

    #[test]
    fn release_history_keeps_unchanged_releases_and_adds_revisions() {
        let mut r = release(json!({"targetNamespace": "apps", "values": {"a": 1},
            "chart": {"spec": {"chart": "app", "version": "1.0.0", "sourceRef": {"kind": "HelmRepository", "name": "h"}}}}));
        let first = release_history(&r, None, "2026-01-01T00:00:00Z");
        assert_eq!(first.len(), 1);
        let e = &first[0];
        assert_eq!(
            (e["name"].as_str(), e["namespace"].as_str()),
            (Some("apps-app"), Some("apps"))
        );
        assert_eq!(
            (e["chartName"].as_str(), e["chartVersion"].as_str()),
            (Some("app"), Some("1.0.0"))
        );
        assert_eq!(e["version"], 1);
        assert!(e["configDigest"].as_str().unwrap().starts_with("sha256:"));
        r.data["status"] = json!({"history": first.clone()});
        assert_eq!(
            release_history(&r, None, "2026-02-01T00:00:00Z"),
            first,
            "nothing changed, nothing new"
        );
        r.data["spec"]["values"] = json!({"a": 2});
        let second = release_history(&r, None, "2026-02-01T00:00:00Z");
        assert_eq!(second.len(), 2);
        assert_eq!(second[0]["version"], 2);
        assert_eq!(second[0]["firstDeployed"], "2026-01-01T00:00:00Z");
        assert_eq!(second[0]["lastDeployed"], "2026-02-01T00:00:00Z");
        assert_eq!(second[1]["status"], "superseded");
        assert_ne!(second[0]["digest"], first[0]["digest"]);
    }
}

#[cfg(test)]
mod steady_state {
    use super::*;
    use crate::sim::controller::status_contains;

    /// Reconciling an object whose status is already what the simulator wrote must not write again.
    #[test]
    fn a_second_pass_finds_nothing_to_write() {
        let mut repo: DynamicObject =
            serde_json::from_value(json!({"apiVersion": "source.toolkit.fluxcd.io/v1",
            "kind": "GitRepository", "metadata": {"name": "g", "namespace": "pm", "generation": 1},
            "spec": {"ref": {"commit": "abc"}}}))
            .expect("object");
        let first = source_status("GitRepository", &repo);
        repo.data["status"] = first;
        let second = source_status("GitRepository", &repo);
        assert!(status_contains(&repo.data["status"], &second));
    }
}
