//! `--leader-elect` through the real binary: two operator processes against the embedded API server, the first
//! takes the upstream Lease, the second waits; SIGTERM to the first makes it stop, release the Lease and exit 0,
//! and the second takes over at its next try instead of waiting out the lease duration.

use std::{
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use apiserver::{ServerConfig, sim::SimConfig};
use k8s_openapi::api::{coordination::v1::Lease, core::v1::Namespace};
use kube::{
    Api, Client,
    api::{ObjectMeta, PostParams},
};
use platform_mesh_operator::{controller::leader::LEADER_ELECTION_ID, embedded};

const NS: &str = "leader-binary";

fn operator(kubeconfig: &Path, server: &str) -> std::io::Result<Child> {
    let workspace = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    Command::new(env!("CARGO_BIN_EXE_platform-mesh-operator"))
        .args(["run", "--leader-elect", "--no-json", "--log-level=warn"])
        .arg(format!("--leader-election-namespace={NS}"))
        .arg(format!("--kubeconfig={}", kubeconfig.display()))
        .arg(format!("--workspace-dir={}", workspace.display()))
        .arg(format!("--kcp-url={server}"))
        .args([
            "--metrics-bind-address=0",
            "--health-probe-bind-address=0",
            "--shutdown-timeout=20s",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
}

async fn holder(client: &Client) -> Option<String> {
    let lease = Api::<Lease>::namespaced(client.clone(), NS)
        .get_opt(LEADER_ELECTION_ID)
        .await
        .ok()??;
    lease.spec?.holder_identity
}

async fn until(what: &str, within: Duration, mut check: impl AsyncFnMut() -> bool) -> Duration {
    let started = Instant::now();
    while !check().await {
        assert!(started.elapsed() < within, "{what}: not within {within:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    started.elapsed()
}

#[tokio::test]
async fn sigterm_hands_the_lease_to_the_standby() -> anyhow::Result<()> {
    let server = apiserver::start(ServerConfig {
        simulators: SimConfig::none(),
        ..ServerConfig::default()
    })
    .await?;
    let client = server.client();
    embedded::install_crds(&client).await?;
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
    let dir = tempfile::tempdir()?;
    let kubeconfig = dir.path().join("kubeconfig");
    server.write_kubeconfig(&kubeconfig)?;

    let mut first = operator(&kubeconfig, server.url())?;
    until("the first operator leads", Duration::from_secs(60), async || {
        holder(&client).await.is_some()
    })
    .await;
    let leader = holder(&client).await.unwrap_or_default();
    let mut second = operator(&kubeconfig, server.url())?;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        holder(&client).await.as_deref(),
        Some(leader.as_str()),
        "the standby waits"
    );

    let stopped = Instant::now();
    let status = Command::new("kill")
        .args(["-TERM", &first.id().to_string()])
        .status()?;
    assert!(status.success());
    let handed = until("the standby takes over", Duration::from_secs(14), async || {
        holder(&client).await.is_some_and(|h| h != leader)
    })
    .await;
    println!(
        "hand-over after SIGTERM: {:?} (lease duration 15 s)",
        stopped.elapsed()
    );
    assert!(handed < Duration::from_secs(15), "released, not expired");
    let exit = tokio::task::spawn_blocking(move || first.wait()).await??;
    assert!(exit.success(), "the stopped leader exits 0: {exit}");

    second.kill()?;
    second.wait()?;
    server.shutdown().await;
    Ok(())
}
