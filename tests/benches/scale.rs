//! Scale and steady-state figures of the operator on the embedded platform (run on demand, not in CI):
//!
//! ```sh
//! cargo bench -p e2e --bench scale --profile dev            # PMO_BENCH_INSTANCES=200 PMO_BENCH_STEADY_SECS=60
//! ```
//!
//! 1. N PlatformMesh instances (default 200; each waits for its own HelmRelease) to Ready: wall time, API
//!    requests by verb, peak RSS of the process (operator + embedded API server + simulators, peak reset before
//!    the operator starts, so the growth is the operator's work).
//! 2. Steady state: state-changing writes per minute once everything is Ready (must be 0).
//! 3. Operator start to first reconcile with a warm compiled-plugin cache (a new instance created while the
//!    operator was down).
//! 4. Idle RSS after the steady-state window.

use std::time::{Duration, Instant};

use e2e::reliability::{Platform, print_requests};
use platform_mesh_operator::controller::ProgressSink;
use tokio_util::sync::CancellationToken;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// `VmRSS` and `VmHWM` (peak) of this process in MiB, from /proc (Linux).
fn rss_mib() -> (f64, f64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<f64>().ok())
            .map_or(f64::NAN, |kb| kb / 1024.0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// Resets the peak RSS (VmHWM) to the current RSS (Linux ≥ 4.0; ignored elsewhere).
fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    if std::env::args().any(|a| a == "--list") {
        // `cargo bench -- --list` and `cargo test --benches` probe bench binaries; there is nothing to list.
        return Ok(());
    }
    let instances = env_usize("PMO_BENCH_INSTANCES", 200);
    let steady_secs = env_usize("PMO_BENCH_STEADY_SECS", 60) as u64;
    let platform = Platform::start().await?;
    platform.add_instances(0..instances).await?;
    let (rss, _) = rss_mib();
    println!("set-up: {instances} instances created; RSS {rss:.1} MiB (API server, simulators, objects)");

    // 1. N instances to Ready.
    reset_peak_rss();
    let before = platform.server.requests().snapshot();
    let stop = CancellationToken::new();
    let started = Instant::now();
    let operator = platform.spawn_operator(ProgressSink::none(), stop.clone())?;
    let took = platform.wait_ready(instances, Duration::from_secs(600)).await?;
    let (rss, peak) = rss_mib();
    println!("[1] {instances} PlatformMeshes Ready in {took:.2?}; RSS {rss:.1} MiB, peak {peak:.1} MiB");
    print_requests("[1] requests", &platform.server, &before);
    let after = platform.server.requests().snapshot();
    for (verb, count) in &after.by_verb {
        let was = before.by_verb.get(verb).copied().unwrap_or(0);
        if count > &was {
            println!("[1]   {verb:<16} {}", count - was);
        }
    }
    let _ = started;

    // 2. Steady state.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let settled = platform.server.requests().snapshot();
    tokio::time::sleep(Duration::from_secs(steady_secs)).await;
    let now = platform.server.requests().snapshot();
    let per_minute = (now.changed_writes - settled.changed_writes) as f64 * 60.0 / steady_secs as f64;
    println!(
        "[2] steady state over {steady_secs} s: {per_minute:.1} state-changing writes/minute, {} requests in total",
        now.total - settled.total
    );

    // 4. Idle RSS.
    let (rss, _) = rss_mib();
    println!("[4] idle RSS after the steady-state window: {rss:.1} MiB (whole process)");

    // 3. Restart with a warm plugin cache: start to the first reconcile of an instance created meanwhile.
    stop.cancel();
    operator.await??;
    platform.add_instances(instances..instances + 1).await?;
    let (progress, mut events) = ProgressSink::channel();
    let stop = CancellationToken::new();
    let started = Instant::now();
    let operator = platform.spawn_operator(progress, stop.clone())?;
    events
        .recv()
        .await
        .ok_or_else(|| anyhow::anyhow!("the operator stopped"))?;
    println!(
        "[3] start to first reconcile (warm plugin cache): {:.2?}",
        started.elapsed()
    );
    stop.cancel();
    operator.await??;
    platform.server.shutdown().await;
    Ok(())
}
