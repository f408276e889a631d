//! `run --embedded` in process: the samples come up against the embedded API server with every simulator and
//! the sample PlatformMesh, ManagedProvider and Provider reach Ready with the plugins that exist; a kubeconfig is
//! written where asked.

use std::time::Duration;

use clap::Parser;
use platform_mesh_operator::{cli::EmbeddedArgs, config::OperatorConfig, embedded};
use tokio_util::sync::CancellationToken;

#[derive(Parser)]
struct Flags {
    #[command(flatten)]
    config: OperatorConfig,
}

#[tokio::test]
async fn embedded_run_reaches_ready_and_writes_kubeconfig() {
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    let flags = Flags::try_parse_from(["test", "--kubeconfig", kubeconfig.to_str().unwrap()]).unwrap();
    let args = EmbeddedArgs {
        embedded: true,
        verbose: false,
        serve: false,
        timeout: Duration::from_secs(240),
    };
    let mut out = Vec::new();
    embedded::run_to(flags.config, &args, CancellationToken::new(), &mut out)
        .await
        .expect("the samples are Ready");
    let out = String::from_utf8(out).unwrap();
    assert!(out.contains("All Ready after"), "{out}");
    assert!(
        out.lines().all(|line| line.chars().count() <= embedded::WIDTH),
        "{out}"
    );
    let text = std::fs::read_to_string(&kubeconfig).unwrap();
    assert!(text.contains("kcp-root"), "{text}");
}

#[tokio::test]
async fn embedded_run_times_out_with_a_clear_error() {
    // A zero budget expires before the first reconcile can finish.
    let flags = Flags::try_parse_from(["test"]).unwrap();
    let args = EmbeddedArgs {
        embedded: true,
        verbose: false,
        serve: false,
        timeout: Duration::ZERO,
    };
    let error = embedded::run_to(flags.config, &args, CancellationToken::new(), &mut Vec::new())
        .await
        .unwrap_err();
    assert!(error.to_string().contains("was not Ready after"), "{error}");
}
