//! End to end: the feature-toggles plugin (with kcp-setup, provider-secret and wait) against the embedded API
//! server, rendering the shipped `manifests/features` with the real template engine. The sample PlatformMesh
//! switches `feature-enable-getting-started` and `feature-accounts-in-accounts` on: their ContentConfigurations
//! appear in `root:platform-mesh-system`, labelled with their toggle. Switching the toggles off removes them
//! again; an unknown toggle is a warning in the condition, not a failure; all four shipped toggles in one
//! reconcile create their objects (the terminal one an APIExport and its APIResourceSchema), and a second
//! reconcile writes nothing.

use std::time::Duration;

use anyhow::{Context as _, ensure};
use e2e::{
    api::dynamic,
    kcp::{config, platform, platform_meshes},
    operator::{Operator, Passes, Want},
    platform::{NS, PM, PMS},
    wait,
};
use kube::api::{Api, DynamicObject, Patch, PatchParams};
use serde_json::json;

const GETTING_STARTED: &str = "main-home-overview-getting-started";
const LABEL: &str = "core.platform-mesh.io/feature-toggle";

fn content_configurations(server: &apiserver::Server) -> Api<DynamicObject> {
    dynamic(
        &server.kcp_client(PMS),
        "ui.platform-mesh.io/v1alpha1",
        "ContentConfiguration",
        "contentconfigurations",
        None,
    )
}

async fn set_toggles(server: &apiserver::Server, toggles: serde_json::Value) -> anyhow::Result<()> {
    let patch = json!({"spec": {"featureToggles": toggles}});
    platform_meshes(server)
        .patch(PM, &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .context("patching spec.featureToggles")?;
    Ok(())
}

/// How long an object may take to appear or go.
const CHANGE: Duration = Duration::from_secs(30);

#[tokio::test]
async fn toggles_switch_their_objects_on_and_off() -> anyhow::Result<()> {
    let server = platform().await?;
    let (config, clients) = config(&server)?;
    let mut operator = Operator::spawn(&config, &clients);
    operator.until(Want::condition("Ready", "True")).await?;

    let contents = content_configurations(&server);
    let started = contents
        .get(GETTING_STARTED)
        .await
        .context("the getting-started toggle applied")?;
    let labels = started.metadata.labels.clone().unwrap_or_default();
    ensure!(
        labels.get(LABEL).map(String::as_str) == Some("feature-enable-getting-started"),
        "{labels:?}"
    );
    let text = started.data["spec"]["inlineConfiguration"]["content"]
        .as_str()
        .unwrap_or_default();
    ensure!(
        text.contains("https://portal.localhost:8443/ui/home/#/getting-started"),
        "rendered: {text}"
    );
    contents
        .get("account-accounts")
        .await
        .context("the accounts-in-accounts toggle applied")?;

    // An unknown toggle is a warning; the known one stays.
    set_toggles(
        &server,
        json!([{"name": "feature-enable-getting-started"}, {"name": "feature-made-up"}]),
    )
    .await?;
    let message = operator
        .message(Want::condition("FeatureToggleSubroutine", "True").containing("feature-made-up"))
        .await?;
    ensure!(
        message.starts_with("warning: unknown feature toggles ignored: \"feature-made-up\""),
        "{message}"
    );
    wait::gone(&contents, "account-accounts", CHANGE).await?;
    contents.get(GETTING_STARTED).await?;

    // Off: what the toggle applied is deleted; kcp-setup's own ContentConfigurations stay.
    set_toggles(&server, json!([])).await?;
    wait::gone(&contents, GETTING_STARTED, CHANGE).await?;
    contents
        .get("main-home")
        .await
        .context("kcp-setup's objects are not the toggle's")?;

    // All four shipped toggles in one reconcile, the terminal one with an APIExport and its schema.
    set_toggles(
        &server,
        json!([{"name": "feature-enable-getting-started"}, {"name": "feature-accounts-in-accounts"},
               {"name": "feature-enable-account-iam-ui"}, {"name": "feature-enable-terminal-controller-manager"}]),
    )
    .await?;
    let exports = dynamic(
        &server.kcp_client(PMS),
        "apis.kcp.io/v1alpha2",
        "APIExport",
        "apiexports",
        None,
    );
    wait::appears(&exports, "terminal.platform-mesh.io", CHANGE).await?;
    let schemas = dynamic(
        &server.kcp_client(PMS),
        "apis.kcp.io/v1alpha1",
        "APIResourceSchema",
        "apiresourceschemas",
        None,
    );
    wait::appears(
        &schemas,
        "v260216-62483c5.terminals.terminal.platform-mesh.io",
        CHANGE,
    )
    .await?;
    for name in ["account-iam-ui", "account-accounts", GETTING_STARTED] {
        wait::appears(&contents, name, CHANGE).await?;
    }
    operator.stop().await?;

    wait::quiet(&server).await?;
    server.requests().reset();
    let report = Passes::new(&config, &clients, &server.client())
        .await?
        .reconcile(NS, PM)
        .await;
    ensure!(report.error.is_none(), "{:?}", report.error);
    let stats = server.requests().snapshot();
    println!("second reconcile: {stats:?}");
    ensure!(stats.writes == 0 && stats.changed_writes == 0, "{stats:?}");
    server.shutdown().await;
    Ok(())
}
