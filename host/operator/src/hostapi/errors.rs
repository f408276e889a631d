//! Mapping of kube and cluster errors onto the WIT `error` variant.

use crate::{clusters::ClusterError, plugin::bindings::types::Error};

/// The whole cause chain in one line, `outer: inner: root`.
pub fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// API status codes to variants; transport failures are `unavailable`.
pub fn from_kube(error: kube::Error) -> Error {
    match &error {
        kube::Error::Api(status) => {
            let message = if status.message.is_empty() {
                chain(&error)
            } else {
                status.message.clone()
            };
            match status.code {
                404 => Error::NotFound(message),
                409 if status.reason == "AlreadyExists" => Error::AlreadyExists(message),
                409 => Error::Conflict(message),
                401 | 403 => Error::Forbidden(message),
                400 | 422 => Error::Invalid(message),
                408 | 429 | 500..=599 => Error::Unavailable(message),
                _ => Error::Other(message),
            }
        }
        kube::Error::HyperError(_) | kube::Error::Service(_) => Error::Unavailable(chain(&error)),
        kube::Error::SerdeError(_) => Error::Invalid(chain(&error)),
        _ => Error::Other(chain(&error)),
    }
}

/// Unknown kinds are `not-found`; a cluster that cannot be reached is `unavailable`.
pub fn from_cluster(error: ClusterError) -> Error {
    match error {
        ClusterError::UnknownKind { .. } => Error::NotFound(error.to_string()),
        ClusterError::RemoteKubeconfig { .. } => Error::Invalid(error.to_string()),
        ClusterError::Discovery { source, .. } if matches!(source, kube::Error::Api(_)) => from_kube(source),
        other => Error::Unavailable(chain(&other)),
    }
}

/// Malformed JSON from the plugin.
pub fn invalid_json(what: &str, error: serde_json::Error) -> Error {
    Error::Invalid(format!("{what} is not valid JSON: {error}"))
}

#[cfg(test)]
mod tests {
    use kube::core::Status;

    use super::*;

    /// The generated variant has no `PartialEq`; compare kind and message instead.
    fn parts(error: Error) -> (&'static str, String) {
        match error {
            Error::NotFound(m) => ("not-found", m),
            Error::AlreadyExists(m) => ("already-exists", m),
            Error::Forbidden(m) => ("forbidden", m),
            Error::Conflict(m) => ("conflict", m),
            Error::Invalid(m) => ("invalid", m),
            Error::Unavailable(m) => ("unavailable", m),
            Error::Other(m) => ("other", m),
        }
    }

    fn api(code: u16, reason: &str) -> (&'static str, String) {
        let mut status = Status::failure("server says no", reason);
        status.code = code;
        parts(from_kube(kube::Error::Api(Box::new(status))))
    }

    #[test]
    fn status_codes_map_to_variants() {
        let cases = [
            (404, "NotFound", "not-found"),
            (409, "AlreadyExists", "already-exists"),
            (409, "Conflict", "conflict"),
            (403, "Forbidden", "forbidden"),
            (401, "Unauthorized", "forbidden"),
            (422, "Invalid", "invalid"),
            (400, "BadRequest", "invalid"),
            (429, "TooManyRequests", "unavailable"),
            (503, "ServiceUnavailable", "unavailable"),
            (418, "Teapot", "other"),
        ];
        for (code, reason, kind) in cases {
            assert_eq!(
                api(code, reason),
                (kind, "server says no".to_owned()),
                "{code} {reason}"
            );
        }
    }

    #[test]
    fn unknown_kind_is_not_found() {
        let e = ClusterError::UnknownKind {
            target: "infra".into(),
            api_version: "x/v1".into(),
            kind: "Y".into(),
        };
        assert_eq!(
            parts(from_cluster(e)),
            (
                "not-found",
                "Y in x/v1 is not served by the infra cluster".to_owned()
            )
        );
    }
}
