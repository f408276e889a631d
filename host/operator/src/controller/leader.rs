//! Leader election on a `coordination.k8s.io/v1` Lease (spec §2.2 `--leader-elect`, §2.7, appendix A), with
//! client-go's semantics so that a Go and a Rust operator would agree on who leads:
//!
//! - A lease is held while its holder renews it; another instance may take it over once it has seen the same
//!   record unchanged for `lease_duration` on its *own* clock (no trust in the holder's timestamps, so clock skew
//!   between nodes does not matter).
//! - The leader renews every `retry_period`; when it has not renewed for `renew_deadline` it gives up
//!   leadership (the work is stopped) rather than risk two leaders.
//! - When the work ends normally (SIGTERM), the lease is released (empty holder, 1 s duration), so a standby
//!   takes over at its next try instead of waiting out the lease.
//!
//! Every write carries the `resourceVersion` read just before, so two candidates racing for the same record
//! cannot both win: the loser gets a 409 and tries again later.

use std::{
    future::Future,
    hash::{BuildHasher, Hasher},
    path::Path,
    time::{Duration, Instant},
};

use k8s_openapi::{
    api::coordination::v1::{Lease, LeaseSpec},
    apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta},
    jiff::Timestamp,
};
use kube::{
    Api, Client,
    api::{PostParams, entry::Entry},
};
use tokio_util::sync::CancellationToken;

use crate::metrics;

/// The Lease name, as upstream's controller-runtime manager uses it.
pub const LEADER_ELECTION_ID: &str = "81924e50.platform-mesh.org";

/// Where Kubernetes mounts the pod's namespace.
const SERVICE_ACCOUNT_NAMESPACE: &str = "/var/run/secrets/kubernetes.io/serviceaccount/namespace";

/// Why leader election failed.
#[derive(Debug, thiserror::Error)]
pub enum LeaderError {
    /// No namespace was configured and the operator does not run in a pod.
    #[error(
        "cannot find the leader election namespace: not running in a cluster; set --leader-election-namespace \
         (or POD_NAMESPACE)"
    )]
    Namespace,
    /// This instance lost the lease while leading (could not renew within the renew deadline, or another
    /// instance took it over); the work was stopped.
    #[error("leader election lost: lease {namespace}/{name} was not renewed within {deadline:?}")]
    Lost {
        /// Lease namespace.
        namespace: String,
        /// Lease name.
        name: String,
        /// The renew deadline.
        deadline: Duration,
    },
}

/// A failed read or write of the lease (logged, then retried at the next period).
#[derive(Debug, thiserror::Error)]
enum LeaseWriteError {
    #[error(transparent)]
    Read(#[from] kube::Error),
    #[error(transparent)]
    Write(#[from] kube::api::entry::CommitError),
}

/// Lease timing and identity; the defaults are controller-runtime's (15 s / 10 s / 2 s).
#[derive(Clone, Debug)]
pub struct LeaseSettings {
    /// Lease namespace.
    pub namespace: String,
    /// Lease name ([`LEADER_ELECTION_ID`]).
    pub name: String,
    /// This instance's identity (`<hostname>_<random>`).
    pub identity: String,
    /// How long a non-renewed lease stays valid for the others.
    pub lease_duration: Duration,
    /// How long the leader keeps leading without a successful renewal.
    pub renew_deadline: Duration,
    /// How often candidates try to acquire and the leader renews.
    pub retry_period: Duration,
}

impl LeaseSettings {
    /// The upstream lease (`81924e50.platform-mesh.org`) in `namespace`, with a fresh identity.
    pub fn new(namespace: impl Into<String>) -> Self {
        LeaseSettings {
            namespace: namespace.into(),
            name: LEADER_ELECTION_ID.to_owned(),
            identity: default_identity(),
            lease_duration: Duration::from_secs(15),
            renew_deadline: Duration::from_secs(10),
            retry_period: Duration::from_secs(2),
        }
    }

    /// The namespace of the lease: `configured` if set, else `POD_NAMESPACE`, else the pod's service account
    /// namespace file.
    pub fn namespace_from(configured: &str) -> Result<String, LeaderError> {
        if !configured.is_empty() {
            return Ok(configured.to_owned());
        }
        if let Some(ns) = std::env::var("POD_NAMESPACE").ok().filter(|ns| !ns.is_empty()) {
            return Ok(ns);
        }
        std::fs::read_to_string(Path::new(SERVICE_ACCOUNT_NAMESPACE))
            .ok()
            .map(|ns| ns.trim().to_owned())
            .filter(|ns| !ns.is_empty())
            .ok_or(LeaderError::Namespace)
    }
}

/// `<hostname>_<16 hex digits>`: unique per process even when two replicas share a host name.
pub fn default_identity() -> String {
    let host = std::env::var("HOSTNAME")
        .ok()
        .filter(|h| !h.is_empty())
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "platform-mesh-operator".to_owned());
    // RandomState is seeded from the OS's randomness per process; mixing in the pid and time keeps two states of
    // the same process apart too.
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u32(std::process::id());
    hasher.write_u128(Timestamp::now().as_nanosecond().unsigned_abs());
    format!("{host}_{:016x}", hasher.finish())
}

/// The last lease record seen, and when this instance first saw it (client-go's "observed time").
#[derive(Default)]
struct Observed {
    record: Option<(Option<String>, Option<Timestamp>)>,
    since: Option<Instant>,
}

impl Observed {
    fn update(&mut self, spec: &LeaseSpec) {
        let record = (
            spec.holder_identity.clone(),
            spec.renew_time.as_ref().map(|t| t.0),
        );
        if self.record.as_ref() != Some(&record) {
            self.record = Some(record);
            self.since = Some(Instant::now());
        }
    }

    /// Whether the record has stayed unchanged for `duration` on our clock.
    fn expired(&self, duration: Duration) -> bool {
        self.since.is_none_or(|since| since.elapsed() >= duration)
    }
}

fn now() -> MicroTime {
    MicroTime(Timestamp::now())
}

fn seconds(d: Duration) -> i32 {
    i32::try_from(d.as_secs().max(1)).unwrap_or(i32::MAX)
}

/// A candidate for the lease.
pub struct LeaderElector {
    api: Api<Lease>,
    settings: LeaseSettings,
}

impl LeaderElector {
    /// A candidate using `client` (upstream: the in-cluster client even when remote kubeconfigs are set).
    pub fn new(client: Client, settings: LeaseSettings) -> Self {
        let api = Api::namespaced(client, &settings.namespace);
        LeaderElector { api, settings }
    }

    /// The settings.
    pub fn settings(&self) -> &LeaseSettings {
        &self.settings
    }

    /// Waits for the lease, runs `work` while leading and releases the lease when `work` returns.
    ///
    /// `work` gets a token that is cancelled when `shutdown` is cancelled or leadership is lost; it must stop
    /// then. Returns `Ok(None)` when `shutdown` came before the lease, `Ok(Some(output))` after a normal end,
    /// and [`LeaderError::Lost`] (after `work` returned) when leadership was lost.
    pub async fn run<F, Fut, T>(&self, shutdown: CancellationToken, work: F) -> Result<Option<T>, LeaderError>
    where
        F: FnOnce(CancellationToken) -> Fut,
        Fut: Future<Output = T>,
    {
        let mut observed = Observed::default();
        tracing::info!(lease = %self.settings.name, namespace = %self.settings.namespace,
            identity = %self.settings.identity, "waiting for leadership");
        loop {
            // Bounded like a renewal: a hung request must not stall the candidate.
            let attempt = tokio::time::timeout(self.settings.renew_deadline, self.try_acquire(&mut observed));
            if attempt.await.unwrap_or(false) {
                break;
            }
            tokio::select! {
                () = shutdown.cancelled() => return Ok(None),
                () = tokio::time::sleep(self.settings.retry_period) => {}
            }
        }
        tracing::info!(identity = %self.settings.identity, "became the leader");
        metrics::global().leader.set(1);
        let stop = shutdown.child_token();
        let lost = CancellationToken::new();
        let renewing = async {
            self.keep_renewing(&stop).await;
            lost.cancel();
            stop.cancel();
        };
        let output = {
            tokio::pin!(renewing);
            let work = work(stop.clone());
            tokio::pin!(work);
            let mut renewing_done = false;
            loop {
                tokio::select! {
                    output = &mut work => break output,
                    () = &mut renewing, if !renewing_done => renewing_done = true,
                }
            }
        };
        metrics::global().leader.set(0);
        if lost.is_cancelled() {
            tracing::error!(identity = %self.settings.identity, "leadership lost");
            return Err(LeaderError::Lost {
                namespace: self.settings.namespace.clone(),
                name: self.settings.name.clone(),
                deadline: self.settings.renew_deadline,
            });
        }
        self.release().await;
        Ok(Some(output))
    }

    /// One acquisition attempt; true when this instance holds the lease afterwards.
    async fn try_acquire(&self, observed: &mut Observed) -> bool {
        let s = &self.settings;
        let entry = match self.api.entry(&s.name).await {
            Ok(entry) => entry,
            Err(error) => {
                tracing::debug!(error = %error, "reading the leader lease");
                return false;
            }
        };
        let result = match entry {
            Entry::Vacant(vacant) => {
                let lease = Lease {
                    metadata: ObjectMeta {
                        name: Some(s.name.clone()),
                        namespace: Some(s.namespace.clone()),
                        ..ObjectMeta::default()
                    },
                    spec: Some(LeaseSpec {
                        holder_identity: Some(s.identity.clone()),
                        lease_duration_seconds: Some(seconds(s.lease_duration)),
                        acquire_time: Some(now()),
                        renew_time: Some(now()),
                        lease_transitions: Some(0),
                        ..LeaseSpec::default()
                    }),
                };
                vacant.insert(lease).commit(&PostParams::default()).await
            }
            Entry::Occupied(mut occupied) => {
                let spec = occupied.get().spec.clone().unwrap_or_default();
                observed.update(&spec);
                let holder = spec.holder_identity.clone().filter(|h| !h.is_empty());
                let mine = holder.as_deref() == Some(s.identity.as_str());
                let lease_duration = spec
                    .lease_duration_seconds
                    .and_then(|d| u64::try_from(d).ok())
                    .map_or(s.lease_duration, Duration::from_secs);
                if holder.is_some() && !mine && !observed.expired(lease_duration) {
                    return false;
                }
                occupied.get_mut().spec = Some(LeaseSpec {
                    holder_identity: Some(s.identity.clone()),
                    lease_duration_seconds: Some(seconds(s.lease_duration)),
                    acquire_time: if mine {
                        spec.acquire_time.clone()
                    } else {
                        Some(now())
                    },
                    renew_time: Some(now()),
                    lease_transitions: Some(
                        spec.lease_transitions.unwrap_or(0) + i32::from(!mine && holder.is_some()),
                    ),
                    ..spec
                });
                occupied.commit(&PostParams::default()).await
            }
        };
        match result {
            Ok(()) => true,
            Err(error) => {
                tracing::debug!(error = %error, "acquiring the leader lease");
                false
            }
        }
    }

    /// Renews every retry period; returns when leadership is lost (not renewed within the deadline, or taken
    /// by someone else) or when `stop` is cancelled. Every renewal is bounded by the time left until the
    /// deadline: kube's client has no read timeout, and a request that hangs must not keep a leader that can no
    /// longer renew in charge while a standby takes the lease over.
    async fn keep_renewing(&self, stop: &CancellationToken) {
        let s = &self.settings;
        let mut renewed = Instant::now();
        loop {
            let left = s.renew_deadline.saturating_sub(renewed.elapsed());
            tokio::select! {
                () = stop.cancelled() => {
                    // A normal stop is not a loss; park so the caller's `work` decides when to end.
                    std::future::pending::<()>().await;
                }
                () = tokio::time::sleep(s.retry_period.min(left)) => {}
            }
            let left = s.renew_deadline.saturating_sub(renewed.elapsed());
            match tokio::time::timeout(left, self.renew()).await {
                Ok(Ok(true)) => renewed = Instant::now(),
                Ok(Ok(false)) => {
                    tracing::warn!(identity = %s.identity, "another instance holds the leader lease");
                    return;
                }
                Ok(Err(error)) => tracing::warn!(error = %error, "renewing the leader lease"),
                Err(_) => tracing::warn!(deadline = ?s.renew_deadline,
                    "renewing the leader lease did not finish before the renew deadline"),
            }
            if renewed.elapsed() >= s.renew_deadline {
                return;
            }
        }
    }

    /// Ok(true) renewed, Ok(false) someone else holds the lease.
    async fn renew(&self) -> Result<bool, LeaseWriteError> {
        let s = &self.settings;
        let Entry::Occupied(mut occupied) = self.api.entry(&s.name).await? else {
            return Ok(false);
        };
        let spec = occupied.get_mut().spec.get_or_insert_with(LeaseSpec::default);
        if spec.holder_identity.as_deref() != Some(s.identity.as_str()) {
            return Ok(false);
        }
        spec.renew_time = Some(now());
        occupied.commit(&PostParams::default()).await?;
        Ok(true)
    }

    /// Hands the lease over: empty holder and a 1 s duration, so a standby takes over at its next try.
    async fn release(&self) {
        let s = &self.settings;
        let released = async {
            let Entry::Occupied(mut occupied) = self.api.entry(&s.name).await? else {
                return Ok::<_, LeaseWriteError>(false);
            };
            let spec = occupied.get_mut().spec.get_or_insert_with(LeaseSpec::default);
            if spec.holder_identity.as_deref() != Some(s.identity.as_str()) {
                return Ok(false);
            }
            spec.holder_identity = None;
            spec.lease_duration_seconds = Some(1);
            spec.renew_time = Some(now());
            occupied.commit(&PostParams::default()).await?;
            Ok(true)
        };
        let released = tokio::time::timeout(s.renew_deadline, released);
        match released.await.unwrap_or_else(|_| Ok(false)) {
            Ok(true) => tracing::info!(identity = %s.identity, "released the leader lease"),
            Ok(false) => {}
            Err(error) => tracing::warn!(error = %error, "releasing the leader lease"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identities_differ_within_one_process() {
        assert_ne!(default_identity(), default_identity());
    }

    #[test]
    fn a_configured_namespace_wins() {
        assert_eq!(LeaseSettings::namespace_from("ops").unwrap(), "ops");
    }

    #[test]
    fn an_unchanged_record_expires_after_the_duration_on_our_clock() {
        let mut observed = Observed::default();
        assert!(observed.expired(Duration::from_secs(15)), "never seen: free");
        let spec = LeaseSpec {
            holder_identity: Some("a".into()),
            renew_time: Some(now()),
            ..LeaseSpec::default()
        };
        observed.update(&spec);
        assert!(!observed.expired(Duration::from_secs(15)));
        assert!(observed.expired(Duration::ZERO));
    }

    /// A renew that hangs (the fault injector delays every Lease request by a minute) makes the leader step down
    /// within the renew deadline instead of leading on while a standby takes the lease over.
    #[tokio::test]
    async fn a_hung_renew_makes_the_leader_step_down_within_the_deadline() {
        use apiserver::{FaultAction, FaultRule, ServerConfig, sim::SimConfig};
        use k8s_openapi::api::core::v1::Namespace;

        let server = apiserver::start(ServerConfig {
            simulators: SimConfig::none(),
            ..ServerConfig::default()
        })
        .await
        .expect("embedded server");
        let client = server.client();
        let ns = Namespace {
            metadata: ObjectMeta {
                name: Some("hung-renew".into()),
                ..ObjectMeta::default()
            },
            ..Namespace::default()
        };
        Api::<Namespace>::all(client.clone())
            .create(&PostParams::default(), &ns)
            .await
            .expect("namespace");
        let settings = LeaseSettings {
            identity: "leader".into(),
            lease_duration: Duration::from_secs(5),
            renew_deadline: Duration::from_millis(1500),
            retry_period: Duration::from_millis(200),
            ..LeaseSettings::new("hung-renew")
        };
        let elector = LeaderElector::new(client, settings.clone());
        let (leading_tx, leading_rx) = tokio::sync::oneshot::channel();
        let (stopped_tx, stopped_rx) = tokio::sync::oneshot::channel::<Instant>();
        let faults = server.faults();
        let run = tokio::spawn(async move {
            elector
                .run(CancellationToken::new(), |stop| async move {
                    let _ = leading_tx.send(());
                    stop.cancelled().await;
                    let _ = stopped_tx.send(Instant::now());
                })
                .await
        });
        tokio::time::timeout(Duration::from_secs(10), leading_rx)
            .await
            .expect("leading within 10 s")
            .expect("leading");
        let hung = Instant::now();
        faults.add(
            FaultRule::new(FaultAction::Latency { millis: 60_000 }).resource("leases.coordination.k8s.io"),
        );
        let stopped = tokio::time::timeout(Duration::from_secs(20), stopped_rx)
            .await
            .expect("the work is stopped long before the hung request would return")
            .expect("stopped");
        let after = stopped.duration_since(hung);
        // The deadline counts from the last good renewal, before the fault: the leader has stepped down before a
        // standby could take the lease (the lease duration after that renewal). Without a bound on the renew
        // request it would lead on for the minute the request hangs.
        assert!(
            after < settings.lease_duration,
            "stepped down after {after:?}; deadline {:?}, lease {:?}",
            settings.renew_deadline,
            settings.lease_duration
        );
        let result = tokio::time::timeout(Duration::from_secs(20), run)
            .await
            .expect("run returns")
            .expect("no panic");
        assert!(matches!(result, Err(LeaderError::Lost { .. })), "{result:?}");
    }
}
