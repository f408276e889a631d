//! `run --embedded`: the whole platform on one machine. Starts the embedded API server with every simulated
//! controller, installs the CRDs and the samples (`deploy/samples/`: a PlatformMesh and a ManagedProvider, whose
//! Provider in kcp the Provider controller takes on), runs the operator against it, prints a line per condition
//! change and a summary of what each controller made, and returns once all three are Ready (or keeps serving with
//! `--serve`). Tracing shows warnings and errors only, unless `-v` or `RUST_LOG` asks for more.

mod console;
mod install;
mod made;
mod report;

use std::{
    io::Write,
    path::{Path, PathBuf},
    time::{Duration, Instant},
};

use apiserver::{ServerConfig, sim::SimConfig};
use tokio_util::sync::CancellationToken;

pub use console::{init as init_console_logging, wrap};
pub use install::{apply, install_crds, read_documents};
pub use report::{Made, WIDTH, fit, progress_line, summary, written_since};

use crate::{
    cli::EmbeddedArgs,
    clusters::KcpAdmin,
    config::OperatorConfig,
    controller::{
        ProgressEvent, ProgressSink,
        operator::{self, OperatorClients, RunError},
    },
    errors::error_chain,
    lifecycle::ObjectKey,
};

/// The samples applied, in order, relative to the workspace directory.
pub const SAMPLES: [&str; 5] = [
    "deploy/samples/namespace.yaml",
    "deploy/samples/ocm.yaml",
    "deploy/samples/kcp.yaml",
    "deploy/samples/profile.yaml",
    "deploy/samples/platformmesh.yaml",
];

/// The provider samples applied after [`SAMPLES`], relative to the workspace directory.
pub const PROVIDER_SAMPLES: [&str; 1] = ["deploy/samples/managedprovider.yaml"];

/// Why the embedded run failed.
#[derive(Debug, thiserror::Error)]
pub enum EmbeddedError {
    /// The console log could not be set up.
    #[error("setting up the console log: {0}")]
    Logging(String),
    /// The API server did not start.
    #[error("starting the embedded API server")]
    Start(#[source] apiserver::Error),
    /// Installing an object failed.
    #[error("installing {what}")]
    Install {
        /// What was installed.
        what: String,
        /// The cause.
        #[source]
        source: kube::Error,
    },
    /// A sample file could not be read.
    #[error("reading {path}")]
    ReadSample {
        /// The file.
        path: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A sample file is not valid YAML.
    #[error("parsing {path}")]
    ParseSample {
        /// The file.
        path: String,
        /// The cause.
        #[source]
        source: serde_norway::Error,
    },
    /// The samples hold no PlatformMesh.
    #[error("the samples contain no PlatformMesh")]
    NoPlatformMesh,
    /// The kubeconfig could not be written.
    #[error("writing kubeconfig {path}")]
    Kubeconfig {
        /// The file.
        path: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The operator failed.
    #[error("running the operator")]
    Operator(#[source] RunError),
    /// The operator stopped (or panicked) before everything was Ready.
    #[error("the operator stopped before {key} was Ready")]
    OperatorStopped {
        /// What was not Ready yet.
        key: String,
    },
    /// The server's URL is not a valid URI.
    #[error("the embedded API server URL {url:?} is not a valid URI")]
    Url {
        /// The URL.
        url: String,
    },
    /// Not everything became Ready in time.
    #[error("{key} was not Ready after {timeout:?}; last conditions are printed above")]
    Timeout {
        /// What was not Ready.
        key: String,
        /// `--timeout`.
        timeout: Duration,
    },
}

/// The directory with `gotemplates/`, `manifests/` and `deploy/samples/`: `--workspace-dir` if it has them,
/// else the source tree this binary was built from, else the current directory.
pub fn workspace_dir(configured: &Path) -> PathBuf {
    let has_samples = |dir: &Path| dir.join("deploy/samples/platformmesh.yaml").is_file();
    if has_samples(configured) {
        return configured.to_path_buf();
    }
    let source_tree = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    if has_samples(&source_tree) {
        return source_tree.canonicalize().unwrap_or(source_tree);
    }
    std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."))
}

/// Runs the embedded platform, printing to stdout. `shutdown` ends `--serve` (SIGTERM/SIGINT in the binary).
pub async fn run(
    config: OperatorConfig,
    args: &EmbeddedArgs,
    shutdown: CancellationToken,
) -> Result<(), EmbeddedError> {
    run_to(config, args, shutdown, &mut std::io::stdout()).await
}

/// [`run`], printing the progress lines and the summary to `out`.
pub async fn run_to(
    mut config: OperatorConfig,
    args: &EmbeddedArgs,
    shutdown: CancellationToken,
    out: &mut (dyn Write + Send),
) -> Result<(), EmbeddedError> {
    let started = Instant::now();
    config.workspace_dir = workspace_dir(&config.workspace_dir);
    let server = apiserver::start(ServerConfig {
        simulators: SimConfig::all(),
        ..ServerConfig::default()
    })
    .await
    .map_err(EmbeddedError::Start)?;
    let result = run_against(&server, config, args, shutdown, started, out).await;
    server.shutdown().await;
    result
}

/// One object the run waits for.
struct Awaited {
    /// The controller reconciling it.
    controller: &'static str,
    /// Its key; `None` for the Provider, whose key is known once the ManagedProvider made it.
    key: Option<ObjectKey>,
    /// When its Ready condition last turned True (reset when it turns anything else).
    ready_at: Option<Duration>,
}

impl Awaited {
    fn new(controller: &'static str, key: Option<ObjectKey>) -> Self {
        Awaited {
            controller,
            key,
            ready_at: None,
        }
    }

    fn describe(&self) -> String {
        let kind = report::kind_of(self.controller);
        match &self.key {
            Some(key) => format!("{kind} {key}"),
            None => kind.to_owned(),
        }
    }

    /// Takes note of a Ready change of this object.
    fn observe(&mut self, event: &ProgressEvent, elapsed: Duration) {
        let ours =
            event.controller == self.controller && self.key.as_ref().is_none_or(|key| *key == event.key);
        if !ours || event.change.type_ != "Ready" {
            return;
        }
        if event.change.status != "True" {
            self.ready_at = None;
        } else if self.ready_at.is_none() {
            self.ready_at = Some(elapsed);
        }
    }
}

fn not_ready(awaited: &[Awaited]) -> String {
    let waiting: Vec<String> = awaited
        .iter()
        .filter(|a| a.ready_at.is_none())
        .map(Awaited::describe)
        .collect();
    waiting.join(", ")
}

/// Installs the samples; returns what to wait for: the PlatformMesh, and the ManagedProvider with its Provider.
async fn install_samples(client: &kube::Client, workspace: &Path) -> Result<Vec<Awaited>, EmbeddedError> {
    install_crds(client).await?;
    let mut platform_mesh = None;
    let mut awaited = Vec::new();
    for sample in SAMPLES.iter().chain(&PROVIDER_SAMPLES) {
        let path = workspace.join(sample);
        // The provider samples are optional in a `--workspace-dir` of one's own.
        if PROVIDER_SAMPLES.contains(sample) && !path.is_file() {
            continue;
        }
        for object in read_documents(&path)? {
            let namespace = object["metadata"]["namespace"].as_str().unwrap_or("default");
            let name = object["metadata"]["name"].as_str().unwrap_or_default();
            if object["kind"] == "PlatformMesh" {
                platform_mesh = Some(ObjectKey::namespaced(namespace, name));
            } else if object["kind"] == "ManagedProvider" {
                awaited.push(Awaited::new(
                    "managedprovider",
                    Some(ObjectKey::namespaced(namespace, name)),
                ));
            }
            apply(client, &object).await?;
        }
    }
    let platform_mesh = platform_mesh.ok_or(EmbeddedError::NoPlatformMesh)?;
    if !awaited.is_empty() {
        awaited.push(Awaited::new("provider", None));
    }
    awaited.insert(0, Awaited::new("platformmesh", Some(platform_mesh)));
    Ok(awaited)
}

/// What each awaited controller made.
async fn made_by(
    server: &apiserver::Server,
    awaited: &[Awaited],
    written: &std::collections::BTreeMap<String, u64>,
) -> Vec<Made> {
    let client = server.client();
    let mut made = Vec::new();
    let mut provider = None;
    for entry in awaited {
        let objects = match (entry.controller, &entry.key) {
            ("platformmesh", _) => {
                let counts: Vec<String> = written
                    .iter()
                    .map(|(resource, count)| format!("{resource} {count}"))
                    .collect();
                let mut objects =
                    vec!["writes until it was Ready (the simulated controllers' too), by resource:".into()];
                objects.extend(report::pack(&counts, WIDTH - 2));
                objects
            }
            ("managedprovider", Some(key)) => {
                provider.get_or_insert(made::provider_of(&client, key).await);
                made::by_managed_provider(&client, key).await
            }
            ("provider", _) => match &provider {
                Some((path, name)) => made::by_provider(server, path, name).await,
                None => Vec::new(),
            },
            _ => Vec::new(),
        };
        let owner = match (entry.controller, &provider) {
            ("provider", Some((path, name))) => format!("Provider {path}:{name}"),
            _ => entry.describe(),
        };
        made.push(Made {
            owner,
            ready_after: entry.ready_at.unwrap_or_default(),
            objects,
        });
    }
    made
}

async fn run_against(
    server: &apiserver::Server,
    mut config: OperatorConfig,
    args: &EmbeddedArgs,
    shutdown: CancellationToken,
    started: Instant,
    out: &mut (dyn Write + Send),
) -> Result<(), EmbeddedError> {
    let client = server.client();
    // Printing is best effort: a closed stdout does not stop the platform.
    let _ = writeln!(out, "embedded API server listening on {}", server.url());
    let kubeconfig = if config.common.kubeconfig.is_empty() {
        std::env::temp_dir().join(format!(
            "platform-mesh-embedded-{}.kubeconfig",
            std::process::id()
        ))
    } else {
        PathBuf::from(&config.common.kubeconfig)
    };
    server
        .write_kubeconfig(&kubeconfig)
        .map_err(|source| EmbeddedError::Kubeconfig {
            path: kubeconfig.display().to_string(),
            source,
        })?;
    let _ = writeln!(out, "kubeconfig (contexts: embedded, kcp-root) written to");
    let _ = writeln!(out, "  {}", kubeconfig.display());

    let mut awaited = install_samples(&client, &config.workspace_dir).await?;
    let installed = server.requests().snapshot();
    let mut platform_mesh_wrote = Default::default();

    config.kcp.kcp_url = server.url().to_owned();
    // The sample profile deploys no istio, and the embedded operator runs in no pod.
    config.subroutines.subroutines_deployment_enable_istio = false;
    let url = server.url().parse().map_err(|_| EmbeddedError::Url {
        url: server.url().to_owned(),
    })?;
    let kcp_config = kube::Config::new(url);
    let clients = OperatorClients {
        runtime: client.clone(),
        infra: client,
        kcp_admin: KcpAdmin::Config(Box::new(kcp_config)),
    };
    let (progress, mut events) = ProgressSink::channel();
    let stop = CancellationToken::new();
    let operator_stop = stop.clone();
    let operator_config = config.clone();
    let mut operator = tokio::spawn(async move {
        operator::run(
            &operator_config,
            clients,
            progress,
            operator_stop.cancelled_owned(),
        )
        .await
    });

    let deadline = tokio::time::sleep(args.timeout);
    tokio::pin!(deadline);
    let mut all_ready = false;
    let outcome = loop {
        tokio::select! {
            Some(event) = events.recv() => {
                let elapsed = started.elapsed();
                let _ = writeln!(out, "{}", progress_line(elapsed, &event));
                let platform_mesh_was_ready = awaited[0].ready_at.is_some();
                for entry in &mut awaited {
                    entry.observe(&event, elapsed);
                }
                if !platform_mesh_was_ready && awaited[0].ready_at.is_some() {
                    platform_mesh_wrote = written_since(&installed, &server.requests().snapshot());
                }
                if !all_ready && awaited.iter().all(|a| a.ready_at.is_some()) {
                    all_ready = true;
                    let made = made_by(server, &awaited, &platform_mesh_wrote).await;
                    let _ = write!(out, "{}", summary(elapsed, &made, &server.requests().snapshot()));
                    if !args.serve {
                        break Ok(());
                    }
                    let _ = writeln!(out, "serving until SIGTERM/SIGINT");
                }
            }
            joined = &mut operator => {
                // The controller only returns on shutdown, which this loop has not asked for yet.
                break match joined {
                    Ok(Err(error)) => Err(EmbeddedError::Operator(error)),
                    _ if all_ready => Ok(()),
                    _ => Err(EmbeddedError::OperatorStopped { key: not_ready(&awaited) }),
                };
            }
            () = &mut deadline, if !all_ready => {
                break Err(EmbeddedError::Timeout { key: not_ready(&awaited), timeout: args.timeout });
            }
            () = shutdown.cancelled() => break Ok(()),
        }
    };
    let _ = out.flush();
    stop.cancel();
    if !operator.is_finished() {
        let _ = tokio::time::timeout(config.common.shutdown_timeout, &mut operator).await;
    }
    if let Err(error) = &outcome {
        tracing::error!(error = %error_chain(error), "embedded run failed");
    }
    outcome
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lifecycle::ConditionChange;

    fn event(controller: &str, key: ObjectKey, type_: &str, status: &str) -> ProgressEvent {
        ProgressEvent {
            controller: controller.into(),
            key,
            change: ConditionChange {
                type_: type_.into(),
                status: status.into(),
                reason: String::new(),
                message: String::new(),
                previous_reason: String::new(),
            },
        }
    }

    #[test]
    fn only_the_awaited_objects_ready_condition_counts_and_a_relapse_resets_it() {
        let mesh = ObjectKey::namespaced("ns", "mesh");
        let mut awaited = [
            Awaited::new("platformmesh", Some(mesh.clone())),
            Awaited::new("provider", None),
        ];
        let second = Duration::from_secs(1);
        let events = [
            event(
                "platformmesh",
                ObjectKey::namespaced("ns", "other"),
                "Ready",
                "True",
            ),
            event("platformmesh", mesh.clone(), "WaitSubroutine", "True"),
            event("managedprovider", mesh.clone(), "Ready", "True"),
        ];
        for event in &events {
            awaited.iter_mut().for_each(|a| a.observe(event, second));
        }
        assert_eq!(not_ready(&awaited), "PlatformMesh ns/mesh, Provider");

        let ready = event("platformmesh", mesh.clone(), "Ready", "True");
        awaited.iter_mut().for_each(|a| a.observe(&ready, second));
        awaited.iter_mut().for_each(|a| a.observe(&ready, 2 * second));
        assert_eq!(
            awaited[0].ready_at,
            Some(second),
            "the first time it turned Ready"
        );
        let provider = event("provider", ObjectKey::namespaced("cluster", "p"), "Ready", "True");
        awaited.iter_mut().for_each(|a| a.observe(&provider, 3 * second));
        assert_eq!(not_ready(&awaited), "");

        let relapse = event("platformmesh", mesh, "Ready", "False");
        awaited.iter_mut().for_each(|a| a.observe(&relapse, 4 * second));
        assert_eq!(not_ready(&awaited), "PlatformMesh ns/mesh");
    }
}
