use serde_json::json;

use super::*;
use crate::sim::flux::{HELM_RELEASE, OCI_REPOSITORY};

#[tokio::test]
async fn helm_release_waits_for_its_source_and_suspend_holds_it() {
    let server = server(&[SimKind::Flux]).await;
    let client = server.client();
    namespace(&client, "pm").await;
    let releases = dynamic(&client, &HELM_RELEASE.api_resource(), Some("pm"));
    let sources = dynamic(&client, &OCI_REPOSITORY.api_resource(), Some("pm"));
    let release = |name: &str, suspend: bool| {
        json!({"apiVersion": "helm.toolkit.fluxcd.io/v2", "kind": "HelmRelease", "metadata": {"name": name},
            "spec": {"suspend": suspend, "chartRef": {"kind": "OCIRepository", "name": "app"}}})
    };
    create(&releases, release("app", false)).await;
    create(&releases, release("held", true)).await;

    // Without its source the release reports why it is not Ready.
    let waiting = wait_for(&releases, "app", |o| condition(o, "Ready").is_some()).await;
    assert_eq!(condition(&waiting, "Ready").unwrap()["reason"], "SourceNotReady");

    create(
        &sources,
        json!({"apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "OCIRepository",
        "metadata": {"name": "app"}, "spec": {"url": "oci://ghcr.io/x/app", "ref": {"tag": "1.2.3"}}}),
    )
    .await;
    let source = wait_for(&sources, "app", |o| is_ready(o, "Ready")).await;
    assert_eq!(source.data["status"]["artifact"]["revision"], "1.2.3");
    assert_eq!(
        source.data["status"]["observedGeneration"],
        json!(source.metadata.generation.unwrap_or(0))
    );

    let ready = wait_for(&releases, "app", |o| is_ready(o, "Ready")).await;
    assert_eq!(
        condition(&ready, "Ready").unwrap()["reason"],
        "ReconciliationSucceeded"
    );
    let held = wait_for(&releases, "held", |o| {
        condition(o, "Ready").is_some_and(|c| c["reason"] == "Suspended")
    })
    .await;
    assert_eq!(condition(&held, "Ready").unwrap()["status"], "False");

    // A spec change bumps the generation and is reconciled again.
    let patch = json!({"spec": {"ref": {"tag": "2.0.0"}}});
    sources
        .patch("app", &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .expect("patch");
    let updated = wait_for(&sources, "app", |o| {
        o.data["status"]["artifact"]["revision"] == "2.0.0"
    })
    .await;
    assert_eq!(
        updated.data["status"]["observedGeneration"],
        json!(updated.metadata.generation.unwrap_or(0))
    );
    server.shutdown().await;
}
