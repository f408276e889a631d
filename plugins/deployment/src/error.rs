//! Why a deployment reconcile failed. Every message names what the user has to fix: the profile ConfigMap, key and
//! line, the template file and line, or the object and cluster.

use std::fmt;

use platform_mesh_plugin_sdk::{ClusterError, ObjectRef, RenderError, Target};

/// A failed step.
#[derive(Debug)]
pub enum Error {
    /// The profile ConfigMap is missing, lacks its key, or its content is invalid. `source` names the ConfigMap
    /// and key (`ConfigMap ns/name key profile.yaml`).
    Profile {
        source: String,
        line: Option<u32>,
        message: String,
    },
    /// A template (file or profile section) failed to render or produced something that is not an object.
    Render(Box<RenderError>),
    /// A cluster call failed: what was done, in which cluster, and the API server's error.
    Cluster(Box<(String, Target, ClusterError)>),
    /// Something about an object the subroutine reads is wrong (e.g. the webhook CA Secret).
    Invalid(String),
}

impl Error {
    /// A cluster error while working on `object`.
    pub fn cluster(verb: &str, target: &Target, object: &ObjectRef, error: ClusterError) -> Self {
        Error::Cluster(Box::new((format!("{verb} {object}"), target.clone(), error)))
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Profile {
                source,
                line,
                message,
            } => {
                write!(f, "profile {source}")?;
                if let Some(line) = line {
                    write!(f, " line {line}")?;
                }
                write!(f, ": {message}")
            }
            Error::Render(e) => write!(f, "rendering {e}"),
            Error::Cluster(failure) => {
                let (what, target, error) = &**failure;
                write!(f, "{what} in the {target} cluster: {error}")
            }
            Error::Invalid(message) => f.write_str(message),
        }
    }
}

impl std::error::Error for Error {}

impl From<RenderError> for Error {
    fn from(e: RenderError) -> Self {
        Error::Render(Box::new(e))
    }
}

/// Result of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
