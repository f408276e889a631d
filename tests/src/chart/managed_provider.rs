//! A ManagedProvider's whole life under the chart's RBAC: created next to the Ready PlatformMesh, it goes Ready
//! (Provider in kcp, kubeconfig copied into the runtime cluster, Flux and OCM objects written by the deploy step)
//! follows a version bump (objects updated), and is deleted with `cleanupOnDelete` (those objects and the copy
//! removed). This exercises the verbs only the
//! ManagedProvider chain uses: create/update/delete on Flux sources, HelmReleases, OCM Resources, Components and
//! Repositories, Namespaces and Secrets in the runtime cluster.

use std::time::Duration;

use anyhow::{Context as _, bail, ensure};
use kube::{
    Client,
    api::{DeleteParams, DynamicObject, Patch, PatchParams, PostParams},
};
use platform_mesh_operator::controller::ProgressEvent;
use serde_json::json;
use tokio::sync::mpsc::UnboundedReceiver;

use crate::api::dynamic;

const NAME: &str = "chart";

/// A Flux Helm chart, a Flux OCI chart and an OCM component, all at `version`.
fn deployments(version: &str) -> serde_json::Value {
    json!([
        {"flux": {"type": "helm", "registry": "https://charts.example.io", "chart": "portal", "version": version}},
        {"flux": {"type": "oci", "registry": "ghcr.io/pm", "chart": "charts/api", "version": version}},
        {"ocm": {"registry": "ghcr.io/platform-mesh", "component": "github.com/platform-mesh/extension",
                 "version": version}},
    ])
}

/// Creates the ManagedProvider with `admin`, waits for the operator to report it Ready on `events`, checks what it
/// wrote, deletes it and waits until it and its objects are gone.
pub async fn round_trip(
    admin: &Client,
    namespace: &str,
    events: &mut UnboundedReceiver<ProgressEvent>,
) -> anyhow::Result<()> {
    let managed_providers = dynamic(
        admin,
        "providers.platform-mesh.io/v1alpha1",
        "ManagedProvider",
        "managedproviders",
        Some(namespace),
    );
    let object: DynamicObject = serde_json::from_value(json!({
        "apiVersion": "providers.platform-mesh.io/v1alpha1", "kind": "ManagedProvider",
        "metadata": {"name": NAME, "namespace": namespace},
        "spec": {"platformMeshRef": {"name": "platform-mesh"}, "cleanupOnDelete": true,
                 "runtimeDeployments": deployments("1.0.0")},
    }))?;
    managed_providers
        .create(&PostParams::default(), &object)
        .await
        .context("creating the ManagedProvider")?;
    let ready = async {
        while let Some(event) = events.recv().await {
            if event.controller != "managedprovider" {
                continue;
            }
            println!(
                "managedprovider {} {} {} {}",
                event.change.type_, event.change.status, event.change.reason, event.change.message
            );
            if event.change.type_ == "Ready" && event.change.status == "True" {
                return Ok(());
            }
        }
        bail!("the operator stopped")
    };
    tokio::time::timeout(Duration::from_secs(120), ready)
        .await
        .context("ManagedProvider Ready")??;

    let secrets = dynamic(admin, "v1", "Secret", "secrets", Some(namespace));
    let releases = dynamic(
        admin,
        "helm.toolkit.fluxcd.io/v2",
        "HelmRelease",
        "helmreleases",
        Some(namespace),
    );
    let resources = dynamic(
        admin,
        "delivery.ocm.software/v1alpha1",
        "Resource",
        "resources",
        Some(namespace),
    );
    let written = [
        (&secrets, format!("{NAME}-provider-kubeconfig")),
        // Upstream's names: the chart's last segment, the OCM component's last segment.
        (&releases, "portal".to_owned()),
        (&releases, "api".to_owned()),
        (&resources, "extension".to_owned()),
    ];
    for (api, name) in &written {
        ensure!(
            api.get_opt(name).await?.is_some(),
            "the ManagedProvider wrote {name}"
        );
    }

    // A version bump: the deploy step updates what it wrote.
    let bump = json!({"spec": {"runtimeDeployments": deployments("1.1.0")}});
    managed_providers
        .patch(NAME, &PatchParams::default(), &Patch::Merge(&bump))
        .await
        .context("bumping the ManagedProvider's versions")?;
    let portal = "portal".to_owned();
    let mut bumped = false;
    for _ in 0..600 {
        let release = releases.get(&portal).await?;
        if release.data.pointer("/spec/chart/spec/version") == Some(&json!("1.1.0")) {
            bumped = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    ensure!(
        bumped,
        "HelmRelease {portal} was not updated to 1.1.0 within 60 s"
    );
    println!("managedprovider {NAME}: HelmRelease {portal} updated to 1.1.0");

    managed_providers
        .delete(NAME, &DeleteParams::default())
        .await
        .context("deleting the ManagedProvider")?;
    for _ in 0..1200 {
        let mut left = Vec::new();
        if managed_providers.get_opt(NAME).await?.is_some() {
            left.push(NAME.to_owned());
        }
        for (api, name) in &written {
            if api.get_opt(name).await?.is_some() {
                left.push(name.clone());
            }
        }
        if left.is_empty() {
            println!("managedprovider {NAME}: deleted with everything it wrote");
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    bail!("the ManagedProvider or what it wrote was not deleted within 120 s")
}
