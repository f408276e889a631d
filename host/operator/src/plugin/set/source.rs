//! Where a plugin's wasm comes from, and fetching it:
//!
//! - `file://<path>`: a file; a relative path is resolved against `--plugins-dir` (`file://wait.wasm`), an
//!   absolute one as is (`file:///operator/plugins/wait.wasm`).
//! - `configmap://<namespace>/<name>/<key>`: a `binaryData` key of a ConfigMap in the runtime cluster (small
//!   plugins; ConfigMaps are limited to 1 MiB).
//! - `oci://<registry>/<repository>:<tag>[@sha256:<manifest digest>]`: a wasm artifact in an OCI registry
//!   (see [`super::oci`]).
//!
//! Fetching never trusts the bytes: [`verify_digest`] compares them with the declared sha256 before anything
//! compiles them.

use std::{
    fmt,
    path::{Path, PathBuf},
};

use k8s_openapi::api::core::v1::ConfigMap;
use kube::{Api, Client};
use sha2::{Digest, Sha256};

/// A parsed plugin source.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// A file, absolute or relative to the plugins directory.
    File(PathBuf),
    /// A `binaryData` key of a ConfigMap in the runtime cluster.
    ConfigMap {
        /// Its namespace.
        namespace: String,
        /// Its name.
        name: String,
        /// The `binaryData` key.
        key: String,
    },
    /// An OCI artifact, as the reference after `oci://` (`registry/repo:tag[@sha256:…]`).
    Oci(String),
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::File(path) => write!(f, "file://{}", path.display()),
            Source::ConfigMap { namespace, name, key } => write!(f, "configmap://{namespace}/{name}/{key}"),
            Source::Oci(reference) => write!(f, "oci://{reference}"),
        }
    }
}

impl Source {
    /// Parses a source URL; the error says what is wrong with it.
    pub fn parse(text: &str) -> Result<Self, String> {
        if let Some(path) = text.strip_prefix("file://") {
            if path.is_empty() || !path.ends_with(".wasm") {
                return Err(format!("{text:?}: a file source names a .wasm file"));
            }
            return Ok(Source::File(PathBuf::from(path)));
        }
        if let Some(rest) = text.strip_prefix("configmap://") {
            let parts: Vec<&str> = rest.split('/').collect();
            return match parts.as_slice() {
                [namespace, name, key] if [namespace, name, key].iter().all(|p| !p.is_empty()) => {
                    Ok(Source::ConfigMap {
                        namespace: (*namespace).into(),
                        name: (*name).into(),
                        key: (*key).into(),
                    })
                }
                _ => Err(format!(
                    "{text:?}: expected configmap://<namespace>/<name>/<binaryData key>"
                )),
            };
        }
        if let Some(reference) = text.strip_prefix("oci://") {
            super::oci::parse_reference(reference).map_err(|e| format!("{text:?}: {e}"))?;
            return Ok(Source::Oci(reference.to_owned()));
        }
        Err(format!(
            "{text:?}: unknown scheme (expected file://, configmap:// or oci://)"
        ))
    }

    /// `file://`, `configmap://` or `oci://`.
    pub fn scheme(&self) -> &'static str {
        match self {
            Source::File(_) => "file://",
            Source::ConfigMap { .. } => "configmap://",
            Source::Oci(_) => "oci://",
        }
    }

    /// Whether a digest must be declared: everything that does not ship with the operator.
    pub fn needs_digest(&self) -> bool {
        !matches!(self, Source::File(_))
    }

    /// The file stem a plugin gets in messages and logs when it is loaded from this source: the file's stem,
    /// the ConfigMap key without `.wasm`, or the repository's last segment.
    pub fn stem(&self) -> String {
        let trimmed = |s: &str| s.strip_suffix(".wasm").unwrap_or(s).to_owned();
        match self {
            Source::File(path) => path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default(),
            Source::ConfigMap { key, .. } => trimmed(key),
            Source::Oci(reference) => {
                let without_digest = reference.split('@').next().unwrap_or(reference);
                let last = without_digest.rsplit('/').next().unwrap_or(without_digest);
                trimmed(last.split(':').next().unwrap_or(last))
            }
        }
    }
}

/// Why fetching a plugin failed.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// A file source could not be read.
    #[error("reading {path}")]
    File {
        /// The resolved path.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The ConfigMap could not be read.
    #[error("reading ConfigMap {namespace}/{name}")]
    ConfigMapRead {
        /// Its namespace.
        namespace: String,
        /// Its name.
        name: String,
        /// The cause.
        #[source]
        source: kube::Error,
    },
    /// The ConfigMap or its key does not exist.
    #[error("ConfigMap {namespace}/{name} has no binaryData key {key}")]
    ConfigMapKey {
        /// Its namespace.
        namespace: String,
        /// Its name.
        name: String,
        /// The missing key.
        key: String,
    },
    /// Pulling from the registry failed.
    #[error(transparent)]
    Oci(#[from] super::oci::OciError),
    /// The bytes do not have the declared digest.
    #[error("digest mismatch: declared sha256 {declared}, fetched wasm has sha256 {actual}")]
    Digest {
        /// From the configuration.
        declared: String,
        /// Of the fetched bytes.
        actual: String,
    },
}

impl FetchError {
    /// Whether fetching may succeed later unchanged: the API server or the registry unreachable. A missing file,
    /// a missing ConfigMap key, a wrong digest or a malformed artifact stays wrong until someone fixes it.
    pub fn is_transient(&self) -> bool {
        match self {
            FetchError::ConfigMapRead { source, .. } => crate::errors::is_transient(source),
            FetchError::Oci(error) => error.is_transient(),
            FetchError::File { .. } | FetchError::ConfigMapKey { .. } | FetchError::Digest { .. } => false,
        }
    }
}

/// The resolved path of a file source.
pub fn resolve_file(path: &Path, plugins_dir: &Path) -> PathBuf {
    if path.is_absolute() {
        path.to_owned()
    } else {
        plugins_dir.join(path)
    }
}

/// Fetches the wasm of `source`. `runtime` reads ConfigMap sources; `None` (offline verification) makes them
/// unreadable.
pub async fn fetch(
    source: &Source,
    plugins_dir: &Path,
    runtime: Option<&Client>,
) -> Result<Vec<u8>, FetchError> {
    match source {
        Source::File(path) => {
            let path = resolve_file(path, plugins_dir);
            tokio::fs::read(&path)
                .await
                .map_err(|source| FetchError::File { path, source })
        }
        Source::ConfigMap { namespace, name, key } => {
            let missing = || FetchError::ConfigMapKey {
                namespace: namespace.clone(),
                name: name.clone(),
                key: key.clone(),
            };
            let client = runtime.ok_or_else(missing)?;
            let api: Api<ConfigMap> = Api::namespaced(client.clone(), namespace);
            let found = api
                .get_opt(name)
                .await
                .map_err(|source| FetchError::ConfigMapRead {
                    namespace: namespace.clone(),
                    name: name.clone(),
                    source,
                })?;
            let bytes = found
                .and_then(|cm| cm.binary_data)
                .and_then(|mut data| data.remove(key))
                .ok_or_else(missing)?;
            Ok(bytes.0)
        }
        Source::Oci(reference) => Ok(super::oci::pull(reference).await?),
    }
}

/// Lower-case hex sha256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Checks `bytes` against the declared digest (lower-case hex); `None` declared passes.
pub fn verify_digest(bytes: &[u8], declared: Option<&str>) -> Result<(), FetchError> {
    let Some(declared) = declared else {
        return Ok(());
    };
    let actual = sha256_hex(bytes);
    if actual == declared {
        Ok(())
    } else {
        Err(FetchError::Digest {
            declared: declared.to_owned(),
            actual,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_each_scheme_and_rejects_others() {
        assert_eq!(
            Source::parse("file://wait.wasm").unwrap(),
            Source::File("wait.wasm".into())
        );
        assert_eq!(
            Source::parse("file:///operator/plugins/wait.wasm").unwrap(),
            Source::File("/operator/plugins/wait.wasm".into())
        );
        assert_eq!(
            Source::parse("configmap://ns/plugins/wait.wasm").unwrap(),
            Source::ConfigMap {
                namespace: "ns".into(),
                name: "plugins".into(),
                key: "wait.wasm".into()
            }
        );
        let oci = Source::parse("oci://127.0.0.1:5000/plugins/wait:0.2.0").unwrap();
        assert_eq!(oci, Source::Oci("127.0.0.1:5000/plugins/wait:0.2.0".into()));
        assert_eq!(oci.stem(), "wait");
        assert!(oci.needs_digest());
        for bad in [
            "http://x/wait.wasm",
            "file://",
            "configmap://ns/name",
            "configmap://ns//key",
            "oci://",
        ] {
            assert!(Source::parse(bad).is_err(), "{bad} should be rejected");
        }
    }

    #[test]
    fn relative_files_resolve_against_the_plugins_dir() {
        let dir = Path::new("/plugins");
        assert_eq!(
            resolve_file(Path::new("wait.wasm"), dir),
            Path::new("/plugins/wait.wasm")
        );
        assert_eq!(
            resolve_file(Path::new("/x/wait.wasm"), dir),
            Path::new("/x/wait.wasm")
        );
    }

    #[test]
    fn digest_verification_names_both_digests() {
        let digest = sha256_hex(b"wasm");
        assert!(verify_digest(b"wasm", Some(&digest)).is_ok());
        assert!(verify_digest(b"wasm", None).is_ok());
        let err = verify_digest(b"other", Some(&digest)).unwrap_err().to_string();
        assert!(
            err.contains(&digest) && err.contains(&sha256_hex(b"other")),
            "{err}"
        );
    }
}
