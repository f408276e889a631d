//! End to end: this operator takes over a running installation of the Go operator.
//!
//! The installation: the sample PlatformMesh with the default Flux profile, deployed — HelmReleases, Flux sources
//! and OCM Resources under upstream's names, applied with upstream's field manager `platform-mesh-deployment`, the
//! image tags the Resource controller wrote into the HelmReleases (spec §4.6) — and the PlatformMesh carrying the Go
//! operator's shared finalizer `platform-mesh.core.platform-mesh.io/finalizer` (spec §3.5). The deployed objects
//! are rendered from upstream's templates by a first operator run (the Go operator renders the same templates with
//! the same field manager); what only the Go operator leaves — its finalizer — is then put in place of ours.
//! kcp objects and provider Secrets are not part of this scenario (the kcp and provider scenarios cover their
//! steady state); ManagedProvider objects under upstream's names are adopted in `drop_in`.
//!
//! A new operator then takes over: the PlatformMesh is Ready again with no delete, no object under a new name, no
//! HelmRelease, Flux source or OCM spec changed (except the allow-list below, each with its reason). The Go
//! operator's finalizer is retired by KcpSetup and ProviderSecret, which this scenario leaves out, so here it is
//! kept next to this operator's until deletion; deleting the PlatformMesh then only removes finalizers (the Go
//! operator's included) until it is gone, and leaves the deployed objects in place, as upstream does.

use std::{collections::BTreeSet, time::Duration};

use e2e::{
    operator::{self, Operator, Want},
    platform::{self, NS, PM, repo_root, samples},
    takeover::{self, HELM_RELEASE, HELM_REPOSITORY, Kind, OCI_REPOSITORY, OCM_RESOURCE},
    wait::{self, Counter},
};
use kube::api::{DeleteParams, Patch, PatchParams};
use serde_json::json;

const SAMPLES: [&str; 5] = [
    "namespace.yaml",
    "ocm.yaml",
    "kcp.yaml",
    "profile.yaml",
    "platformmesh.yaml",
];
const GO_FINALIZER: &str = "platform-mesh.core.platform-mesh.io/finalizer";
const GIT_REPOSITORY: Kind = ("source.toolkit.fluxcd.io/v1", "GitRepository", "gitrepositories");
const KINDS: [Kind; 5] = [
    HELM_RELEASE,
    OCI_REPOSITORY,
    HELM_REPOSITORY,
    GIT_REPOSITORY,
    OCM_RESOURCE,
];

/// Spec changes a take-over may make, with the reason; empty: the first pass changes no spec.
const ALLOWED_SPEC_CHANGES: &[(&str, &str)] = &[];

fn config(server: &apiserver::Server) -> anyhow::Result<platform_mesh_operator::config::OperatorConfig> {
    let mut config = operator::config(server, &repo_root(), &[])?;
    config.subroutines.subroutines_deployment_enable_istio = false;
    config.subroutines.subroutines_kcp_setup_enabled = false;
    config.subroutines.subroutines_provider_secret_enabled = false;
    config.subroutines.subroutines_feature_toggles_enabled = false;
    Ok(config)
}

fn finalizers(object: &kube::api::DynamicObject) -> Vec<String> {
    object.metadata.finalizers.clone().unwrap_or_default()
}

#[tokio::test]
async fn a_go_installation_is_taken_over_without_churn_and_deleted_in_order() -> anyhow::Result<()> {
    let server =
        platform::server(apiserver::sim::SimConfig::all().with_delay(Duration::from_millis(20))).await?;
    let client = server.client();
    platform::apply_all(&client, samples(&SAMPLES)?).await?;
    let config = config(&server)?;
    let clients = operator::clients(&server)?;
    let ready = || {
        Want::condition("Ready", "True")
            .of("platformmesh")
            .within(Duration::from_secs(120))
    };

    // The installation as deployed, then the Go operator's finalizer in place of ours.
    let mut first = Operator::spawn(&config, &clients);
    first.until(ready()).await?;
    wait::settle(
        &server,
        Counter::Writes,
        Duration::from_millis(1500),
        Duration::from_secs(120),
    )
    .await?;
    first.stop().await?;
    let meshes = platform::platform_meshes(&client, Some(NS));
    let ours = finalizers(&meshes.get(PM).await?);
    meshes
        .patch(
            PM,
            &PatchParams::default(),
            &Patch::Merge(&json!({"metadata": {"finalizers": [GO_FINALIZER]}})),
        )
        .await?;

    // The take-over.
    let before = takeover::inventory(&client, &KINDS, NS).await?;
    let deletes = takeover::deletes(&server);
    let requests = server.requests().snapshot();
    let reads = |s: &apiserver::RequestStats| s.by_resource.get("configmaps").copied().unwrap_or(0);
    let second = Operator::spawn(&config, &clients);
    // Ready stays True through the take-over (no condition change to wait for): wait for the pass (it reads the
    // profile ConfigMap), then for the writes to stop.
    wait::until("the take-over pass", Duration::from_secs(120), || async {
        Ok((reads(&server.requests().snapshot()) > reads(&requests)).then_some(()))
    })
    .await?;
    wait::settle(
        &server,
        Counter::Writes,
        Duration::from_millis(1500),
        Duration::from_secs(120),
    )
    .await?;
    let after = takeover::inventory(&client, &KINDS, NS).await?;
    let changes = takeover::changes(&before, &after);
    let writes = server.requests().snapshot();
    let allowed: BTreeSet<String> = ALLOWED_SPEC_CHANGES
        .iter()
        .map(|(k, _)| (*k).to_owned())
        .collect();
    let unexpected: BTreeSet<&String> = changes.spec_changed.difference(&allowed).collect();
    println!(
        "take-over of {} objects: {} deletes, {} created under new names, {} deleted or recreated, {} spec changes \
         ({} unexpected), {} writes ({} changed)",
        before.len(),
        takeover::deletes(&server) - deletes,
        changes.created.len(),
        changes.deleted_or_recreated.len(),
        changes.spec_changed.len(),
        unexpected.len(),
        writes.writes - requests.writes,
        writes.changed_writes - requests.changed_writes,
    );
    assert_eq!(takeover::deletes(&server), deletes, "no delete");
    assert!(
        changes.created.is_empty(),
        "no object under a new name: {:?}",
        changes.created
    );
    assert!(
        changes.deleted_or_recreated.is_empty(),
        "{:?}",
        changes.deleted_or_recreated
    );
    assert!(
        unexpected.is_empty(),
        "spec changes outside the allow-list: {unexpected:?}"
    );
    // The Go operator's finalizer belongs to KcpSetup and ProviderSecret, which retire it; without them (this
    // scenario) it stays until deletion, next to this operator's own, and is never duplicated.
    let pm = meshes.get(PM).await?;
    let kept = finalizers(&pm);
    let expected: BTreeSet<String> = ours.iter().cloned().chain([GO_FINALIZER.to_owned()]).collect();
    assert_eq!(
        kept.iter().cloned().collect::<BTreeSet<_>>(),
        expected,
        "{kept:?}"
    );
    assert_eq!(kept.len(), expected.len(), "no duplicate: {kept:?}");
    assert_eq!(e2e::api::condition(&pm, "Ready"), Some("True"));

    // Deletion: finalizers are only removed until the object is gone; the deployed objects stay, as upstream.
    meshes.delete(PM, &DeleteParams::default()).await?;
    let mut seen: Vec<Vec<String>> = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while let Some(pm) = meshes.get_opt(PM).await? {
        let now = finalizers(&pm);
        if seen.last() != Some(&now) {
            seen.push(now);
        }
        anyhow::ensure!(
            tokio::time::Instant::now() < deadline,
            "the PlatformMesh is still there: {seen:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for pair in seen.windows(2) {
        assert!(
            pair[1].iter().all(|f| pair[0].contains(f)),
            "finalizers are only removed during deletion: {seen:?}"
        );
    }
    let left = takeover::inventory(&client, &KINDS, NS).await?;
    println!(
        "deletion: finalizers seen {seen:?}; {} of {} deployed objects kept",
        left.len(),
        after.len()
    );
    assert_eq!(
        left.len(),
        after.len(),
        "deleting a PlatformMesh keeps what it deployed, as upstream"
    );
    second.stop().await?;
    server.shutdown().await;
    Ok(())
}
