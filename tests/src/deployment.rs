//! Shared set-up of the deployment end-to-end tests: the embedded API server with every simulator, the operator's
//! CRDs, chosen samples, and the operator with its real wasm plugins running against it.

#![allow(dead_code)]

use std::{
    path::{Path, PathBuf},
    time::Duration,
};

use anyhow::{Context as _, bail};
use apiserver::{ServerConfig, sim::SimConfig};
use clap::Parser;
use kube::{
    Api, Client,
    api::{ApiResource, DynamicObject, GroupVersionKind},
};
use platform_mesh_operator::{
    clusters::KcpAdmin,
    config::OperatorConfig,
    controller::{
        ProgressEvent, ProgressSink,
        operator::{self, OperatorClients},
    },
    embedded,
};
use serde_json::Value;
use tokio::{sync::mpsc::UnboundedReceiver, task::JoinHandle};
use tokio_util::sync::CancellationToken;

pub const NS: &str = "platform-mesh-system";

#[derive(Parser)]
struct Flags {
    #[command(flatten)]
    config: OperatorConfig,
}

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .canonicalize()
        .unwrap()
}

/// The server, a client of it, and the running operator.
pub struct Platform {
    pub server: apiserver::Server,
    pub client: Client,
    pub events: UnboundedReceiver<ProgressEvent>,
    stop: CancellationToken,
    operator: JoinHandle<Result<(), operator::RunError>>,
}

/// Starts the server, applies `objects`, and runs the operator with `workspace` as its workspace directory.
pub async fn start(workspace: &Path, objects: Vec<Value>) -> anyhow::Result<Platform> {
    let server = apiserver::start(ServerConfig {
        simulators: SimConfig::all().with_delay(Duration::from_millis(20)),
        ..ServerConfig::default()
    })
    .await?;
    let client = server.client();
    embedded::install_crds(&client).await?;
    for object in objects {
        embedded::apply(&client, &object).await?;
    }
    let mut config = Flags::try_parse_from(["e2e"])?.config;
    config.workspace_dir = workspace.to_path_buf();
    config.kcp.kcp_url = server.url().to_owned();
    // The deployment and wait plugins only: kcp-setup and the provider secrets are other tests' business.
    config.subroutines.subroutines_deployment_enable_istio = false;
    config.subroutines.subroutines_kcp_setup_enabled = false;
    config.subroutines.subroutines_provider_secret_enabled = false;
    config.subroutines.subroutines_feature_toggles_enabled = false;
    let kcp = kube::Config::new(server.url().parse()?);
    let clients = OperatorClients {
        runtime: client.clone(),
        infra: client.clone(),
        kcp_admin: KcpAdmin::Config(Box::new(kcp)),
    };
    let (progress, events) = ProgressSink::channel();
    let stop = CancellationToken::new();
    let stopped = stop.clone();
    let operator =
        tokio::spawn(
            async move { operator::run(&config, clients, progress, stopped.cancelled_owned()).await },
        );
    Ok(Platform {
        server,
        client,
        events,
        stop,
        operator,
    })
}

/// The documents of sample files under `deploy/samples`.
pub fn samples(files: &[&str]) -> anyhow::Result<Vec<Value>> {
    let mut out = Vec::new();
    for file in files {
        out.extend(embedded::read_documents(
            &repo_root().join("deploy/samples").join(file),
        )?);
    }
    Ok(out)
}

impl Platform {
    /// Waits (up to `timeout`) for a change of condition `type_` to `status`; returns its message.
    pub async fn wait_for(&mut self, type_: &str, status: &str, timeout: Duration) -> anyhow::Result<String> {
        let events = &mut self.events;
        let wait = async {
            while let Some(event) = events.recv().await {
                println!(
                    "{} {} {} {}",
                    event.change.type_, event.change.status, event.change.reason, event.change.message
                );
                if event.change.type_ == type_ && event.change.status == status {
                    return Some(event.change.message);
                }
            }
            None
        };
        match tokio::time::timeout(timeout, wait).await {
            Ok(Some(message)) => Ok(message),
            Ok(None) => {
                let result = (&mut self.operator).await;
                bail!("the operator stopped: {result:?}")
            }
            Err(_) => bail!("waiting for {type_}={status}: timed out after {timeout:?}"),
        }
    }

    /// A dynamic API for a namespaced kind in [`NS`].
    pub fn api(&self, group: &str, version: &str, kind: &str, plural: &str) -> Api<DynamicObject> {
        let resource =
            ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk(group, version, kind), plural);
        Api::namespaced_with(self.client.clone(), NS, &resource)
    }

    pub fn helm_releases(&self) -> Api<DynamicObject> {
        self.api("helm.toolkit.fluxcd.io", "v2", "HelmRelease", "helmreleases")
    }

    pub fn applications(&self) -> Api<DynamicObject> {
        self.api("argoproj.io", "v1alpha1", "Application", "applications")
    }

    pub fn ocm_resources(&self) -> Api<DynamicObject> {
        self.api("delivery.ocm.software", "v1alpha1", "Resource", "resources")
    }

    /// Waits until no write arrives for `quiet` (reads never stop: watches are re-established all the time).
    pub async fn settle(&self, quiet: Duration) {
        let mut last = self.server.requests().snapshot().writes;
        loop {
            tokio::time::sleep(quiet).await;
            let now = self.server.requests().snapshot().writes;
            if now == last {
                return;
            }
            last = now;
        }
    }

    /// Stops the operator and the server.
    pub async fn shutdown(self) -> anyhow::Result<()> {
        self.stop.cancel();
        tokio::time::timeout(Duration::from_secs(30), self.operator)
            .await??
            .context("operator run")?;
        self.server.shutdown().await;
        Ok(())
    }
}

/// Copies a directory tree.
pub fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), target)?;
        }
    }
    Ok(())
}
