//! Starting and stopping the server, and the handles tests use: clients, kubeconfig, request log, faults.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::debug::{FaultInjector, RequestLog};
use crate::sim::{self, SimConfig, Simulators};
use crate::snapshot;
use crate::store::Store;

/// Default number of events kept for watch resumption.
pub const DEFAULT_WATCH_HISTORY: usize = 10_000;

/// How to start the server.
#[derive(Clone, Debug)]
pub struct ServerConfig {
    /// Address to listen on; port 0 picks a free port. Default `127.0.0.1:0`.
    pub listen: SocketAddr,
    /// Load state from this file at start (if it exists) and save it on shutdown.
    pub snapshot: Option<PathBuf>,
    /// Which simulated controllers run.
    pub simulators: SimConfig,
    /// How many events a watch can resume across before it gets 410 Gone.
    pub watch_history: usize,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            snapshot: None,
            simulators: SimConfig::default(),
            watch_history: DEFAULT_WATCH_HISTORY,
        }
    }
}

/// Errors starting the server.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The listen address could not be bound.
    #[error("binding {addr}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The snapshot could not be loaded.
    #[error("loading snapshot {path}")]
    Snapshot {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: snapshot::Error,
    },
    /// A client for the server could not be built.
    #[error("building a client for the embedded server")]
    Client(#[source] kube::Error),
    /// The simulators did not start.
    #[error("starting the simulated controllers")]
    Simulators(#[source] sim::Error),
}

/// State shared by all request handlers.
pub(crate) struct Shared {
    store: Mutex<Store>,
    pub log: RequestLog,
    pub faults: FaultInjector,
    pub url: String,
    pub cancel: CancellationToken,
}

impl Shared {
    /// Locks the store (a poisoned lock is recovered: handlers never leave it half-written across a panic
    /// point that matters for tests).
    pub fn lock(&self) -> MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A running server. Stop it with [`Server::shutdown`].
pub struct Server {
    shared: Arc<Shared>,
    client: kube::Client,
    task: JoinHandle<()>,
    sims: Option<Simulators>,
    snapshot: Option<PathBuf>,
}

/// Starts the server (and the configured simulators) and returns once it accepts connections.
///
/// # Errors
///
/// See [`Error`].
pub async fn start(config: ServerConfig) -> Result<Server, Error> {
    let mut store = Store::new(config.watch_history);
    if let Some(path) = config.snapshot.as_deref().filter(|p| p.exists()) {
        snapshot::load(path, &mut store).map_err(|source| Error::Snapshot {
            path: path.to_path_buf(),
            source,
        })?;
    }
    let listener = TcpListener::bind(config.listen)
        .await
        .map_err(|source| Error::Bind {
            addr: config.listen,
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| Error::Bind {
        addr: config.listen,
        source,
    })?;
    let url = format!("http://{addr}");
    let shared = Arc::new(Shared {
        store: Mutex::new(store),
        log: RequestLog::default(),
        faults: FaultInjector::default(),
        url: url.clone(),
        cancel: CancellationToken::new(),
    });
    let app = crate::http::router(shared.clone());
    let cancel = shared.cancel.clone();
    let task = tokio::spawn(async move {
        let serve =
            axum::serve(listener, app).with_graceful_shutdown(async move { cancel.cancelled().await });
        if let Err(e) = serve.await {
            tracing::error!(error = %e, "embedded API server stopped with an error");
        }
    });
    let client = make_client(&url).map_err(Error::Client)?;
    let mut server = Server {
        shared,
        client,
        task,
        sims: None,
        snapshot: config.snapshot.clone(),
    };
    match sim::spawn(&url, &config.simulators).await {
        Ok(s) => server.sims = Some(s),
        Err(e) => {
            server.shutdown().await;
            return Err(Error::Simulators(e));
        }
    }
    Ok(server)
}

fn make_client(url: &str) -> Result<kube::Client, kube::Error> {
    let uri: http::Uri = url
        .parse()
        .map_err(|e: http::uri::InvalidUri| kube::Error::Service(Box::new(e)))?;
    kube::Client::try_from(kube::Config::new(uri))
}

impl Server {
    /// The base URL, `http://127.0.0.1:PORT`.
    pub fn url(&self) -> &str {
        &self.shared.url
    }

    /// A client for the plain Kubernetes cluster.
    pub fn client(&self) -> kube::Client {
        self.client.clone()
    }

    /// A client for the kcp workspace (or logical cluster) `path`: the URL plus `/clusters/<path>`.
    ///
    /// # Panics
    ///
    /// Only if kube cannot build an HTTP client at all, which [`start`] already proved it can.
    pub fn kcp_client(&self, path: &str) -> kube::Client {
        make_client(&format!("{}/clusters/{path}", self.shared.url))
            .unwrap_or_else(|e| panic!("building a kcp client for {path}: {e}"))
    }

    /// A kubeconfig with contexts `embedded` (current, the plain cluster) and `kcp-root` (`/clusters/root`).
    pub fn kubeconfig(&self) -> kube::config::Kubeconfig {
        crate::kubeconfig::kubeconfig(&self.shared.url)
    }

    /// Writes [`Server::kubeconfig`] as YAML.
    ///
    /// # Errors
    ///
    /// I/O errors writing the file.
    pub fn write_kubeconfig(&self, path: &Path) -> std::io::Result<()> {
        crate::kubeconfig::write(&self.kubeconfig(), path)
    }

    /// The request counters.
    pub fn requests(&self) -> RequestLog {
        self.shared.log.clone()
    }

    /// The fault rules.
    pub fn faults(&self) -> FaultInjector {
        self.shared.faults.clone()
    }

    /// Resolves a workspace path or logical cluster name to the logical cluster name requests are stored under.
    pub fn logical_cluster(&self, target: &str) -> String {
        self.shared.lock().resolve(target)
    }

    /// The user a bearer token authenticates as: `system:serviceaccount:<namespace>:<name>` for an unexpired token
    /// issued through `serviceaccounts/<name>/token`, with the logical cluster it was issued in (`""` for the
    /// plain cluster). `None` for unknown or expired tokens.
    pub fn token_subject(&self, token: &str) -> Option<(String, String)> {
        let store = self.shared.lock();
        let t = store
            .tokens
            .get(token)
            .filter(|t| t.expires > crate::time::now_secs())?;
        Some((
            t.cluster.clone(),
            format!("system:serviceaccount:{}:{}", t.namespace, t.name),
        ))
    }

    /// Stops the simulators and the server, ends open watches, and saves the snapshot if one is configured.
    pub async fn shutdown(mut self) {
        if let Some(s) = self.sims.take() {
            s.shutdown().await;
        }
        self.shared.cancel.cancel();
        let _ = (&mut self.task).await;
        if let Some(path) = &self.snapshot
            && let Err(e) = snapshot::save(path, &self.shared.lock())
        {
            tracing::error!(path = %path.display(), error = %e, "saving the snapshot failed");
        }
    }
}
