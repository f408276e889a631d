//! Serving small HTTP endpoints (probes, metrics) on Go-style listen addresses (a leaf module).

use std::net::SocketAddr;

use axum::Router;
use tokio_util::sync::CancellationToken;

/// Parses a Go-style listen address: `:8090` means every interface; `0` or empty disables the server (`None`).
pub fn parse_go_address(text: &str) -> Result<Option<SocketAddr>, std::net::AddrParseError> {
    match text {
        "" | "0" => Ok(None),
        t if t.starts_with(':') => format!("0.0.0.0{t}").parse().map(Some),
        t => t.parse().map(Some),
    }
}

/// Binds `address` and serves `app` in the background until `shutdown` is cancelled; returns the bound address.
/// `what` names the server in the log line if it stops with an error.
pub(crate) async fn serve_router(
    address: SocketAddr,
    app: Router,
    shutdown: CancellationToken,
    what: &'static str,
) -> std::io::Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind(address).await?;
    let bound = listener.local_addr()?;
    tokio::spawn(async move {
        let served = axum::serve(listener, app)
            .with_graceful_shutdown(shutdown.cancelled_owned())
            .await;
        if let Err(error) = served {
            tracing::warn!(%error, "{what} stopped");
        }
    });
    Ok(bound)
}
