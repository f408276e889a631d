//! Rolling back to the Go operator (`platform-mesh-operator downgrade`).
//!
//! This operator gives every PlatformMesh subroutine its own finalizer (`platform-mesh.core.platform-mesh.io/
//! kcp-setup`, `…/provider-secret`, `…/feature-toggles`) where upstream's KcpSetup and ProviderSecret shared
//! `platform-mesh.core.platform-mesh.io/finalizer`. The Go operator, put back, removes only its own string on
//! deletion, so a PlatformMesh carrying ours could never be deleted. `downgrade` rewrites them: every
//! `platform-mesh.core.platform-mesh.io/…` finalizer becomes the one upstream string, which the Go operator's
//! deletion flow removes. The finalizers of ManagedProviders and Providers already have upstream's names
//! (spec §3.5) and are left alone.
//!
//! Stop this operator first: running, it would put its own finalizers back (and the Go operator's shared one is
//! retired by this operator again on its next pass over a PlatformMesh being deleted).

use kube::{
    Api, Client, ResourceExt,
    api::{ListParams, Patch, PatchParams},
};
use serde_json::json;

use crate::crd::PlatformMesh;

/// The finalizer the Go operator's KcpSetup and ProviderSecret subroutines share (spec §3.5).
pub const UPSTREAM_FINALIZER: &str = "platform-mesh.core.platform-mesh.io/finalizer";

/// The prefix of every PlatformMesh finalizer, ours and upstream's.
const PREFIX: &str = "platform-mesh.core.platform-mesh.io/";

/// The finalizers the Go operator expects in place of `current`, or `None` when nothing needs to change: ours
/// are replaced by [`UPSTREAM_FINALIZER`] (once, where the first of them was), others keep their place.
pub fn upstream_finalizers(current: &[String]) -> Option<Vec<String>> {
    let ours = |f: &String| f.starts_with(PREFIX) && f != UPSTREAM_FINALIZER;
    if !current.iter().any(ours) {
        return None;
    }
    let mut out: Vec<String> = Vec::new();
    for finalizer in current {
        let wanted = if ours(finalizer) {
            UPSTREAM_FINALIZER.to_owned()
        } else {
            finalizer.clone()
        };
        if !out.contains(&wanted) {
            out.push(wanted);
        }
    }
    Some(out)
}

/// What [`downgrade`] changed.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct DowngradeReport {
    /// `namespace/name` of every PlatformMesh whose finalizers were rewritten.
    pub rewritten: Vec<String>,
    /// How many PlatformMeshes needed nothing.
    pub unchanged: usize,
}

/// Rewrites the finalizers of every PlatformMesh for the Go operator. Each write carries the resourceVersion it
/// was computed from, so a concurrent change fails the command instead of being overwritten.
pub async fn downgrade(client: &Client) -> Result<DowngradeReport, kube::Error> {
    let all: Api<PlatformMesh> = Api::all(client.clone());
    let mut report = DowngradeReport::default();
    for pm in all.list(&ListParams::default()).await? {
        let Some(finalizers) = upstream_finalizers(pm.finalizers()) else {
            report.unchanged += 1;
            continue;
        };
        let namespace = pm.namespace().unwrap_or_default();
        let api: Api<PlatformMesh> = Api::namespaced(client.clone(), &namespace);
        let patch = json!({"metadata": {
            "finalizers": finalizers,
            "resourceVersion": pm.resource_version(),
        }});
        api.patch(&pm.name_any(), &PatchParams::default(), &Patch::Merge(&patch))
            .await?;
        tracing::info!(platform_mesh = %pm.name_any(), %namespace, ?finalizers, "finalizers rewritten for the Go operator");
        report.rewritten.push(format!("{namespace}/{}", pm.name_any()));
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn ours_become_the_one_upstream_finalizer() {
        let ours = strings(&[
            "other.io/keep",
            "platform-mesh.core.platform-mesh.io/kcp-setup",
            "platform-mesh.core.platform-mesh.io/provider-secret",
        ]);
        assert_eq!(
            upstream_finalizers(&ours),
            Some(strings(&["other.io/keep", UPSTREAM_FINALIZER]))
        );
        assert_eq!(upstream_finalizers(&strings(&[UPSTREAM_FINALIZER])), None);
        assert_eq!(upstream_finalizers(&strings(&["other.io/keep"])), None);
        assert_eq!(upstream_finalizers(&[]), None);
    }

    /// Ours leave a PlatformMesh the Go operator can delete: after `downgrade`, its deletion flow (delete, then
    /// remove only its own finalizer) makes the object go away; without it, the object stays.
    #[tokio::test]
    async fn after_downgrade_the_go_deletion_flow_deletes_the_platform_mesh() {
        use kube::api::{DeleteParams, PostParams};

        let server = apiserver::start(apiserver::ServerConfig {
            simulators: apiserver::sim::SimConfig::none(),
            ..apiserver::ServerConfig::default()
        })
        .await
        .expect("embedded server");
        let client = server.client();
        let crds: Api<
            k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition,
        > = Api::all(client.clone());
        for crd in crate::crd::all_crds() {
            crds.create(&PostParams::default(), &crd).await.expect("CRD");
        }
        let api: Api<PlatformMesh> = Api::namespaced(client.clone(), "default");
        // The embedded server serves a new CRD at once; wait until a list answers to be sure.
        for _ in 0..50 {
            if api.list(&ListParams::default()).await.is_ok() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        let ours = ["kcp-setup", "provider-secret"].map(|s| format!("{PREFIX}{s}"));
        let create = |name: &'static str| {
            let api = api.clone();
            let ours = ours.clone();
            async move {
                let pm: PlatformMesh = serde_json::from_value(json!({
                    "apiVersion": "core.platform-mesh.io/v1alpha1", "kind": "PlatformMesh",
                    "metadata": {"name": name, "namespace": "default", "finalizers": ours},
                    "spec": {}}))
                .expect("valid PlatformMesh");
                api.create(&PostParams::default(), &pm).await.expect("created");
            }
        };
        create("rolled-back").await;
        let report = downgrade(&client).await.expect("downgrade");
        assert_eq!(report.rewritten, ["default/rolled-back"]);
        assert_eq!(
            downgrade(&client).await.expect("again").unchanged,
            1,
            "idempotent"
        );

        // The Go operator's deletion flow: delete, then its chain removes its own (shared) finalizer only.
        let go_delete = |name: &'static str| {
            let api = api.clone();
            async move {
                api.delete(name, &DeleteParams::default()).await.expect("delete");
                let Some(pm) = api.get_opt(name).await.expect("get") else {
                    return;
                };
                let kept: Vec<String> = pm
                    .finalizers()
                    .iter()
                    .filter(|f| *f != UPSTREAM_FINALIZER)
                    .cloned()
                    .collect();
                let patch = json!({"metadata": {"finalizers": kept}});
                api.patch(name, &PatchParams::default(), &Patch::Merge(&patch))
                    .await
                    .expect("finalizer removed");
            }
        };
        go_delete("rolled-back").await;
        assert!(api.get_opt("rolled-back").await.expect("get").is_none());

        // Without the rewrite, ours would have stayed.
        create("stuck").await;
        go_delete("stuck").await;
        let stuck = api.get_opt("stuck").await.expect("get").expect("still there");
        assert_eq!(stuck.finalizers(), ours, "the Go operator never removes ours");
    }
}
