//! Pulling a plugin from an OCI registry with `oci-client`: the artifact's manifest must hold exactly one wasm
//! layer (`application/vnd.wasm.content.layer.v1+wasm`, as `wkg oci push` writes, or `application/wasm`, as
//! `oras push --artifact-type` setups often use).
//!
//! Registries on a loopback address are spoken to over plain HTTP (local development, tests); every other
//! registry over HTTPS. Pulls are anonymous. A pull has a bounded time, so an unreachable registry fails the
//! swap instead of holding it forever, and a bounded size ([`MAX_PLUGIN_BYTES`]), checked against the manifest
//! before downloading and again while streaming, so a wrong reference cannot exhaust the operator's memory.

use std::{net::IpAddr, time::Duration};

use oci_client::{
    Client, Reference,
    client::{ClientConfig, ClientProtocol},
    manifest::WASM_LAYER_MEDIA_TYPE,
    secrets::RegistryAuth,
};

/// Layer media types accepted as a plugin.
pub const WASM_MEDIA_TYPES: [&str; 2] = [WASM_LAYER_MEDIA_TYPE, "application/wasm"];

/// The largest plugin accepted from a registry (plugins are typically a few hundred KiB).
pub const MAX_PLUGIN_BYTES: u64 = 64 << 20;

/// Upper bound of one pull, connection set-up included.
const PULL_TIMEOUT: Duration = Duration::from_secs(120);

const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Why a pull failed.
#[derive(Debug, thiserror::Error)]
pub enum OciError {
    /// The reference does not parse.
    #[error("invalid OCI reference {reference:?}")]
    Reference {
        /// The text after `oci://`.
        reference: String,
        /// The cause.
        #[source]
        source: oci_client::ParseError,
    },
    /// The registry could not be reached or refused the pull.
    #[error("pulling oci://{reference}")]
    Pull {
        /// The text after `oci://`.
        reference: String,
        /// The cause.
        #[source]
        source: oci_client::errors::OciDistributionError,
    },
    /// The pull took too long.
    #[error("pulling oci://{reference} did not finish within {timeout:?}")]
    Timeout {
        /// The text after `oci://`.
        reference: String,
        /// The limit.
        timeout: Duration,
    },
    /// The artifact is not a single wasm layer.
    #[error(
        "oci://{reference} holds {layers} layers of types {media_types:?}; a plugin artifact holds exactly one \
         wasm layer ({WASM_LAYER_MEDIA_TYPE} or application/wasm)"
    )]
    Layers {
        /// The text after `oci://`.
        reference: String,
        /// How many it has.
        layers: usize,
        /// Their media types.
        media_types: Vec<String>,
    },
    /// The wasm layer is larger than [`MAX_PLUGIN_BYTES`].
    #[error("oci://{reference} has a wasm layer of {size} bytes, more than the {MAX_PLUGIN_BYTES} accepted")]
    TooLarge {
        /// The text after `oci://`.
        reference: String,
        /// Its (declared or streamed) size.
        size: u64,
    },
    /// Reading the layer failed midway.
    #[error("downloading the wasm layer of oci://{reference}")]
    Download {
        /// The text after `oci://`.
        reference: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}

impl OciError {
    /// Whether the pull may succeed later unchanged (the registry unreachable, slow or failing midway), as
    /// opposed to an artifact that is wrong and stays wrong.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            OciError::Pull { .. } | OciError::Timeout { .. } | OciError::Download { .. }
        )
    }
}

/// Parses the text after `oci://`; it must name a tag or a digest.
pub fn parse_reference(reference: &str) -> Result<Reference, OciError> {
    let parsed: Reference = reference.parse().map_err(|source| OciError::Reference {
        reference: reference.to_owned(),
        source,
    })?;
    Ok(parsed)
}

/// Whether `registry` (`host[:port]`) is a loopback address.
fn is_loopback(registry: &str) -> bool {
    let host = match registry.rsplit_once(':') {
        Some((host, port)) if port.bytes().all(|b| b.is_ascii_digit()) => host,
        _ => registry,
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host == "localhost" || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// rustls needs a process-wide crypto provider for HTTPS registries; ring, like kube's client.
fn install_crypto_provider() {
    // Fails only when a provider is already installed, which is just as good.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// Pulls the wasm bytes of the artifact `reference` (the text after `oci://`).
pub async fn pull(reference: &str) -> Result<Vec<u8>, OciError> {
    let image = parse_reference(reference)?;
    install_crypto_provider();
    let protocol = if is_loopback(image.resolve_registry()) {
        ClientProtocol::Http
    } else {
        ClientProtocol::Https
    };
    let client = Client::new(ClientConfig {
        protocol,
        connect_timeout: Some(CONNECT_TIMEOUT),
        read_timeout: Some(PULL_TIMEOUT),
        ..ClientConfig::default()
    });
    tokio::time::timeout(PULL_TIMEOUT, pull_layer(&client, &image, reference))
        .await
        .map_err(|_| OciError::Timeout {
            reference: reference.to_owned(),
            timeout: PULL_TIMEOUT,
        })?
}

/// Reads the manifest, checks it holds one wasm layer of an acceptable size, and streams that layer in.
async fn pull_layer(client: &Client, image: &Reference, reference: &str) -> Result<Vec<u8>, OciError> {
    use futures::TryStreamExt as _;
    let pull_error = |source| OciError::Pull {
        reference: reference.to_owned(),
        source,
    };
    let (manifest, _digest) = client
        .pull_image_manifest(image, &RegistryAuth::Anonymous)
        .await
        .map_err(pull_error)?;
    let layer = match manifest.layers.as_slice() {
        [layer] if WASM_MEDIA_TYPES.contains(&layer.media_type.as_str()) => layer,
        layers => {
            return Err(OciError::Layers {
                reference: reference.to_owned(),
                layers: layers.len(),
                media_types: layers.iter().map(|l| l.media_type.clone()).collect(),
            });
        }
    };
    let too_large = |size| OciError::TooLarge {
        reference: reference.to_owned(),
        size,
    };
    let declared = u64::try_from(layer.size).unwrap_or(u64::MAX);
    if declared > MAX_PLUGIN_BYTES {
        return Err(too_large(declared));
    }
    let mut stream = client.pull_blob_stream(image, layer).await.map_err(pull_error)?;
    let mut wasm = Vec::with_capacity(usize::try_from(declared).unwrap_or(0));
    while let Some(chunk) = stream.try_next().await.map_err(|source| OciError::Download {
        reference: reference.to_owned(),
        source,
    })? {
        wasm.extend_from_slice(&chunk);
        if wasm.len() as u64 > MAX_PLUGIN_BYTES {
            return Err(too_large(wasm.len() as u64));
        }
    }
    Ok(wasm)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_registries_are_recognised() {
        for registry in ["127.0.0.1:5000", "localhost:5000", "localhost", "[::1]:443"] {
            assert!(is_loopback(registry), "{registry}");
        }
        for registry in ["ghcr.io", "10.0.0.1:5000", "registry.local:5000"] {
            assert!(!is_loopback(registry), "{registry}");
        }
    }

    #[test]
    fn references_need_a_repository() {
        assert!(parse_reference("127.0.0.1:5000/plugins/wait:0.2.0").is_ok());
        assert!(parse_reference("").is_err());
        assert!(parse_reference("UPPER/Case:tag").is_err());
    }
}
