//! The `/metrics` endpoint on `--metrics-bind-address` (Go-style address; `0` disables it), over TLS with
//! authorised scrapes under `--metrics-secure` (see [`super::secure`]).

use std::net::SocketAddr;

use axum::{Router, http::header, response::IntoResponse, routing::get};
use tokio_util::sync::CancellationToken;

use super::secure::SecureSettings;
use crate::listen::{parse_go_address, serve_router};

/// The OpenMetrics content type Prometheus negotiates.
const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Why the metrics server could not start.
#[derive(Debug, thiserror::Error)]
pub enum MetricsError {
    /// The address is not `host:port`, `:port` or `0`.
    #[error("invalid --metrics-bind-address {0:?}")]
    Address(String),
    /// `--metrics-secure`: the serving certificate or TLS configuration is unusable.
    #[error(transparent)]
    Secure(#[from] super::secure::SecureError),
    /// The address could not be bound.
    #[error("binding the metrics address {address}")]
    Bind {
        /// The address.
        address: SocketAddr,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}

async fn metrics() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, CONTENT_TYPE)], super::global().encode())
}

/// Parses `--metrics-bind-address`; `None` when disabled.
pub fn bind_address(text: &str) -> Result<Option<SocketAddr>, MetricsError> {
    parse_go_address(text).map_err(|_| MetricsError::Address(text.to_owned()))
}

/// Serves `/metrics` on `address` until `shutdown` is cancelled; returns the bound address.
pub async fn serve(address: SocketAddr, shutdown: CancellationToken) -> Result<SocketAddr, MetricsError> {
    serve_router(address, router(), shutdown, "metrics server")
        .await
        .map_err(|source| MetricsError::Bind { address, source })
}

/// Serves `/metrics` over TLS on `address`, each scrape authorised through the API server (`--metrics-secure`),
/// until `shutdown` is cancelled; returns the bound address.
pub async fn serve_secure(
    address: SocketAddr,
    settings: SecureSettings,
    shutdown: CancellationToken,
) -> Result<SocketAddr, MetricsError> {
    super::secure::serve(address, router(), settings, shutdown).await
}

fn router() -> Router {
    Router::new().route("/metrics", get(metrics))
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;

    #[tokio::test]
    async fn metrics_are_served_as_openmetrics_text() {
        super::super::global().record_plugin_set_swap(true);
        let token = CancellationToken::new();
        let bound = serve("127.0.0.1:0".parse().unwrap(), token.clone())
            .await
            .unwrap();
        let mut stream = tokio::net::TcpStream::connect(bound).await.unwrap();
        stream
            .write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .await
            .unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).await.unwrap();
        assert!(response.starts_with("HTTP/1.1 200"), "{response}");
        assert!(response.contains("application/openmetrics-text"), "{response}");
        assert!(response.contains("platform_mesh_operator_plugin_set_swaps_total{result=\"success\"}"));
        token.cancel();
    }

    #[test]
    fn zero_disables_and_a_port_binds_every_interface() {
        assert_eq!(bind_address("0").unwrap(), None);
        assert_eq!(
            bind_address(":9090").unwrap(),
            Some("0.0.0.0:9090".parse().unwrap())
        );
        assert!(matches!(bind_address("nope"), Err(MetricsError::Address(_))));
    }
}
