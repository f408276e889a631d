//! Restart: the operator is killed in the middle of reconciling 20 PlatformMesh instances (its task aborted, so
//! in-flight plugin calls and writes are cut wherever they are), a new operator starts against the same cluster,
//! and every instance reaches Ready with nothing lost or duplicated.

use std::time::{Duration, Instant};

use e2e::{
    reliability::{Platform, print_requests},
    wait::{self, Counter},
};
use platform_mesh_operator::controller::ProgressSink;
use tokio_util::sync::CancellationToken;

const INSTANCES: usize = 20;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_mid_reconcile_the_next_operator_converges() -> anyhow::Result<()> {
    let platform = Platform::start().await?;
    platform.add_instances(0..INSTANCES).await?;
    let before = platform.server.requests().snapshot();

    // First operator: killed as soon as it has started changing objects, long before all are Ready.
    let (progress, mut events) = ProgressSink::channel();
    let first = platform.spawn_operator(progress, CancellationToken::new())?;
    let mut changes = 0;
    while changes < 5 {
        tokio::time::timeout(Duration::from_secs(30), events.recv())
            .await?
            .ok_or_else(|| anyhow::anyhow!("the first operator stopped"))?;
        changes += 1;
    }
    first.abort();
    let _ = first.await;
    let ready_at_kill = platform.ready().await;
    println!(
        "killed the first operator after {changes} condition changes; {ready_at_kill} of {INSTANCES} Ready"
    );
    assert!(ready_at_kill < INSTANCES, "the kill must come mid-reconcile");

    // Second operator, warm plugin cache: converges.
    let stop = CancellationToken::new();
    let started = Instant::now();
    let second = platform.spawn_operator(ProgressSink::none(), stop.clone())?;
    let took = platform.wait_ready(INSTANCES, Duration::from_secs(40)).await?;
    println!(
        "the restarted operator brought all {INSTANCES} to Ready in {took:?} (started {:?} ago)",
        started.elapsed()
    );
    print_requests("both operators", &platform.server, &before);
    platform.check_complete(INSTANCES).await?;

    // Converged means quiet: the state-changing writes after convergence stop.
    let settled = platform.server.requests().snapshot();
    wait::settle(
        &platform.server,
        Counter::Changes,
        Duration::from_secs(1),
        Duration::from_secs(30),
    )
    .await?;
    let changed = platform.server.requests().snapshot().changed_writes - settled.changed_writes;
    println!("state-changing writes after convergence until a quiet second: {changed}");

    stop.cancel();
    tokio::time::timeout(Duration::from_secs(30), second).await???;
    platform.server.shutdown().await;
    Ok(())
}
