//! A tiny in-process OCI registry on loopback (the read side of the distribution API that `oci-client` uses):
//! `GET /v2/`, `GET|HEAD /v2/<repository>/manifests/<tag or digest>` and `GET /v2/<repository>/blobs/<digest>`.
//! Tests push wasm plugins into it as single-layer artifacts, the way `wkg oci push` lays them out.

use std::{
    collections::HashMap,
    net::SocketAddr,
    sync::{Arc, Mutex},
};

use axum::{
    Router,
    body::Body,
    http::{Method, Request, StatusCode, header},
    response::Response,
};
use serde_json::json;
use sha2::{Digest, Sha256};

const MANIFEST_TYPE: &str = "application/vnd.oci.image.manifest.v1+json";

#[derive(Default)]
struct Store {
    /// digest → bytes, for blobs and manifests alike.
    blobs: HashMap<String, Vec<u8>>,
    /// `repository:tag` → manifest digest.
    tags: HashMap<String, String>,
}

/// A running registry; dropped with the test's runtime.
pub struct Registry {
    addr: SocketAddr,
    store: Arc<Mutex<Store>>,
}

fn digest(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

fn respond(status: StatusCode, content_type: &str, digest: Option<&str>, body: Vec<u8>) -> Response {
    let mut builder = Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, content_type)
        .header(header::CONTENT_LENGTH, body.len());
    if let Some(digest) = digest {
        builder = builder.header("Docker-Content-Digest", digest);
    }
    builder.body(Body::from(body)).expect("valid response")
}

fn not_found() -> Response {
    respond(
        StatusCode::NOT_FOUND,
        "application/json",
        None,
        br#"{"errors":[{"code":"NOT_FOUND"}]}"#.to_vec(),
    )
}

fn handle(store: &Store, method: &Method, path: &str) -> Response {
    if path == "/v2/" || path == "/v2" {
        return respond(StatusCode::OK, "application/json", None, b"{}".to_vec());
    }
    let Some(rest) = path.strip_prefix("/v2/") else {
        return not_found();
    };
    if let Some((repository, reference)) = rest.rsplit_once("/manifests/") {
        let digest = if reference.starts_with("sha256:") {
            Some(reference.to_owned())
        } else {
            store.tags.get(&format!("{repository}:{reference}")).cloned()
        };
        return match digest.and_then(|d| store.blobs.get(&d).map(|b| (d, b))) {
            Some((digest, bytes)) => {
                let body = if method == Method::HEAD {
                    Vec::new()
                } else {
                    bytes.clone()
                };
                let mut response = respond(StatusCode::OK, MANIFEST_TYPE, Some(&digest), body);
                response
                    .headers_mut()
                    .insert(header::CONTENT_LENGTH, bytes.len().into());
                response
            }
            None => not_found(),
        };
    }
    if let Some((_, digest)) = rest.rsplit_once("/blobs/") {
        return match store.blobs.get(digest) {
            Some(bytes) => respond(
                StatusCode::OK,
                "application/octet-stream",
                Some(digest),
                bytes.clone(),
            ),
            None => not_found(),
        };
    }
    not_found()
}

impl Registry {
    /// Starts the registry on an ephemeral loopback port.
    pub async fn start() -> Registry {
        Self::start_on("127.0.0.1:0".parse().expect("loopback address")).await
    }

    /// Starts the registry on `addr` (a registry that comes up where a plugin source pointed in vain).
    pub async fn start_on(addr: SocketAddr) -> Registry {
        let store = Arc::new(Mutex::new(Store::default()));
        let shared = store.clone();
        let app = Router::new().fallback(move |request: Request<Body>| {
            let store = shared.clone();
            async move {
                let store = store.lock().expect("registry lock");
                handle(&store, request.method(), request.uri().path())
            }
        });
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .expect("bind the registry");
        let addr = listener.local_addr().expect("registry address");
        tokio::spawn(async move { axum::serve(listener, app).await });
        Registry { addr, store }
    }

    /// `127.0.0.1:<port>`.
    pub fn host(&self) -> String {
        self.addr.to_string()
    }

    /// Pushes `wasm` as `repository:tag` and returns the `oci://` source of it.
    pub fn push(&self, repository: &str, tag: &str, wasm: &[u8]) -> String {
        let config = br#"{"architecture":"wasm","os":"wasip2"}"#.to_vec();
        let manifest = json!({
            "schemaVersion": 2,
            "mediaType": MANIFEST_TYPE,
            "artifactType": "application/vnd.wasm.component.v1+wasm",
            "config": {"mediaType": "application/vnd.wasm.config.v1+json", "digest": digest(&config), "size": config.len()},
            "layers": [{"mediaType": "application/vnd.wasm.content.layer.v1+wasm", "digest": digest(wasm), "size": wasm.len()}],
        });
        let manifest = serde_json::to_vec(&manifest).expect("manifest JSON");
        let mut store = self.store.lock().expect("registry lock");
        let manifest_digest = digest(&manifest);
        store.blobs.insert(digest(&config), config);
        store.blobs.insert(digest(wasm), wasm.to_vec());
        store.blobs.insert(manifest_digest.clone(), manifest);
        store.tags.insert(format!("{repository}:{tag}"), manifest_digest);
        format!("oci://{}/{repository}:{tag}", self.host())
    }
}
