//! The operator under test: its configuration from flags, its clients of the embedded server, a running operator
//! and the condition changes it reports, and single reconcile passes outside any controller.

use std::{
    path::Path,
    sync::{Arc, Mutex},
    time::Duration,
};

use anyhow::{Context as _, bail};
use apiserver::Server;
use clap::Parser;
use kube::{
    Client,
    api::{ApiResource, GroupVersionKind},
};
use platform_mesh_operator::{
    clusters::KcpAdmin,
    config::OperatorConfig,
    controller::{
        ProgressEvent, ProgressSink,
        operator::{self, OperatorClients, RunError},
    },
    lifecycle::{KubeStore, Lifecycle, ObjectKey, PassReport},
    plugin::LivePlugins,
};
use tokio::{
    sync::mpsc::{self, UnboundedReceiver},
    task::JoinHandle,
};
use tokio_util::sync::CancellationToken;

/// How long a stopping operator may take.
const STOP: Duration = Duration::from_secs(30);

#[derive(Parser)]
struct Flags {
    #[command(flatten)]
    config: OperatorConfig,
}

/// The operator configuration of the command line `args` (flags of `run`, defaults for the rest).
pub fn flags(args: &[&str]) -> anyhow::Result<OperatorConfig> {
    let argv = std::iter::once("e2e").chain(args.iter().copied());
    Ok(Flags::try_parse_from(argv)?.config)
}

/// The configuration of `args` for an operator of `server`, reading templates and manifests from `workspace`.
pub fn config(server: &Server, workspace: &Path, args: &[&str]) -> anyhow::Result<OperatorConfig> {
    let mut config = flags(args)?;
    config.workspace_dir = workspace
        .canonicalize()
        .with_context(|| format!("workspace {}", workspace.display()))?;
    config.kcp.kcp_url = server.url().to_owned();
    Ok(config)
}

/// The operator's clients: runtime and infra cluster are `server`, kcp is `server` as admin.
pub fn clients(server: &Server) -> anyhow::Result<OperatorClients> {
    Ok(OperatorClients {
        runtime: server.client(),
        infra: server.client(),
        kcp_admin: KcpAdmin::Config(Box::new(kube::Config::new(server.url().parse()?))),
    })
}

/// An awaited condition change.
#[derive(Clone, Copy, Debug)]
pub struct Want<'a> {
    /// The controller reporting it (`None`: any).
    pub controller: Option<&'a str>,
    /// The condition type.
    pub type_: &'a str,
    /// The condition status.
    pub status: &'a str,
    /// A part of the message (`None`: any message).
    pub text: Option<&'a str>,
    /// How long to wait.
    pub timeout: Duration,
}

impl<'a> Want<'a> {
    /// A change of `type_` to `status`, within 120 s.
    pub fn condition(type_: &'a str, status: &'a str) -> Self {
        Want {
            controller: None,
            type_,
            status,
            text: None,
            timeout: Duration::from_secs(120),
        }
    }

    /// Only as reported by `controller`.
    pub fn of(self, controller: &'a str) -> Self {
        Want {
            controller: Some(controller),
            ..self
        }
    }

    /// Only with a message containing `text`.
    pub fn containing(self, text: &'a str) -> Self {
        Want {
            text: Some(text),
            ..self
        }
    }

    /// Waiting at most `timeout`.
    pub fn within(self, timeout: Duration) -> Self {
        Want { timeout, ..self }
    }

    fn matches(&self, event: &ProgressEvent) -> bool {
        let c = &event.change;
        self.controller.is_none_or(|x| event.controller == x)
            && c.type_ == self.type_
            && c.status == self.status
            && self.text.is_none_or(|t| c.message.contains(t))
    }
}

/// Why waiting for a change ended without it.
#[derive(Debug)]
pub enum Missed {
    /// The sender is gone (the operator or its controllers stopped).
    Closed,
    /// Time ran out.
    TimedOut,
}

/// Reads condition changes from `events`, printing each, until one matches `want`; returns every change seen, the
/// awaited one last.
pub async fn until(
    events: &mut UnboundedReceiver<ProgressEvent>,
    want: Want<'_>,
) -> Result<Vec<ProgressEvent>, Missed> {
    let mut seen = Vec::new();
    let wait = async {
        while let Some(event) = events.recv().await {
            let c = &event.change;
            println!(
                "{} {} {} {} {} {}",
                event.controller, event.key, c.type_, c.status, c.reason, c.message
            );
            let hit = want.matches(&event);
            seen.push(event);
            if hit {
                return Ok(());
            }
        }
        Err(Missed::Closed)
    };
    match tokio::time::timeout(want.timeout, wait).await {
        Ok(Ok(())) => Ok(seen),
        Ok(Err(missed)) => Err(missed),
        Err(_) => Err(Missed::TimedOut),
    }
}

/// Like [`until`], as an error naming what was awaited.
pub async fn wait_for(
    events: &mut UnboundedReceiver<ProgressEvent>,
    want: Want<'_>,
) -> anyhow::Result<Vec<ProgressEvent>> {
    until(events, want)
        .await
        .map_err(|missed| anyhow::anyhow!("waiting for {want:?}: {missed:?}"))
}

/// An operator (`operator::run`) running in a task, and the condition changes it reports.
pub struct Operator {
    /// The condition changes, in order.
    pub events: UnboundedReceiver<ProgressEvent>,
    stop: CancellationToken,
    /// The run; taken when it has been awaited.
    task: Option<JoinHandle<Result<(), RunError>>>,
}

impl Operator {
    /// Starts an operator with `config` and `clients`.
    pub fn spawn(config: &OperatorConfig, clients: &OperatorClients) -> Self {
        let (progress, events) = ProgressSink::channel();
        let stop = CancellationToken::new();
        let stopped = stop.clone();
        let (config, clients) = (config.clone(), clients.clone());
        let task = tokio::spawn(async move {
            operator::run(&config, clients, progress, stopped.cancelled_owned()).await
        });
        Operator {
            events,
            stop,
            task: Some(task),
        }
    }

    /// Waits for a condition change matching `want`; returns every change seen, the awaited one last. An operator
    /// that stopped on the way reports its own error.
    pub async fn until(&mut self, want: Want<'_>) -> anyhow::Result<Vec<ProgressEvent>> {
        match until(&mut self.events, want).await {
            Ok(seen) => Ok(seen),
            Err(Missed::Closed) => {
                let ended = match self.task.take() {
                    Some(task) => format!("{:?}", tokio::time::timeout(STOP, task).await),
                    None => "already reported".to_owned(),
                };
                bail!("waiting for {want:?}: the operator stopped: {ended}")
            }
            Err(Missed::TimedOut) => bail!("waiting for {want:?}: timed out after {:?}", want.timeout),
        }
    }

    /// Like [`Operator::until`]; returns the message of the awaited change.
    pub async fn message(&mut self, want: Want<'_>) -> anyhow::Result<String> {
        let seen = self.until(want).await?;
        Ok(seen.last().map(|e| e.change.message.clone()).unwrap_or_default())
    }

    /// Records every condition change from now on, printing each, instead of leaving them to
    /// [`Operator::until`].
    pub fn record(&mut self) -> Arc<Mutex<Vec<ProgressEvent>>> {
        let (_, closed) = mpsc::unbounded_channel();
        let mut events = std::mem::replace(&mut self.events, closed);
        let seen: Arc<Mutex<Vec<ProgressEvent>>> = Arc::default();
        let recorder = seen.clone();
        tokio::spawn(async move {
            while let Some(event) = events.recv().await {
                let c = &event.change;
                println!(
                    "{} {} {} {} {} {}",
                    event.controller, event.key, c.type_, c.status, c.reason, c.message
                );
                recorder.lock().unwrap_or_else(|e| e.into_inner()).push(event);
            }
        });
        seen
    }

    /// Whether the operator's task has ended.
    pub fn is_finished(&self) -> bool {
        self.task.as_ref().is_none_or(JoinHandle::is_finished)
    }

    /// Stops the operator and returns how its run ended.
    pub async fn stop(self) -> anyhow::Result<()> {
        self.stop.cancel();
        let task = self.task.context("the operator's end was already reported")?;
        tokio::time::timeout(STOP, task)
            .await
            .context("the operator stops")??
            .context("operator run")?;
        Ok(())
    }
}

/// The PlatformMesh chain outside any controller: each [`Passes::reconcile`] is one pass of the lifecycle.
pub struct Passes {
    /// The lifecycle over the plugins of `config`.
    pub lifecycle: Lifecycle,
    /// The PlatformMeshes of the runtime cluster.
    pub store: KubeStore,
    /// The plugin set the lifecycle runs (kept alive with it).
    _plugins: LivePlugins,
}

impl Passes {
    /// Loads the plugins of `config` and builds the PlatformMesh lifecycle over `client`.
    pub async fn new(
        config: &OperatorConfig,
        clients: &OperatorClients,
        client: &Client,
    ) -> anyhow::Result<Self> {
        let plugins = operator::start_plugins(config, clients).await?;
        let lifecycle = operator::platform_mesh_lifecycle(config, &plugins.handle);
        let resource = ApiResource::from_gvk_with_plural(
            &GroupVersionKind::gvk("core.platform-mesh.io", "v1alpha1", "PlatformMesh"),
            "platformmeshes",
        );
        Ok(Passes {
            lifecycle,
            store: KubeStore::new(client.clone(), resource),
            _plugins: plugins,
        })
    }

    /// One pass over PlatformMesh `namespace/name`.
    pub async fn reconcile(&self, namespace: &str, name: &str) -> PassReport {
        self.lifecycle
            .reconcile(&self.store, &ObjectKey::namespaced(namespace, name))
            .await
    }
}
