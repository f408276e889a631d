//! Leader election against the embedded API server: one leader at a time, hand-over on a clean stop within one
//! retry period, take-over after a crash once the lease duration has passed on the standby's clock, and a
//! leader whose lease is taken away stops its work.

use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use apiserver::{ServerConfig, sim::SimConfig};
use k8s_openapi::api::{coordination::v1::Lease, core::v1::Namespace};
use kube::{
    Api, Client,
    api::{ObjectMeta, PostParams},
};
use platform_mesh_operator::controller::leader::{
    LEADER_ELECTION_ID, LeaderElector, LeaderError, LeaseSettings,
};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

const NS: &str = "leader-test";

fn settings(identity: &str) -> LeaseSettings {
    LeaseSettings {
        identity: identity.to_owned(),
        lease_duration: Duration::from_secs(2),
        renew_deadline: Duration::from_millis(1500),
        retry_period: Duration::from_millis(200),
        ..LeaseSettings::new(NS)
    }
}

/// Who leads right now, and the most that ever led at once.
#[derive(Default)]
struct Leading {
    now: AtomicUsize,
    max: AtomicUsize,
}

struct Guard(Arc<Leading>, Arc<AtomicUsize>);

impl Drop for Guard {
    fn drop(&mut self) {
        self.1.store(0, Ordering::SeqCst);
        self.0.now.fetch_sub(1, Ordering::SeqCst);
    }
}

struct Candidate {
    shutdown: CancellationToken,
    task: JoinHandle<Result<Option<()>, LeaderError>>,
    leads: Arc<AtomicUsize>,
}

fn candidate(client: &Client, identity: &str, leading: &Arc<Leading>) -> Candidate {
    let elector = LeaderElector::new(client.clone(), settings(identity));
    let shutdown = CancellationToken::new();
    let leads = Arc::new(AtomicUsize::new(0));
    let (token, leading, flag) = (shutdown.clone(), leading.clone(), leads.clone());
    let task = tokio::spawn(async move {
        elector
            .run(token, |stop| async move {
                let now = leading.now.fetch_add(1, Ordering::SeqCst) + 1;
                leading.max.fetch_max(now, Ordering::SeqCst);
                flag.store(1, Ordering::SeqCst);
                // Also counts down when the task is aborted (the "crash" below).
                let _guard = Guard(leading, flag);
                stop.cancelled().await;
            })
            .await
    });
    Candidate {
        shutdown,
        task,
        leads,
    }
}

async fn until_leading(c: &Candidate, within: Duration) -> Duration {
    let started = Instant::now();
    while c.leads.load(Ordering::SeqCst) == 0 {
        assert!(started.elapsed() < within, "no leadership within {within:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    started.elapsed()
}

async fn setup() -> anyhow::Result<(apiserver::Server, Client)> {
    let server = apiserver::start(ServerConfig {
        simulators: SimConfig::none(),
        ..ServerConfig::default()
    })
    .await?;
    let client = server.client();
    let ns = Namespace {
        metadata: ObjectMeta {
            name: Some(NS.into()),
            ..ObjectMeta::default()
        },
        ..Namespace::default()
    };
    Api::<Namespace>::all(client.clone())
        .create(&PostParams::default(), &ns)
        .await?;
    Ok((server, client))
}

#[tokio::test]
async fn one_leader_hands_over_on_stop_and_after_a_crash() -> anyhow::Result<()> {
    let (server, client) = setup().await?;
    let leading = Arc::new(Leading::default());

    let a = candidate(&client, "a", &leading);
    until_leading(&a, Duration::from_secs(5)).await;
    let b = candidate(&client, "b", &leading);
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(b.leads.load(Ordering::SeqCst), 0, "b must wait while a renews");

    // A clean stop releases the lease: b takes over at its next try.
    let stopped = Instant::now();
    a.shutdown.cancel();
    assert!(a.task.await?.is_ok());
    until_leading(&b, Duration::from_secs(2)).await;
    let handover = stopped.elapsed();
    println!("hand-over after a clean stop: {handover:?} (retry period 200ms, lease 2s)");
    assert!(handover < Duration::from_secs(2), "within the lease duration");

    // A crash (no release): c takes over once the record stood still for the lease duration.
    let c = candidate(&client, "c", &leading);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let crashed = Instant::now();
    b.task.abort();
    let _ = b.task.await;
    until_leading(&c, Duration::from_secs(6)).await;
    let takeover = crashed.elapsed();
    println!("take-over after a crash: {takeover:?} (lease 2s)");
    assert!(takeover >= Duration::from_secs(1), "not before the lease ran out");

    let lease = Api::<Lease>::namespaced(client.clone(), NS)
        .get(LEADER_ELECTION_ID)
        .await?;
    let spec = lease.spec.unwrap_or_default();
    assert_eq!(spec.holder_identity.as_deref(), Some("c"));
    assert_eq!(
        spec.lease_transitions,
        Some(1),
        "b→c was a take-over; a's release left no holder"
    );
    assert_eq!(leading.max.load(Ordering::SeqCst), 1, "never two leaders at once");

    c.shutdown.cancel();
    assert!(c.task.await?.is_ok());
    let released = Api::<Lease>::namespaced(client, NS)
        .get(LEADER_ELECTION_ID)
        .await?;
    assert_eq!(released.spec.unwrap_or_default().holder_identity, None);
    server.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn a_leader_whose_lease_is_taken_stops_its_work() -> anyhow::Result<()> {
    let (server, client) = setup().await?;
    let leading = Arc::new(Leading::default());
    let a = candidate(&client, "a", &leading);
    until_leading(&a, Duration::from_secs(5)).await;

    let leases = Api::<Lease>::namespaced(client.clone(), NS);
    let mut lease = leases.get(LEADER_ELECTION_ID).await?;
    if let Some(spec) = lease.spec.as_mut() {
        spec.holder_identity = Some("intruder".into());
    }
    leases
        .replace(LEADER_ELECTION_ID, &PostParams::default(), &lease)
        .await?;

    let result = tokio::time::timeout(Duration::from_secs(5), a.task).await??;
    assert!(matches!(result, Err(LeaderError::Lost { .. })), "{result:?}");
    assert_eq!(a.leads.load(Ordering::SeqCst), 0, "the work was stopped");
    server.shutdown().await;
    Ok(())
}
