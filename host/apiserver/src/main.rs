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

/// The warning printed when the server listens beyond loopback: requests without a token are the admin, so anyone
/// who reaches the address can read and change everything it stores.
fn exposure_warning(listen: &SocketAddr) -> Option<String> {
    (!listen.ip().is_loopback()).then(|| {
        format!(
            "warning: listening on {listen}, which is not a loopback address: requests without a bearer token are \
             served as the unauthenticated admin, so anyone who can reach this address can read and change every \
             object (Secrets included); listen on 127.0.0.1 unless this network is trusted"
        )
    })
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
    if let Some(warning) = exposure_warning(&args.listen) {
        eprintln!("{warning}");
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_loopback_listen_addresses_warn_and_loopback_ones_do_not() {
        for exposed in ["0.0.0.0:6443", "[::]:0", "10.1.2.3:8080"] {
            let warning = exposure_warning(&exposed.parse().unwrap()).expect(exposed);
            assert!(warning.starts_with("warning: listening on"), "{warning}");
            assert!(warning.contains("unauthenticated admin"), "{warning}");
        }
        for private in ["127.0.0.1:0", "127.0.0.2:6443", "[::1]:0"] {
            assert_eq!(exposure_warning(&private.parse().unwrap()), None, "{private}");
        }
    }
}
