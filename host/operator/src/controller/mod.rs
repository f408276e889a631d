//! Controllers: kube-runtime `Controller`s that run a lifecycle chain per object.

pub mod chain;
pub mod events;
pub mod health;
pub mod leader;
pub mod managedprovider;
pub mod mapper;
pub mod operator;
pub mod platformmesh;
pub mod predicate;
pub mod profiles;
pub mod progress;
pub mod provider;
pub mod provider_chains;
pub mod resource;
pub mod vworkspace;

pub use chain::{ChainEntry, PLATFORM_MESH_ORDER, platform_mesh_chain};
pub use platformmesh::{ControllerError, ControllerSettings, run as run_platform_mesh};
pub use progress::{ProgressEvent, ProgressSink};

/// The retry after a failed pass of `key`: a lost write race or a transient API error on the object itself is
/// retried after a second; anything else backs off per object. Logs the failure with its causes.
fn retry_failed_pass(
    error: &dyn std::error::Error,
    source: &crate::lifecycle::EngineError,
    key: &crate::lifecycle::ObjectKey,
    backoff: &crate::lifecycle::Backoff<crate::lifecycle::ObjectKey>,
) -> kube::runtime::controller::Action {
    let delay = if source.is_conflict() || source.is_transient() {
        std::time::Duration::from_secs(1)
    } else {
        backoff.next_delay(key)
    };
    tracing::warn!(error = %error_chain(error), retry_in = ?delay, "reconcile failed");
    kube::runtime::controller::Action::requeue(delay)
}

/// An error and its causes on one line, joined by `: ` (each cause printed once).
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
