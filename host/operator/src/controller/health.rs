//! Health probes (`--health-probe-bind-address`): `/healthz` and `/readyz`, plain pings like upstream's, except
//! that `/readyz` answers 503 while a [`NotReady`] guard is held (the first plugin set waiting for a source
//! that is unreachable).

use std::{
    net::SocketAddr,
    sync::atomic::{AtomicUsize, Ordering},
};

use axum::{Router, http::StatusCode, routing::get};

/// How many [`NotReady`] guards are held in this process.
static NOT_READY: AtomicUsize = AtomicUsize::new(0);

/// While held, `/readyz` answers 503.
#[must_use = "the operator is not ready only while the guard is held"]
pub struct NotReady(());

impl NotReady {
    /// Reports not-ready until the guard is dropped.
    pub fn hold() -> Self {
        NOT_READY.fetch_add(1, Ordering::SeqCst);
        NotReady(())
    }
}

impl Drop for NotReady {
    fn drop(&mut self) {
        NOT_READY.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Whether no [`NotReady`] guard is held.
pub fn is_ready() -> bool {
    NOT_READY.load(Ordering::SeqCst) == 0
}

async fn readyz() -> (StatusCode, &'static str) {
    if is_ready() {
        (StatusCode::OK, "ok")
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            "starting: plugins not loaded yet",
        )
    }
}
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
    crate::listen::parse_go_address(text).map_err(|_| HealthError::Address(text.to_owned()))
}

/// Serves the probes on `address` until `shutdown` is cancelled; returns the bound address.
pub async fn serve(address: SocketAddr, shutdown: CancellationToken) -> Result<SocketAddr, HealthError> {
    let app = Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz));
    crate::listen::serve_router(address, app, shutdown, "health probe server")
        .await
        .map_err(|source| HealthError::Bind { address, source })
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

    async fn get(bound: SocketAddr, path: &str) -> String {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut stream = tokio::net::TcpStream::connect(bound).await.unwrap();
        let request = format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).await.unwrap();
        response
    }

    #[tokio::test]
    async fn probes_answer_ok_and_readiness_follows_the_guards() {
        let token = CancellationToken::new();
        let bound = serve("127.0.0.1:0".parse().unwrap(), token.clone())
            .await
            .unwrap();
        let response = get(bound, "/readyz").await;
        assert!(response.starts_with("HTTP/1.1 200"), "{response}");
        let guard = NotReady::hold();
        let response = get(bound, "/readyz").await;
        assert!(response.starts_with("HTTP/1.1 503"), "{response}");
        let response = get(bound, "/healthz").await;
        assert!(
            response.starts_with("HTTP/1.1 200"),
            "alive while not ready: {response}"
        );
        drop(guard);
        let response = get(bound, "/readyz").await;
        assert!(response.starts_with("HTTP/1.1 200"), "{response}");
        token.cancel();
    }
}
