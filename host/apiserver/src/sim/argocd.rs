//! Argo CD: the application controller's view of `argoproj.io/v1alpha1` Application and AppProject.
//!
//! Rules: an Application is `Synced`/`Healthy` with `observedGeneration`-style bookkeeping in
//! `status.reconciledAt`; when its source `repoURL` is still the operator's placeholder
//! (`PLACEHOLDER_TO_BE_SET_BY_RESOURCE_SUBROUTINE`) it is `OutOfSync`/`Missing` instead, because Argo CD could not
//! fetch anything. AppProjects get no status (Argo CD writes none that matters).

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::task::JoinSet;

use super::controller::{Action, Context, Obj, ReconcileError, Scope, reconciler, spawn_controller};
use super::crds::{self, Kind};

/// The repoURL the operator renders before the Resource subroutine resolves the real one.
pub const PLACEHOLDER: &str = "PLACEHOLDER_TO_BE_SET_BY_RESOURCE_SUBROUTINE";

/// `argoproj.io/v1alpha1` Application.
pub const APPLICATION: Kind = Kind {
    group: "argoproj.io",
    version: "v1alpha1",
    kind: "Application",
    plural: "applications",
    short_names: &["app", "apps"],
    namespaced: true,
    columns: &[
        ("Sync Status", "string", ".status.sync.status"),
        ("Health Status", "string", ".status.health.status"),
    ],
};

/// `argoproj.io/v1alpha1` AppProject.
pub const APP_PROJECT: Kind = Kind {
    group: "argoproj.io",
    version: "v1alpha1",
    kind: "AppProject",
    plural: "appprojects",
    short_names: &["appproj", "appprojs"],
    namespaced: true,
    columns: &[],
};

/// Installs the Argo CD CRDs and starts the Application controller.
pub async fn start(
    ctx: &Arc<Context>,
    delay: Duration,
    tasks: &mut JoinSet<()>,
) -> Result<(), ReconcileError> {
    crds::install(&ctx.client(None)?, &[APPLICATION, APP_PROJECT]).await?;
    spawn_controller(
        tasks,
        ctx,
        Scope::Plain,
        APPLICATION.api_resource(),
        delay,
        reconciler(reconcile),
    );
    Ok(())
}

async fn reconcile(ctx: Arc<Context>, obj: Obj) -> Result<Action, ReconcileError> {
    let status = application_status(obj.spec(), obj.status(), &super::controller::now());
    obj.update_status(&ctx, status).await?;
    Ok(Action::Done)
}

/// The repoURLs of an Application (`spec.source` and every `spec.sources[]`).
fn repo_urls(spec: &Value) -> Vec<&str> {
    let mut urls: Vec<&str> = spec["source"]["repoURL"].as_str().into_iter().collect();
    if let Some(sources) = spec["sources"].as_array() {
        urls.extend(sources.iter().filter_map(|s| s["repoURL"].as_str()));
    }
    urls
}

/// The status fields an Application gets for `spec`, in the shape of Argo CD's CRD: the sync result compared to
/// the spec's source(s) and destination, the health, and the automated sync operation that got there. `existing`
/// is the current status: an operation with the same outcome keeps its start and finish times (no write).
pub fn application_status(spec: &Value, existing: &Value, now: &str) -> Value {
    let urls = repo_urls(spec);
    let placeholder = urls.is_empty() || urls.contains(&PLACEHOLDER);
    let (sync, health, phase) = if placeholder {
        ("OutOfSync", "Missing", "Failed")
    } else {
        ("Synced", "Healthy", "Succeeded")
    };
    let revision = spec["source"]["targetRevision"].as_str().unwrap_or("HEAD");
    let mut compared = json!({"destination": spec["destination"].clone()});
    if spec["source"].is_object() {
        compared["source"] = spec["source"].clone();
    }
    if spec["sources"].is_array() {
        compared["sources"] = spec["sources"].clone();
    }
    if !compared["destination"].is_object() {
        compared["destination"] = json!({});
    }
    let message = if placeholder {
        "the source repository is not set yet"
    } else {
        "successfully synced (all tasks run)"
    };
    let previous = &existing["operationState"];
    let unchanged = previous["phase"] == phase && previous["operation"]["sync"]["revision"] == revision;
    let time = |k: &str| {
        previous[k]
            .as_str()
            .filter(|_| unchanged)
            .unwrap_or(now)
            .to_string()
    };
    json!({
        "sync": {"status": sync, "revision": revision, "comparedTo": compared},
        "health": {"status": health},
        "operationState": {
            "operation": {"sync": {"revision": revision}, "initiatedBy": {"automated": true}},
            "phase": phase,
            "message": message,
            "startedAt": time("startedAt"),
            "finishedAt": time("finishedAt"),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: &str = "2026-01-01T00:00:00Z";

    #[test]
    fn placeholder_source_is_out_of_sync() {
        let status = application_status(&json!({"source": {"repoURL": PLACEHOLDER}}), &Value::Null, NOW);
        assert_eq!(status["sync"]["status"], "OutOfSync");
        assert_eq!(status["health"]["status"], "Missing");
    }

    #[test]
    fn real_source_is_synced_and_healthy() {
        let spec = json!({"source": {"repoURL": "ghcr.io/pm/charts", "targetRevision": "1.0.0"}});
        let status = application_status(&spec, &Value::Null, NOW);
        assert_eq!(status["sync"]["status"], "Synced");
        assert_eq!(status["sync"]["revision"], "1.0.0");
        assert_eq!(status["health"]["status"], "Healthy");
        let again = application_status(&spec, &status, "2026-02-02T00:00:00Z");
        assert_eq!(again, status, "an unchanged outcome keeps its operation times");
        let multi = application_status(
            &json!({"sources": [{"repoURL": "a"}, {"repoURL": PLACEHOLDER}]}),
            &Value::Null,
            NOW,
        );
        assert_eq!(multi["sync"]["status"], "OutOfSync");
    }
}
