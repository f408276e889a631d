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
    obj.update_status(&ctx, application_status(obj.spec())).await?;
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

/// The status fields an Application gets for `spec`.
pub fn application_status(spec: &Value) -> Value {
    let urls = repo_urls(spec);
    let placeholder = urls.is_empty() || urls.contains(&PLACEHOLDER);
    let (sync, health) = if placeholder {
        ("OutOfSync", "Missing")
    } else {
        ("Synced", "Healthy")
    };
    let revision = spec["source"]["targetRevision"].as_str().unwrap_or("HEAD");
    json!({
        "sync": {"status": sync, "revision": revision, "comparedTo": {"source": spec["source"].clone()}},
        "health": {"status": health},
        "operationState": {"phase": if placeholder { "Failed" } else { "Succeeded" }},
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholder_source_is_out_of_sync() {
        let status = application_status(&json!({"source": {"repoURL": PLACEHOLDER}}));
        assert_eq!(status["sync"]["status"], "OutOfSync");
        assert_eq!(status["health"]["status"], "Missing");
    }

    #[test]
    fn real_source_is_synced_and_healthy() {
        let status = application_status(
            &json!({"source": {"repoURL": "ghcr.io/pm/charts", "targetRevision": "1.0.0"}}),
        );
        assert_eq!(status["sync"]["status"], "Synced");
        assert_eq!(status["sync"]["revision"], "1.0.0");
        assert_eq!(status["health"]["status"], "Healthy");
        let multi = application_status(&json!({"sources": [{"repoURL": "a"}, {"repoURL": PLACEHOLDER}]}));
        assert_eq!(multi["sync"]["status"], "OutOfSync");
    }
}
