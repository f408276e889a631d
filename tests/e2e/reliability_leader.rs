//! Two replicas: both run the operator under leader election on the upstream Lease; exactly one reconciles. The
//! leader is then killed without releasing the lease (a crash) and the standby takes over within the lease
//! duration, reconciling what was created meanwhile. A clean stop of the new leader releases the lease.

use std::{
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use anyhow::{Context as _, ensure};
use e2e::reliability::Platform;
use k8s_openapi::api::coordination::v1::Lease;
use kube::Api;
use platform_mesh_operator::controller::{
    ProgressSink,
    leader::{LEADER_ELECTION_ID, LeaderElector, LeaderError, LeaseSettings},
    operator,
};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

const INSTANCES: usize = 10;
const NS: &str = "pm-000";
const LEASE: Duration = Duration::from_secs(4);

struct Replica {
    shutdown: CancellationToken,
    task: JoinHandle<Result<(), LeaderError>>,
    /// Condition changes this replica made.
    changes: Arc<AtomicUsize>,
}

/// When each replica became the leader, by name.
type Leaders = Arc<Mutex<Vec<(&'static str, Instant)>>>;

fn replica(platform: &Platform, name: &'static str, leaders: &Leaders) -> anyhow::Result<Replica> {
    let settings = LeaseSettings {
        identity: name.to_owned(),
        lease_duration: LEASE,
        renew_deadline: Duration::from_secs(3),
        retry_period: Duration::from_millis(500),
        ..LeaseSettings::new(NS)
    };
    let elector = LeaderElector::new(platform.client.clone(), settings);
    let (config, clients) = (platform.config()?, platform.clients()?);
    let (progress, mut events) = ProgressSink::channel();
    let changes = Arc::new(AtomicUsize::new(0));
    let counted = changes.clone();
    tokio::spawn(async move {
        while events.recv().await.is_some() {
            counted.fetch_add(1, Ordering::SeqCst);
        }
    });
    let shutdown = CancellationToken::new();
    let token = shutdown.clone();
    let leaders = leaders.clone();
    let task = tokio::spawn(async move {
        let led = elector
            .run(token, |stop| {
                leaders
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push((name, Instant::now()));
                async move { operator::run(&config, clients, progress, stop.cancelled_owned()).await }
            })
            .await?;
        if let Some(Err(error)) = led {
            panic!("replica {name}: {error}");
        }
        Ok(())
    });
    Ok(Replica {
        shutdown,
        task,
        changes,
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_leader_reconciles_and_a_standby_takes_over_after_a_crash() -> anyhow::Result<()> {
    let platform = Platform::start().await?;
    platform.add_instances(0..INSTANCES).await?;
    let leaders: Leaders = Arc::default();
    let a = replica(&platform, "a", &leaders)?;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let b = replica(&platform, "b", &leaders)?;

    platform.wait_ready(INSTANCES, Duration::from_secs(40)).await?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let (first, standby) = {
        let leaders = leaders.lock().unwrap_or_else(|e| e.into_inner());
        ensure!(
            leaders.len() == 1,
            "exactly one leader: {:?}",
            leaders.iter().map(|l| l.0).collect::<Vec<_>>()
        );
        if leaders[0].0 == "a" { (a, b) } else { (b, a) }
    };
    let (led, idle) = (
        first.changes.load(Ordering::SeqCst),
        standby.changes.load(Ordering::SeqCst),
    );
    println!("leader made {led} condition changes, standby {idle}");
    ensure!(led > 0 && idle == 0, "only the leader reconciles");

    // Crash the leader: no release, so the standby waits until the record stood still for the lease duration.
    let crashed = Instant::now();
    first.task.abort();
    let _ = first.task.await;
    platform.add_instances(INSTANCES..INSTANCES + 1).await?;
    platform
        .wait_ready(INSTANCES + 1, Duration::from_secs(30))
        .await?;
    let took_over = {
        let leaders = leaders.lock().unwrap_or_else(|e| e.into_inner());
        ensure!(leaders.len() == 2, "the standby took over");
        leaders[1].1.duration_since(crashed)
    };
    println!("standby took over {took_over:?} after the crash (lease duration {LEASE:?}, retry 500ms)");
    // The standby may take over once the record stood still for the lease duration and it tries again (every
    // 500 ms); the bound leaves room for a loaded machine, where tasks and requests are late by seconds.
    ensure!(
        took_over <= 2 * LEASE,
        "hand-over within twice the lease duration: {took_over:?}"
    );
    ensure!(
        standby.changes.load(Ordering::SeqCst) > 0,
        "the new leader reconciles"
    );
    platform.check_complete(INSTANCES + 1).await?;

    // A clean stop hands the lease back.
    standby.shutdown.cancel();
    tokio::time::timeout(Duration::from_secs(30), standby.task)
        .await??
        .context("standby")?;
    let lease = Api::<Lease>::namespaced(platform.client.clone(), NS)
        .get(LEADER_ELECTION_ID)
        .await?;
    ensure!(
        lease.spec.unwrap_or_default().holder_identity.is_none(),
        "the lease was released"
    );
    platform.server.shutdown().await;
    Ok(())
}
