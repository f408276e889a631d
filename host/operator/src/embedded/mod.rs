//! `run --embedded`: the whole platform on one machine. Starts the embedded API server with every simulated
//! controller, installs the CRDs and the samples (`deploy/samples/`), runs the operator against it, prints a line
//! per condition change and a summary, and returns once the sample PlatformMesh is Ready (or keeps serving with
//! `--serve`).

mod install;
mod report;

use std::{
    path::{Path, PathBuf},
    time::{Duration, Instant},
};

use apiserver::{ServerConfig, sim::SimConfig};
use tokio_util::sync::CancellationToken;

pub use install::{apply, install_crds, read_documents};
pub use report::{progress_line, summary};

use crate::{
    cli::EmbeddedArgs,
    clusters::KcpAdmin,
    config::OperatorConfig,
    controller::{
        ProgressSink, error_chain,
        operator::{self, OperatorClients, RunError},
    },
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

/// Why the embedded run failed.
#[derive(Debug, thiserror::Error)]
pub enum EmbeddedError {
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
    /// The operator stopped (or panicked) before the PlatformMesh was Ready.
    #[error("the operator stopped before PlatformMesh {key} was Ready")]
    OperatorStopped {
        /// The PlatformMesh.
        key: String,
    },
    /// The server's URL is not a valid URI.
    #[error("the embedded API server URL {url:?} is not a valid URI")]
    Url {
        /// The URL.
        url: String,
    },
    /// The PlatformMesh did not become Ready in time.
    #[error("PlatformMesh {key} was not Ready after {timeout:?}; last conditions are printed above")]
    Timeout {
        /// The PlatformMesh.
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

/// Runs the embedded platform. `shutdown` ends `--serve` (SIGTERM/SIGINT in the binary).
pub async fn run(
    mut config: OperatorConfig,
    args: &EmbeddedArgs,
    shutdown: CancellationToken,
) -> Result<(), EmbeddedError> {
    let started = Instant::now();
    config.workspace_dir = workspace_dir(&config.workspace_dir);
    let server = apiserver::start(ServerConfig {
        simulators: SimConfig::all(),
        ..ServerConfig::default()
    })
    .await
    .map_err(EmbeddedError::Start)?;
    let result = run_against(&server, config, args, shutdown, started).await;
    server.shutdown().await;
    result
}

async fn run_against(
    server: &apiserver::Server,
    mut config: OperatorConfig,
    args: &EmbeddedArgs,
    shutdown: CancellationToken,
    started: Instant,
) -> Result<(), EmbeddedError> {
    let client = server.client();
    println!("embedded API server listening on {}", server.url());
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
    println!(
        "kubeconfig written to {} (contexts: embedded, kcp-root)",
        kubeconfig.display()
    );

    install_crds(&client).await?;
    let mut platform_mesh = None;
    for sample in SAMPLES {
        for object in read_documents(&config.workspace_dir.join(sample))? {
            if object["kind"] == "PlatformMesh" {
                let namespace = object["metadata"]["namespace"].as_str().unwrap_or("default");
                let name = object["metadata"]["name"].as_str().unwrap_or_default();
                platform_mesh = Some(ObjectKey::namespaced(namespace, name));
            }
            apply(&client, &object).await?;
        }
    }
    let target = platform_mesh.ok_or(EmbeddedError::NoPlatformMesh)?;

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
    let mut ready_at = None;
    let outcome = loop {
        tokio::select! {
            Some(event) = events.recv() => {
                println!("{}", progress_line(started.elapsed(), &event));
                let ready = event.key == target && event.change.type_ == "Ready" && event.change.status == "True";
                if ready && ready_at.is_none() {
                    ready_at = Some(started.elapsed());
                    println!("{}", summary(started.elapsed(), &server.requests().snapshot()));
                    if !args.serve {
                        break Ok(());
                    }
                    println!("serving until SIGTERM/SIGINT");
                }
            }
            joined = &mut operator => {
                // The controller only returns on shutdown, which this loop has not asked for yet.
                break match joined {
                    Ok(Err(error)) => Err(EmbeddedError::Operator(error)),
                    _ if ready_at.is_some() => Ok(()),
                    _ => Err(EmbeddedError::OperatorStopped { key: target.to_string() }),
                };
            }
            () = &mut deadline, if ready_at.is_none() => {
                break Err(EmbeddedError::Timeout { key: target.to_string(), timeout: args.timeout });
            }
            () = shutdown.cancelled() => break Ok(()),
        }
    };
    stop.cancel();
    if !operator.is_finished() {
        let _ = tokio::time::timeout(config.common.shutdown_timeout, &mut operator).await;
    }
    if let Err(error) = &outcome {
        tracing::error!(error = %error_chain(error), "embedded run failed");
    }
    outcome
}
