//! End to end: the operator with the real wasm `kcp-setup` and `wait` plugins against the embedded API server and
//! its simulated kcp. The sample PlatformMesh (`deploy/samples/platformmesh.yaml`) turns Ready; kcp then holds the
//! workspaces of spec §6.2.1, all Ready, every APIBinding is Bound, the authentication configuration carries the
//! welcome client's audience, and `status.kcpWorkspaces` reports the observed phases. A further reconcile of the
//! unchanged PlatformMesh writes nothing at all (the server's request counters). A malformed manifest names its
//! file and line in the condition, and nothing of the tree reaches kcp.
//!
//! The deployment subroutine is switched off: the objects it would leave behind for kcp-setup (RootShard and
//! FrontProxy, which the simulated kcp-operator makes Available, and the webhook CA Secrets) are created directly.

use std::{
    path::{Path, PathBuf},
    time::Duration,
};

use anyhow::{Context as _, bail, ensure};
use apiserver::{Server, ServerConfig, sim::SimConfig};
use clap::Parser;
use kube::{
    Api, Client,
    api::{ApiResource, DynamicObject, GroupVersionKind, Patch, PatchParams},
};
use platform_mesh_operator::{
    clusters::KcpAdmin,
    config::OperatorConfig,
    controller::{
        ProgressEvent, ProgressSink,
        operator::{self, OperatorClients},
    },
    embedded,
    lifecycle::{KubeStore, ObjectKey},
};
use serde_json::{Value, json};
use tokio::sync::mpsc::UnboundedReceiver;
use tokio_util::sync::CancellationToken;

const NS: &str = "platform-mesh-system";
const PM: &str = "platform-mesh";

#[derive(Parser)]
struct Flags {
    #[command(flatten)]
    config: OperatorConfig,
}

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn api(
    client: &Client,
    gvk: (&str, &str, &str),
    plural: &str,
    namespace: Option<&str>,
) -> Api<DynamicObject> {
    let resource = ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk(gvk.0, gvk.1, gvk.2), plural);
    match namespace {
        Some(ns) => Api::namespaced_with(client.clone(), ns, &resource),
        None => Api::all_with(client.clone(), &resource),
    }
}

async fn apply(api: &Api<DynamicObject>, object: Value) -> anyhow::Result<()> {
    let name = object["metadata"]["name"].as_str().unwrap_or_default().to_owned();
    api.patch(&name, &PatchParams::apply("e2e").force(), &Patch::Apply(&object))
        .await
        .with_context(|| format!("applying {name}"))?;
    Ok(())
}

/// The embedded server with the operator's CRDs, the sample namespace and PlatformMesh, and what the deployment
/// subroutine would have installed before kcp-setup runs.
async fn platform() -> anyhow::Result<Server> {
    let server = apiserver::start(ServerConfig {
        simulators: SimConfig::all(),
        ..ServerConfig::default()
    })
    .await?;
    let client = server.client();
    embedded::install_crds(&client).await?;
    for sample in [
        "deploy/samples/namespace.yaml",
        "deploy/samples/platformmesh.yaml",
    ] {
        for object in embedded::read_documents(&repo_root().join(sample))? {
            embedded::apply(&client, &object).await?;
        }
    }
    // An object written by an older operator still carries the finalizer KcpSetup and ProviderSecret shared.
    let platform_meshes = api(
        &client,
        ("core.platform-mesh.io", "v1alpha1", "PlatformMesh"),
        "platformmeshes",
        Some(NS),
    );
    let legacy = json!({"metadata": {"finalizers": ["platform-mesh.core.platform-mesh.io/finalizer"]}});
    platform_meshes
        .patch(PM, &PatchParams::default(), &Patch::Merge(&legacy))
        .await?;
    for (kind, plural, name) in [
        ("RootShard", "rootshards", "root"),
        ("FrontProxy", "frontproxies", "frontproxy"),
    ] {
        let kcp_operator = api(&client, ("operator.kcp.io", "v1alpha1", kind), plural, Some(NS));
        apply(
            &kcp_operator,
            json!({"apiVersion": "operator.kcp.io/v1alpha1", "kind": kind,
                                     "metadata": {"name": name, "namespace": NS}, "spec": {}}),
        )
        .await?;
    }
    let secrets = api(&client, ("", "v1", "Secret"), "secrets", Some(NS));
    for name in [
        "account-operator-webhook-server-cert",
        "security-operator-ca-secret",
    ] {
        apply(
            &secrets,
            json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name, "namespace": NS},
                               "stringData": {"ca.crt": format!("CA of {name}")}}),
        )
        .await?;
    }
    Ok(server)
}

/// The operator configuration: kcp-setup and wait only, manifests from `workspace_dir`.
fn config(server: &Server, workspace_dir: &Path) -> anyhow::Result<(OperatorConfig, OperatorClients)> {
    let mut config = Flags::try_parse_from([
        "e2e",
        "--subroutines-deployment-enabled=false",
        "--subroutines-provider-secret-enabled=false",
        "--subroutines-feature-toggles-enabled=false",
    ])?
    .config;
    config.workspace_dir = workspace_dir.canonicalize()?;
    config.kcp.kcp_url = server.url().to_owned();
    let clients = OperatorClients {
        runtime: server.client(),
        infra: server.client(),
        kcp_admin: KcpAdmin::Config(Box::new(kube::Config::new(server.url().parse()?))),
    };
    Ok((config, clients))
}

/// One condition change: type, status, reason, message.
type Seen = (String, String, String, String);

/// Waits for a change of `type_` to `status` (and, if given, a message containing `text`); returns every change
/// seen, the awaited one last.
async fn wait_for(
    events: &mut UnboundedReceiver<ProgressEvent>,
    type_: &str,
    status: &str,
    text: Option<&str>,
) -> anyhow::Result<Vec<Seen>> {
    let wait = async {
        let mut seen = Vec::new();
        while let Some(event) = events.recv().await {
            let c = event.change;
            println!("{} {} {} {}", c.type_, c.status, c.reason, c.message);
            let done = c.type_ == type_ && c.status == status && text.is_none_or(|t| c.message.contains(t));
            seen.push((c.type_, c.status, c.reason, c.message));
            if done {
                return Ok(seen);
            }
        }
        bail!("the operator stopped")
    };
    tokio::time::timeout(Duration::from_secs(90), wait)
        .await
        .with_context(|| format!("waiting for {type_}={status}"))?
}

/// Runs the operator until `type_` turns `status`, then stops it; an operator that ends early reports its error.
async fn run_until(
    config: &OperatorConfig,
    clients: &OperatorClients,
    type_: &str,
    status: &str,
    text: Option<&str>,
) -> anyhow::Result<Vec<Seen>> {
    let (progress, mut events) = ProgressSink::channel();
    let stop = CancellationToken::new();
    let stopped = stop.clone();
    let (config, clients) = (config.clone(), clients.clone());
    let operator =
        tokio::spawn(
            async move { operator::run(&config, clients, progress, stopped.cancelled_owned()).await },
        );
    let seen = wait_for(&mut events, type_, status, text).await;
    stop.cancel();
    let ended = tokio::time::timeout(Duration::from_secs(30), operator).await??;
    // The operator's own error explains an early end better than the closed channel does.
    ended.context("operator run")?;
    seen
}

fn kcp(server: &Server, path: &str, gvk: (&str, &str, &str), plural: &str) -> Api<DynamicObject> {
    api(&server.kcp_client(path), gvk, plural, None)
}

fn phase(object: &DynamicObject) -> String {
    object.data["status"]["phase"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// Waits until the server saw no write for a while, so that a later count belongs to what runs then.
async fn quiet(server: &Server) -> anyhow::Result<()> {
    for _ in 0..50 {
        let before = server.requests().snapshot().writes;
        tokio::time::sleep(Duration::from_millis(300)).await;
        if server.requests().snapshot().writes == before {
            return Ok(());
        }
    }
    bail!("the simulators never settled")
}

#[tokio::test]
async fn sample_platform_mesh_sets_up_kcp_and_a_second_reconcile_writes_nothing() -> anyhow::Result<()> {
    let server = platform().await?;
    let (config, clients) = config(&server, &repo_root())?;
    let seen = run_until(&config, &clients, "Ready", "True", None).await?;
    // A fresh install converges by waiting and requeueing: kcp-setup never fails on the way.
    let errors: Vec<&Seen> = seen
        .iter()
        .filter(|c| c.0 == "KcpsetupSubroutine" && c.2 == "Error")
        .collect();
    ensure!(errors.is_empty(), "{errors:?}");

    // The workspaces of spec §6.2.1, Ready, looked up in their parents.
    let workspace = ("tenancy.kcp.io", "v1alpha1", "Workspace");
    for (parent, name) in [
        ("root", "platform-mesh-system"),
        ("root", "providers"),
        ("root", "orgs"),
        ("root:providers", "system"),
    ] {
        let ws = kcp(&server, parent, workspace, "workspaces")
            .get(name)
            .await
            .with_context(|| format!("{parent}:{name}"))?;
        ensure!(phase(&ws) == "Ready", "{parent}:{name} is {}", phase(&ws));
    }
    // Every APIBinding in them is Bound: the shipped ones and those the workspace types add.
    let binding = ("apis.kcp.io", "v1alpha1", "APIBinding");
    let mut bound = Vec::new();
    for path in [
        "root:platform-mesh-system",
        "root:orgs",
        "root:providers",
        "root:providers:system",
    ] {
        for b in kcp(&server, path, binding, "apibindings")
            .list(&Default::default())
            .await?
        {
            ensure!(
                phase(&b) == "Bound",
                "APIBinding {path}:{} is {}",
                b.metadata.name.clone().unwrap_or_default(),
                phase(&b)
            );
            bound.push(format!("{path}:{}", b.metadata.name.unwrap_or_default()));
        }
    }
    for expected in [
        "root:platform-mesh-system:core.platform-mesh.io",
        "root:platform-mesh-system:system.platform-mesh.io",
    ] {
        ensure!(
            bound.iter().any(|b| b == expected),
            "{expected} missing from {bound:?}"
        );
    }
    // Objects served through the bindings arrived.
    let content = kcp(
        &server,
        "root:platform-mesh-system",
        ("ui.platform-mesh.io", "v1alpha1", "ContentConfiguration"),
        "contentconfigurations",
    );
    ensure!(
        content.list(&Default::default()).await?.items.len() == 9,
        "the nine ContentConfigurations"
    );
    kcp(
        &server,
        "root:orgs",
        ("core.platform-mesh.io", "v1alpha1", "Store"),
        "stores",
    )
    .get("orgs")
    .await?;
    // The audience comes from the welcome client the simulated security-operator created.
    let wac = kcp(
        &server,
        "root",
        (
            "tenancy.kcp.io",
            "v1alpha1",
            "WorkspaceAuthenticationConfiguration",
        ),
        "workspaceauthenticationconfigurations",
    )
    .get("orgs-authentication")
    .await?;
    ensure!(
        wac.data["spec"]["jwt"][0]["issuer"]["audiences"] == json!(["welcome"]),
        "{:?}",
        wac.data["spec"]
    );
    ensure!(
        wac.data["spec"]["jwt"][0]["claimValidationRules"].is_array(),
        "the sample disables email verification"
    );

    let platform_meshes = api(
        &server.client(),
        ("core.platform-mesh.io", "v1alpha1", "PlatformMesh"),
        "platformmeshes",
        Some(NS),
    );
    let pm = platform_meshes.get(PM).await?;
    let reported = &pm.data["status"]["kcpWorkspaces"];
    ensure!(
        *reported
            == json!([{"name": "root:orgs", "phase": "Ready"}, {"name": "root:platform-mesh-system", "phase": "Ready"},
                      {"name": "root:providers", "phase": "Ready"}, {"name": "root:providers:system", "phase": "Ready"}]),
        "{reported}"
    );
    let finalizers = pm.metadata.finalizers.clone().unwrap_or_default();
    ensure!(
        finalizers == ["platform-mesh.core.platform-mesh.io/kcp-setup"],
        "{finalizers:?}"
    );

    // A second reconcile of the unchanged PlatformMesh writes nothing, to kcp or anywhere else.
    quiet(&server).await?;
    server.requests().reset();
    let plugins = operator::start_plugins(&config, &clients).await?;
    let lifecycle = operator::platform_mesh_lifecycle(&config, &plugins.handle);
    let resource = ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("core.platform-mesh.io", "v1alpha1", "PlatformMesh"),
        "platformmeshes",
    );
    let store = KubeStore::new(server.client(), resource);
    let report = lifecycle.reconcile(&store, &ObjectKey::namespaced(NS, PM)).await;
    ensure!(report.error.is_none(), "{:?}", report.error);
    let stats = server.requests().snapshot();
    println!("second reconcile: {stats:?}");
    ensure!(stats.reads > 40, "the pass compared the kcp objects: {stats:?}");
    ensure!(stats.writes == 0 && stats.changed_writes == 0, "{stats:?}");

    // A rotated webhook CA reaches kcp on the next pass; an extra workspace is created in its parent.
    let secrets = api(&server.client(), ("", "v1", "Secret"), "secrets", Some(NS));
    apply(
        &secrets,
        json!({"apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": "account-operator-webhook-server-cert", "namespace": NS},
        "stringData": {"ca.crt": "rotated CA"}}),
    )
    .await?;
    let extra = json!({"spec": {"kcp": {"extraWorkspaces": [
        {"path": "root:orgs:acme", "type": {"name": "org", "path": "root"}}]}}});
    platform_meshes
        .patch(PM, &PatchParams::default(), &Patch::Merge(&extra))
        .await?;
    let mut passes = 0;
    let acme = loop {
        passes += 1;
        let report = lifecycle.reconcile(&store, &ObjectKey::namespaced(NS, PM)).await;
        ensure!(report.error.is_none(), "{:?}", report.error);
        let pm = platform_meshes.get(PM).await?;
        let listed = pm.data["status"]["kcpWorkspaces"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        if let Some(acme) = listed
            .iter()
            .find(|w| w["name"] == "root:orgs:acme" && w["phase"] == "Ready")
        {
            break acme.clone();
        }
        ensure!(passes < 20, "root:orgs:acme never reported Ready: {listed:?}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    println!("extra workspace {acme} after {passes} passes");
    let webhook = kcp(
        &server,
        "root:platform-mesh-system",
        (
            "admissionregistration.k8s.io",
            "v1",
            "MutatingWebhookConfiguration",
        ),
        "mutatingwebhookconfigurations",
    )
    .get("account-operator.webhooks.core.platform-mesh.io")
    .await?;
    let rotated = webhook.data["webhooks"][0]["clientConfig"]["caBundle"].clone();
    ensure!(
        rotated == json!("cm90YXRlZCBDQQ=="),
        "caBundle is base64 of the rotated CA: {rotated}"
    );

    // Deletion: kcp-setup's finalize runs (cleaning nothing up, like upstream) and releases its finalizer.
    platform_meshes.delete(PM, &Default::default()).await?;
    let report = lifecycle.reconcile(&store, &ObjectKey::namespaced(NS, PM)).await;
    ensure!(report.error.is_none() && report.gone, "{report:?}");
    ensure!(
        platform_meshes.get_opt(PM).await?.is_none(),
        "the PlatformMesh is gone"
    );
    server.shutdown().await;
    Ok(())
}

/// Copies the source tree's `manifests/kcp` into a fresh workspace directory.
fn copy_manifests(test: &str) -> anyhow::Result<PathBuf> {
    fn copy(from: &Path, to: &Path) -> std::io::Result<()> {
        std::fs::create_dir_all(to)?;
        for entry in std::fs::read_dir(from)? {
            let entry = entry?;
            if entry.file_type()?.is_dir() {
                copy(&entry.path(), &to.join(entry.file_name()))?;
            } else {
                std::fs::copy(entry.path(), to.join(entry.file_name()))?;
            }
        }
        Ok(())
    }
    let dir = std::env::temp_dir().join(format!("e2e-kcp-setup-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    copy(&repo_root().join("manifests/kcp"), &dir.join("manifests/kcp"))?;
    Ok(dir)
}

#[tokio::test]
async fn malformed_manifest_names_file_and_line_and_nothing_reaches_kcp() -> anyhow::Result<()> {
    let workspace_dir = copy_manifests("malformed")?;
    let broken = "manifests/kcp/01-platform-mesh-system/apiexport-system.platform-mesh.io.yaml";
    std::fs::write(
        workspace_dir.join(broken),
        "apiVersion: apis.kcp.io/v1alpha1\nkind: APIExport\nmetadata:\n  name: {{ nosuchfunc }}\nspec: {}\n",
    )?;
    let server = platform().await?;
    let (config, clients) = config(&server, &workspace_dir)?;
    let seen = run_until(
        &config,
        &clients,
        "KcpsetupSubroutine",
        "False",
        Some("Failed to render"),
    )
    .await?;
    let message = seen.last().map(|c| c.3.clone()).unwrap_or_default();
    ensure!(message.contains(&format!("{broken} at line 4")), "{message}");
    // Not even the files before the broken one were applied.
    let types = kcp(
        &server,
        "root",
        ("tenancy.kcp.io", "v1alpha1", "WorkspaceType"),
        "workspacetypes",
    );
    ensure!(
        types.list(&Default::default()).await?.items.is_empty(),
        "nothing applied"
    );
    let workspaces = kcp(
        &server,
        "root",
        ("tenancy.kcp.io", "v1alpha1", "Workspace"),
        "workspaces",
    );
    ensure!(
        workspaces.list(&Default::default()).await?.items.is_empty(),
        "nothing applied"
    );
    server.shutdown().await;
    std::fs::remove_dir_all(workspace_dir)?;
    Ok(())
}
