//! API faults: with about 20 % of all requests failing (500, 503 with Retry-After, 429) and every watch stream
//! dropped after a few seconds, 20 PlatformMesh instances all reach Ready, none is missing or duplicated, and the
//! operator never stops. kube's client retries 429 and 503 itself; the 500s reach the operator, which retries
//! with its per-object backoff (the engine's conflict and error paths).

use std::time::{Duration, Instant};

use apiserver::{FaultAction, FaultRule};
use e2e::{
    faults,
    reliability::{Platform, print_requests},
};
use platform_mesh_operator::controller::ProgressSink;
use tokio_util::sync::CancellationToken;

const INSTANCES: usize = 20;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_instances_reach_ready_through_api_faults() -> anyhow::Result<()> {
    let platform = Platform::start().await?;
    platform.add_instances(0..INSTANCES).await?;
    // The draws of the rules below come from a printed seed, so that a failing run can be replayed.
    faults::seed(&platform.server);
    let faults = platform.server.faults();
    // Three rules evaluated in turn: 1 - 0.9 * 0.95 * 0.94 ≈ 20 % of requests fail.
    faults.add(
        FaultRule::new(FaultAction::Error {
            code: 500,
            message: None,
            retry_after_seconds: None,
        })
        .rate(0.10),
    );
    faults.add(
        FaultRule::new(FaultAction::Error {
            code: 503,
            message: None,
            retry_after_seconds: Some(1),
        })
        .rate(0.05),
    );
    faults.add(
        FaultRule::new(FaultAction::Error {
            code: 429,
            message: None,
            retry_after_seconds: Some(1),
        })
        .rate(0.06),
    );
    faults.add(FaultRule::new(FaultAction::DropWatch {
        after_events: None,
        after_millis: Some(3000),
    }));
    let before = platform.server.requests().snapshot();

    let stop = CancellationToken::new();
    let started = Instant::now();
    let operator = platform.spawn_operator(ProgressSink::none(), stop.clone())?;
    let took = platform.wait_ready(INSTANCES, Duration::from_secs(50)).await;
    let after = platform.server.requests().snapshot();
    let failed = after.errors - before.errors;
    let total = after.total - before.total;
    println!(
        "{INSTANCES} PlatformMeshes Ready after {:?}; {failed} of {total} requests answered with an error ({:.1} %: injected faults plus ordinary 404s and 409s)",
        took.as_ref().map_or(started.elapsed(), |d| *d),
        100.0 * failed as f64 / total.max(1) as f64
    );
    print_requests("under faults", &platform.server, &before);
    if operator.is_finished() {
        anyhow::bail!("the operator stopped under faults: {:?}", operator.await?);
    }
    took?;

    faults.clear();
    platform.check_complete(INSTANCES).await?;
    stop.cancel();
    tokio::time::timeout(Duration::from_secs(30), operator).await???;
    platform.server.shutdown().await;
    Ok(())
}
