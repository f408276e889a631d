//! Health probes (`--health-probe-bind-address`): `/healthz` and `/readyz`, both plain pings like upstream's.

use std::net::SocketAddr;

use axum::{Router, routing::get};
use tokio_util::sync::CancellationToken;

/// Why the probe server could not start.
#[derive(Debug, thiserror::Error)]
pub enum HealthError {
    /// The address is not `host:port` or `:port`.
    #[error("invalid --health-probe-bind-address {0:?}")]
    Address(String),
    /// The address could not be bound.
    #[error("binding the health probe address {address}")]
    Bind {
        /// The address.
        address: SocketAddr,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}

/// Parses a Go-style listen address: `:8090` means every interface; `0` or empty disables the server.
pub fn parse_bind_address(text: &str) -> Result<Option<SocketAddr>, HealthError> {
    match text {
        "" | "0" => Ok(None),
        t if t.starts_with(':') => format!("0.0.0.0{t}").parse().map(Some),
        t => t.parse().map(Some),
    }
    .map_err(|_| HealthError::Address(text.to_owned()))
}

/// Serves the probes on `address` until `shutdown` is cancelled; returns the bound address.
pub async fn serve(address: SocketAddr, shutdown: CancellationToken) -> Result<SocketAddr, HealthError> {
    let app = Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(|| async { "ok" }));
    serve_router(address, app, shutdown, "health probe server")
        .await
        .map_err(|source| HealthError::Bind { address, source })
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_style_addresses_parse() {
        assert_eq!(
            parse_bind_address(":8090").unwrap(),
            Some("0.0.0.0:8090".parse().unwrap())
        );
        assert_eq!(
            parse_bind_address("127.0.0.1:1").unwrap(),
            Some("127.0.0.1:1".parse().unwrap())
        );
        assert_eq!(parse_bind_address("0").unwrap(), None);
        assert!(parse_bind_address("nonsense").is_err());
    }

    #[tokio::test]
    async fn probes_answer_ok() {
        let token = CancellationToken::new();
        let bound = serve("127.0.0.1:0".parse().unwrap(), token.clone())
            .await
            .unwrap();
        let mut stream = tokio::net::TcpStream::connect(bound).await.unwrap();
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        stream
            .write_all(b"GET /readyz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .await
            .unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).await.unwrap();
        assert!(response.starts_with("HTTP/1.1 200"), "{response}");
        token.cancel();
    }
}
