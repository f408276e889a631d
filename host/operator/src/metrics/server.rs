//! The `/metrics` endpoint on `--metrics-bind-address` (Go-style address; `0` disables it).

use std::net::SocketAddr;

use axum::{Router, http::header, response::IntoResponse, routing::get};
use tokio_util::sync::CancellationToken;

use crate::listen::{parse_go_address, serve_router};

/// The OpenMetrics content type Prometheus negotiates.
const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Why the metrics server could not start.
#[derive(Debug, thiserror::Error)]
pub enum MetricsError {
    /// The address is not `host:port`, `:port` or `0`.
    #[error("invalid --metrics-bind-address {0:?}")]
    Address(String),
    /// `--metrics-secure` asks for HTTPS, which needs serving certificates this build does not manage.
    #[error(
        "--metrics-secure is not supported: serve /metrics over HTTP and protect it with a NetworkPolicy, \
         or terminate TLS in a sidecar"
    )]
    SecureUnsupported,
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
pub fn bind_address(text: &str, secure: bool) -> Result<Option<SocketAddr>, MetricsError> {
    let address = parse_go_address(text).map_err(|_| MetricsError::Address(text.to_owned()))?;
    if address.is_some() && secure {
        return Err(MetricsError::SecureUnsupported);
    }
    Ok(address)
}

/// Serves `/metrics` on `address` until `shutdown` is cancelled; returns the bound address.
pub async fn serve(address: SocketAddr, shutdown: CancellationToken) -> Result<SocketAddr, MetricsError> {
    let app = Router::new().route("/metrics", get(metrics));
    serve_router(address, app, shutdown, "metrics server")
        .await
        .map_err(|source| MetricsError::Bind { address, source })
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
    fn secure_metrics_are_refused_clearly_and_zero_disables() {
        assert!(matches!(
            bind_address(":9090", true),
            Err(MetricsError::SecureUnsupported)
        ));
        assert_eq!(bind_address("0", true).unwrap(), None);
        assert_eq!(
            bind_address(":9090", false).unwrap(),
            Some("0.0.0.0:9090".parse().unwrap())
        );
    }
}
