//! `embedded-apiserver`: runs the embedded Kubernetes + kcp API server until SIGTERM or SIGINT.
//!
//! Prints exactly one line, `ready <url>`, on stdout once it serves requests.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use apiserver::ServerConfig;
use apiserver::sim::SimConfig;
use clap::Parser;
use tokio::signal::unix::{SignalKind, signal};

/// Command-line flags.
#[derive(Parser, Debug)]
#[command(
    name = "embedded-apiserver",
    about = "Embedded Kubernetes + kcp compatible API server (envtest)"
)]
struct Args {
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    /// Write a kubeconfig here (contexts `embedded` and `kcp-root`).
    #[arg(long)]
    kubeconfig: Option<PathBuf>,
    /// Do not start the simulated controllers.
    #[arg(long)]
    no_simulators: bool,
    /// Load state from this file at start (if present) and save it on shutdown.
    #[arg(long)]
    snapshot: Option<PathBuf>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    let config = ServerConfig {
        listen: args.listen,
        snapshot: args.snapshot,
        simulators: if args.no_simulators {
            SimConfig::none()
        } else {
            SimConfig::default()
        },
        ..ServerConfig::default()
    };
    let mut term = signal(SignalKind::terminate()).context("installing the SIGTERM handler")?;
    let server = apiserver::start(config)
        .await
        .context("starting the embedded API server")?;
    if let Some(path) = &args.kubeconfig {
        server
            .write_kubeconfig(path)
            .with_context(|| format!("writing kubeconfig {}", path.display()))?;
    }
    println!("ready {}", server.url());
    tokio::select! {
        _ = term.recv() => {}
        r = tokio::signal::ctrl_c() => r.context("waiting for SIGINT")?,
    }
    server.shutdown().await;
    Ok(())
}
