//! Shared set-up of the provider-secret and feature-toggle scenarios: the embedded server with the sample
//! PlatformMesh and what the deployment subroutine would have left for the kcp subroutines (RootShard and
//! FrontProxy, which the simulated kcp-operator makes Available together with the kcp admin Secrets, and the
//! webhook CA Secrets), an operator running kcp-setup, provider-secret, feature-toggles and wait, and helpers to
//! follow its conditions.
#![allow(dead_code)]

use std::{path::PathBuf, time::Duration};

use anyhow::{Context as _, bail};
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
    lifecycle::{KubeStore, ObjectKey, PassReport},
};
use serde_json::{Value, json};
use tokio::{sync::mpsc::UnboundedReceiver, task::JoinHandle};
use tokio_util::sync::CancellationToken;

pub const NS: &str = "platform-mesh-system";
pub const PM: &str = "platform-mesh";
pub const PMS: &str = "root:platform-mesh-system";

#[derive(Parser)]
struct Flags {
    #[command(flatten)]
    config: OperatorConfig,
}

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

pub fn api(
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

pub fn platform_meshes(server: &Server) -> Api<DynamicObject> {
    api(
        &server.client(),
        ("core.platform-mesh.io", "v1alpha1", "PlatformMesh"),
        "platformmeshes",
        Some(NS),
    )
}

pub async fn apply(api: &Api<DynamicObject>, object: Value) -> anyhow::Result<()> {
    let name = object["metadata"]["name"].as_str().unwrap_or_default().to_owned();
    api.patch(&name, &PatchParams::apply("e2e").force(), &Patch::Apply(&object))
        .await
        .with_context(|| format!("applying {name}"))?;
    Ok(())
}

/// The server with the CRDs, the sample namespace and PlatformMesh, and the deployment subroutine's leftovers.
pub async fn platform() -> anyhow::Result<Server> {
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
    for (kind, plural, name) in [
        ("RootShard", "rootshards", "root"),
        ("FrontProxy", "frontproxies", "frontproxy"),
    ] {
        let kcp_operator = api(&client, ("operator.kcp.io", "v1alpha1", kind), plural, Some(NS));
        let object = json!({"apiVersion": "operator.kcp.io/v1alpha1", "kind": kind,
                            "metadata": {"name": name, "namespace": NS}, "spec": {}});
        apply(&kcp_operator, object).await?;
    }
    let secrets = api(&client, ("", "v1", "Secret"), "secrets", Some(NS));
    for name in [
        "account-operator-webhook-server-cert",
        "security-operator-ca-secret",
    ] {
        let object = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name, "namespace": NS},
                            "stringData": {"ca.crt": format!("CA of {name}")}});
        apply(&secrets, object).await?;
    }
    Ok(server)
}

/// Everything but the deployment subroutine, feature toggles switched on.
pub fn config(server: &Server) -> anyhow::Result<(OperatorConfig, OperatorClients)> {
    let mut config = Flags::try_parse_from([
        "e2e",
        "--subroutines-deployment-enabled=false",
        "--subroutines-feature-toggles-enabled=true",
    ])?
    .config;
    config.workspace_dir = repo_root().canonicalize()?;
    config.kcp.kcp_url = server.url().to_owned();
    let clients = OperatorClients {
        runtime: server.client(),
        infra: server.client(),
        kcp_admin: KcpAdmin::Config(Box::new(kube::Config::new(server.url().parse()?))),
    };
    Ok((config, clients))
}

/// A running operator and the stream of its condition changes.
pub struct Running {
    pub events: UnboundedReceiver<ProgressEvent>,
    stop: CancellationToken,
    task: JoinHandle<Result<(), operator::RunError>>,
}

pub fn start(config: &OperatorConfig, clients: &OperatorClients) -> Running {
    let (progress, events) = ProgressSink::channel();
    let stop = CancellationToken::new();
    let stopped = stop.clone();
    let (config, clients) = (config.clone(), clients.clone());
    let task =
        tokio::spawn(
            async move { operator::run(&config, clients, progress, stopped.cancelled_owned()).await },
        );
    Running { events, stop, task }
}

impl Running {
    /// Waits for a change of `type_` to `status` whose message contains `text` (if given); returns the message.
    pub async fn wait_for(
        &mut self,
        type_: &str,
        status: &str,
        text: Option<&str>,
    ) -> anyhow::Result<String> {
        let events = &mut self.events;
        let wait = async {
            while let Some(event) = events.recv().await {
                let c = &event.change;
                println!("{} {} {} {}", c.type_, c.status, c.reason, c.message);
                if c.type_ == type_ && c.status == status && text.is_none_or(|t| c.message.contains(t)) {
                    return Ok(c.message.clone());
                }
            }
            bail!("the operator stopped")
        };
        tokio::time::timeout(Duration::from_secs(120), wait)
            .await
            .with_context(|| format!("waiting for {type_}={status} {text:?}"))?
    }

    pub async fn stop(self) -> anyhow::Result<()> {
        self.stop.cancel();
        tokio::time::timeout(Duration::from_secs(30), self.task)
            .await??
            .context("operator run")?;
        Ok(())
    }
}

/// Waits until the server saw no write for a while, so that a later count belongs to what runs then.
pub async fn quiet(server: &Server) -> anyhow::Result<()> {
    for _ in 0..50 {
        let before = server.requests().snapshot().writes;
        tokio::time::sleep(Duration::from_millis(300)).await;
        if server.requests().snapshot().writes == before {
            return Ok(());
        }
    }
    bail!("the simulators never settled")
}

/// Runs one reconcile pass of the PlatformMesh chain outside the controller.
pub async fn one_pass(
    server: &Server,
    config: &OperatorConfig,
    clients: &OperatorClients,
) -> anyhow::Result<PassReport> {
    let plugins = operator::start_plugins(config, clients).await?;
    let lifecycle = operator::platform_mesh_lifecycle(config, &plugins.handle);
    let resource = ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("core.platform-mesh.io", "v1alpha1", "PlatformMesh"),
        "platformmeshes",
    );
    let store = KubeStore::new(server.client(), resource);
    Ok(lifecycle.reconcile(&store, &ObjectKey::namespaced(NS, PM)).await)
}

/// A client built from the kubeconfig in Secret `namespace/name` (key `kubeconfig`), as a provider would.
pub async fn client_from_secret(
    server: &Server,
    namespace: &str,
    name: &str,
) -> anyhow::Result<(Client, String)> {
    client_from_secret_at(server, namespace, name, "").await
}

/// Like [`client_from_secret`], with `suffix` appended to the kubeconfig's server URL (e.g. `/clusters/<name>`
/// below a virtual workspace URL).
pub async fn client_from_secret_at(
    server: &Server,
    namespace: &str,
    name: &str,
    suffix: &str,
) -> anyhow::Result<(Client, String)> {
    let secrets: Api<k8s_openapi::api::core::v1::Secret> = Api::namespaced(server.client(), namespace);
    let secret = secrets
        .get(name)
        .await
        .with_context(|| format!("secret {namespace}/{name}"))?;
    let data = secret.data.unwrap_or_default();
    let text = data
        .get("kubeconfig")
        .with_context(|| format!("secret {namespace}/{name} has no kubeconfig"))?;
    let text = String::from_utf8(text.0.clone())?;
    let kubeconfig = kube::config::Kubeconfig::from_yaml(&text)?;
    let config =
        kube::Config::from_custom_kubeconfig(kubeconfig, &kube::config::KubeConfigOptions::default()).await?;
    let mut config = config;
    if !suffix.is_empty() {
        let url = format!("{}{suffix}", config.cluster_url.to_string().trim_end_matches('/'));
        config.cluster_url = url.parse()?;
    }
    let server_url = config.cluster_url.to_string();
    Ok((Client::try_from(config)?, server_url))
}
