//! Simulated external controllers: the parts of a real platform that are not the API server itself.
//!
//! A real cluster runs Flux, Argo CD, cert-manager, the kcp-operator, kcp's own controllers, the OCM controllers
//! and kube-controller-manager next to the API server; the platform-mesh operator waits on the status those
//! controllers write. The simulators stand in for them. Each one is an ordinary Kubernetes client: it installs the
//! CRDs it owns, watches its objects over HTTP with kube-rs and writes status after a configurable delay, so it
//! depends only on the protocol, never on the server's internals.
//!
//! # What each simulator does
//!
//! | Simulator | Watches | Writes |
//! |---|---|---|
//! | [`flux`] | sources, HelmRelease, Kustomization (plain) | `Ready`, `observedGeneration`, source `artifact`; a HelmRelease waits for a Ready source, stays not Ready while suspended |
//! | [`argocd`] | Application (plain) | `sync.status` / `health.status` (`OutOfSync`/`Missing` for the placeholder repoURL) |
//! | [`certmanager`] | Issuer, ClusterIssuer, Certificate (plain) | `Ready`; the Certificate's TLS Secret from one CA per issuer |
//! | [`kcp_operator`] | RootShard, FrontProxy (plain) | `Available`; admin kubeconfig / CA Secrets; root APIExports with identity hashes |
//! | [`kcp`] | Workspace, WorkspaceType, APIExport, APIBinding, APIExportEndpointSlice (`/clusters/*`) | phases, URLs, identity hashes, CRDs for bound schemas, default bindings, endpoint URLs |
//! | [`ocm`] | Repository, Component, Resource (plain) | `Ready`; a Resource's resolved version and access |
//! | [`tokens`] | Secrets (plain and `/clusters/*`) | `token`, `ca.crt`, `namespace` of ServiceAccount token Secrets ([`service_account_token`]) |
//! | [`components`] | HelmRelease (plain), IdentityProviderConfiguration (`/clusters/*`) | webhook / domain CA Secrets, `status.managedClients` |
//!
//! Each module's documentation states its rules exactly. Status is written only when it differs from what is
//! there, so a settled system sees no writes from the simulators.
//!
//! # Usage
//!
//! ```no_run
//! # async fn demo(url: &str) -> Result<(), apiserver::sim::Error> {
//! use std::time::Duration;
//! use apiserver::sim::{self, SimConfig, SimKind};
//!
//! let config = SimConfig::all().with_delay(Duration::from_millis(20)).disable(SimKind::ArgoCd);
//! let sims = sim::spawn(url, &config).await?;
//! // ... run the operator against the server ...
//! sims.shutdown().await;
//! # Ok(()) }
//! ```

use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinSet;

pub mod argocd;
pub mod certmanager;
pub mod components;
pub mod controller;
pub mod crds;
pub mod flux;
pub mod kcp;
pub mod kcp_operator;
pub mod ocm;
pub mod pki;
pub mod tokens;

#[cfg(test)]
mod tests;

pub use tokens::service_account_token;

/// One simulated controller, used to address its settings in [`SimConfig`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SimKind {
    /// Flux source, helm and kustomize controllers.
    Flux,
    /// Argo CD application controller.
    ArgoCd,
    /// cert-manager issuers and certificates.
    CertManager,
    /// The kcp-operator (RootShard, FrontProxy and the admin Secrets).
    KcpOperator,
    /// kcp's own controllers: Workspaces, APIExports, APIBindings, endpoint slices.
    Kcp,
    /// The OCM controllers (Repository, Component, Resource).
    Ocm,
    /// kube-controller-manager's ServiceAccount token controller.
    Tokens,
    /// What the installed platform-mesh services do (IdP clients, webhook CA Secrets).
    Components,
}

impl SimKind {
    /// Every simulator, in the order they are started.
    pub const ALL: [SimKind; 8] = [
        SimKind::Flux,
        SimKind::ArgoCd,
        SimKind::CertManager,
        SimKind::KcpOperator,
        SimKind::Kcp,
        SimKind::Ocm,
        SimKind::Tokens,
        SimKind::Components,
    ];
}

/// Settings of one simulator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SimSettings {
    /// Whether the simulator runs at all.
    pub enabled: bool,
    /// How long the simulator waits after seeing an object before it marks it ready, so that callers observe the
    /// not-ready state the way they would against a real controller.
    pub delay: Duration,
}

/// Which simulators run and how quickly they react.
///
/// `Default` (same as [`SimConfig::all`]) enables every simulator with a 100 ms delay.
#[derive(Clone, Debug)]
pub struct SimConfig {
    settings: [SimSettings; 8],
    /// The version the OCM simulator reports for a Resource whose spec pins none (see [`ocm`]).
    pub ocm_default_version: String,
}

/// The delay every simulator uses unless configured otherwise.
pub const DEFAULT_DELAY: Duration = Duration::from_millis(100);

/// The OCM component version reported when a Resource's spec does not name one.
pub const DEFAULT_OCM_VERSION: &str = "0.1.0";

impl Default for SimConfig {
    fn default() -> Self {
        Self::all()
    }
}

impl SimConfig {
    /// No simulator runs.
    pub fn none() -> Self {
        Self {
            settings: [SimSettings {
                enabled: false,
                delay: DEFAULT_DELAY,
            }; 8],
            ocm_default_version: DEFAULT_OCM_VERSION.to_string(),
        }
    }

    /// Every simulator runs with [`DEFAULT_DELAY`].
    pub fn all() -> Self {
        Self {
            settings: [SimSettings {
                enabled: true,
                delay: DEFAULT_DELAY,
            }; 8],
            ocm_default_version: DEFAULT_OCM_VERSION.to_string(),
        }
    }

    /// The settings of one simulator.
    pub fn get(&self, kind: SimKind) -> SimSettings {
        self.settings[index(kind)]
    }

    /// Whether `kind` runs.
    pub fn is_enabled(&self, kind: SimKind) -> bool {
        self.get(kind).enabled
    }

    /// The ready delay of `kind`.
    pub fn delay(&self, kind: SimKind) -> Duration {
        self.get(kind).delay
    }

    /// Turns `kind` on.
    pub fn enable(mut self, kind: SimKind) -> Self {
        self.settings[index(kind)].enabled = true;
        self
    }

    /// Turns `kind` off.
    pub fn disable(mut self, kind: SimKind) -> Self {
        self.settings[index(kind)].enabled = false;
        self
    }

    /// Sets the ready delay of every simulator.
    pub fn with_delay(mut self, delay: Duration) -> Self {
        for s in &mut self.settings {
            s.delay = delay;
        }
        self
    }
}

fn index(kind: SimKind) -> usize {
    SimKind::ALL.iter().position(|k| *k == kind).unwrap_or(0)
}

/// Errors starting the simulators.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The base URL is not a valid URI.
    #[error("invalid API server URL {url:?}")]
    InvalidUrl {
        /// The URL given.
        url: String,
        /// Why it was rejected.
        #[source]
        source: http::uri::InvalidUri,
    },
    /// A simulator failed while installing its CRDs or seeding objects.
    #[error("starting the {sim:?} simulator")]
    Start {
        /// Which simulator.
        sim: SimKind,
        /// The cause.
        #[source]
        source: controller::ReconcileError,
    },
}

/// Result alias for this module.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Running simulators; dropping this handle does not stop them, call [`Simulators::shutdown`].
pub struct Simulators {
    ctx: Arc<controller::Context>,
    tasks: JoinSet<()>,
}

impl Simulators {
    /// Stops every simulator and waits for their tasks to end.
    pub async fn shutdown(mut self) {
        self.ctx.cancel.cancel();
        while self.tasks.join_next().await.is_some() {}
    }
}

/// Starts the simulators enabled in `config` against the server at `base_url` (e.g. `http://127.0.0.1:6443`).
///
/// Each simulator installs its CRDs (and seeds its fixed objects) before this returns, so callers may create its
/// objects at once.
///
/// # Errors
///
/// [`Error::InvalidUrl`] when `base_url` is not a URI, [`Error::Start`] when a simulator cannot install its CRDs
/// or seed objects; simulators already started are stopped again.
pub async fn spawn(base_url: &str, config: &SimConfig) -> Result<Simulators> {
    base_url
        .parse::<http::Uri>()
        .map_err(|source| Error::InvalidUrl {
            url: base_url.to_string(),
            source,
        })?;
    let mut sims = Simulators {
        ctx: controller::Context::new(base_url),
        tasks: JoinSet::new(),
    };
    for sim in SimKind::ALL {
        if !config.is_enabled(sim) {
            continue;
        }
        if let Err(source) = start(sim, config, &sims.ctx, &mut sims.tasks).await {
            sims.shutdown().await;
            return Err(Error::Start { sim, source });
        }
    }
    Ok(sims)
}

async fn start(
    sim: SimKind,
    config: &SimConfig,
    ctx: &Arc<controller::Context>,
    tasks: &mut JoinSet<()>,
) -> Result<(), controller::ReconcileError> {
    let delay = config.delay(sim);
    match sim {
        SimKind::Flux => flux::start(ctx, delay, tasks).await,
        SimKind::ArgoCd => argocd::start(ctx, delay, tasks).await,
        SimKind::CertManager => certmanager::start(ctx, delay, tasks).await,
        SimKind::KcpOperator => kcp_operator::start(ctx, delay, tasks).await,
        SimKind::Kcp => kcp::start(ctx, delay, tasks).await,
        SimKind::Ocm => ocm::start(ctx, delay, &config.ocm_default_version, tasks).await,
        SimKind::Tokens => tokens::start(ctx, delay, tasks).await,
        SimKind::Components => components::start(ctx, delay, tasks).await,
    }
}
