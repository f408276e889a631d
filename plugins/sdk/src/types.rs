//! Plain Rust mirrors of the WIT types, usable natively (tests) and in wasm alike.

use std::fmt;

/// The cluster a call is addressed to.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Target {
    /// The cluster the operator watches (PlatformMesh, secrets, kcp operator objects).
    Runtime,
    /// The cluster where Flux or Argo CD run.
    Infra,
    /// A kcp workspace by path, e.g. `root:orgs`.
    Kcp(String),
    /// A cluster reached through the kubeconfig under `key` in Secret `namespace`/`name` of the runtime cluster.
    Remote {
        namespace: String,
        name: String,
        key: String,
    },
}

impl Target {
    /// A kcp workspace target.
    pub fn kcp(path: impl Into<String>) -> Self {
        Target::Kcp(path.into())
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Runtime => f.write_str("runtime"),
            Target::Infra => f.write_str("infra"),
            Target::Kcp(path) => write!(f, "kcp:{path}"),
            Target::Remote { namespace, name, .. } => write!(f, "remote:{namespace}/{name}"),
        }
    }
}

/// A Kubernetes group, version and kind. `group` is empty for the core group.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Gvk {
    pub group: String,
    pub version: String,
    pub kind: String,
}

impl Gvk {
    /// Builds a GVK from its parts.
    pub fn new(group: impl Into<String>, version: impl Into<String>, kind: impl Into<String>) -> Self {
        Gvk {
            group: group.into(),
            version: version.into(),
            kind: kind.into(),
        }
    }

    /// Parses an `apiVersion` (`v1` or `apps/v1`) plus a kind.
    pub fn from_api_version(api_version: &str, kind: impl Into<String>) -> Self {
        match api_version.split_once('/') {
            Some((group, version)) => Gvk::new(group, version, kind),
            None => Gvk::new("", api_version, kind),
        }
    }

    /// The `apiVersion` string: `version` for the core group, `group/version` otherwise.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// Names one object of this kind.
    pub fn object(&self, namespace: Option<&str>, name: impl Into<String>) -> ObjectRef {
        ObjectRef {
            gvk: self.clone(),
            namespace: namespace.map(str::to_owned),
            name: name.into(),
        }
    }
}

/// Names one object.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjectRef {
    pub gvk: Gvk,
    /// `None` for cluster-scoped kinds.
    pub namespace: Option<String>,
    pub name: String,
}

impl ObjectRef {
    /// Reads the reference of an object given as JSON (apiVersion, kind, metadata.namespace/name).
    pub fn of(object: &serde_json::Value) -> Option<ObjectRef> {
        let api_version = object.get("apiVersion")?.as_str()?;
        let kind = object.get("kind")?.as_str()?;
        let meta = object.get("metadata")?;
        let name = meta.get("name")?.as_str()?;
        let namespace = meta
            .get("namespace")
            .and_then(|n| n.as_str())
            .filter(|n| !n.is_empty());
        Some(Gvk::from_api_version(api_version, kind).object(namespace, name))
    }
}

impl fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.namespace {
            Some(ns) => write!(f, "{} {}/{}", self.gvk.kind, ns, self.name),
            None => write!(f, "{} {}", self.gvk.kind, self.name),
        }
    }
}

/// Why a cluster call failed; mirrors the WIT `error` variant. Each case carries the server's or host's message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClusterError {
    /// The object or its kind does not exist.
    NotFound(String),
    /// `create` of an object that exists.
    AlreadyExists(String),
    /// The plugin's permissions or the API server refused the call.
    Forbidden(String),
    /// Stale resourceVersion or a server-side-apply field conflict.
    Conflict(String),
    /// The request or object was invalid, or the JSON malformed.
    Invalid(String),
    /// The API server could not be reached or asked to retry.
    Unavailable(String),
    /// Anything else.
    Other(String),
}

impl ClusterError {
    /// The message without the kind.
    pub fn message(&self) -> &str {
        match self {
            ClusterError::NotFound(m)
            | ClusterError::AlreadyExists(m)
            | ClusterError::Forbidden(m)
            | ClusterError::Conflict(m)
            | ClusterError::Invalid(m)
            | ClusterError::Unavailable(m)
            | ClusterError::Other(m) => m,
        }
    }

    /// A short, fixed name of the kind (`not-found`, ...).
    pub fn kind(&self) -> &'static str {
        match self {
            ClusterError::NotFound(_) => "not-found",
            ClusterError::AlreadyExists(_) => "already-exists",
            ClusterError::Forbidden(_) => "forbidden",
            ClusterError::Conflict(_) => "conflict",
            ClusterError::Invalid(_) => "invalid",
            ClusterError::Unavailable(_) => "unavailable",
            ClusterError::Other(_) => "other",
        }
    }
}

impl fmt::Display for ClusterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind(), self.message())
    }
}

impl std::error::Error for ClusterError {}

/// How to server-side apply.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApplyOptions {
    /// The field manager that owns the applied fields.
    pub field_manager: String,
    /// Take over fields owned by other managers instead of failing with a conflict.
    pub force: bool,
}

impl ApplyOptions {
    /// Forced apply with `field_manager` (the operator owns the objects it applies).
    pub fn force(field_manager: impl Into<String>) -> Self {
        ApplyOptions {
            field_manager: field_manager.into(),
            force: true,
        }
    }
}

/// The kind of a patch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PatchKind {
    /// RFC 7386 JSON merge patch.
    Merge,
    /// RFC 6902 JSON patch.
    Json,
}

/// Which template function map to render with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Funcs {
    /// Go builtins plus `default`, `toYaml`, `nindent` and the operator's `and`/`or`/`not`.
    Deployment,
    /// Go builtins plus `indent`.
    Manifest,
}

/// Deployment technology used to skip files when rendering a directory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Technology {
    Fluxcd,
    Argocd,
}

/// One rendered document.
#[derive(Clone, Debug, PartialEq)]
pub struct Document {
    /// The file it came from, relative to the workspace directory.
    pub source: String,
    /// Position within that file's output, from 0.
    pub index: u32,
    /// The object.
    pub object: serde_json::Value,
}

/// Why rendering failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RenderError {
    /// File or template name.
    pub source: String,
    pub line: Option<u32>,
    pub column: Option<u32>,
    pub message: String,
}

impl fmt::Display for RenderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(column) = self.column {
                write!(f, ":{column}")?;
            }
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for RenderError {}

/// A Helm values path and the image version to write there.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImageVersion {
    pub path: String,
    pub version: String,
}

/// Log level of [`crate::Host::log`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum LogLevel {
    Trace,
    Debug,
    Info,
    Warn,
    Error,
}
