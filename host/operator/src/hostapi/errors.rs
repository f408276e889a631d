//! Mapping of kube and cluster errors onto the WIT `error` variant.
//!
//! A remote cluster's server is chosen by whoever wrote its kubeconfig Secret, so what it answers is not passed
//! on verbatim: plugins copy error messages into status conditions, which would make the operator a reader of
//! any address it can reach. Its errors keep their kind, the HTTP status and at most [`MAX_REMOTE_MESSAGE`] bytes
//! of a Kubernetes `Status` message (control characters removed); any other body is not quoted at all.

use crate::{clusters::ClusterError, target::Target, wit::types::Error};

/// The most of a remote server's own message passed on to a plugin.
pub const MAX_REMOTE_MESSAGE: usize = 256;

/// kube's reason for an error body that is not a Kubernetes `Status` (the body becomes the message).
const UNPARSED_BODY: &str = "Failed to parse error data";

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

/// [`from_kube`] for calls to `target`: bounded and sanitised for remote clusters.
pub fn from_kube_on(target: &Target, error: kube::Error) -> Error {
    if !matches!(target, Target::Remote(_)) {
        return from_kube(error);
    }
    let message = match &error {
        kube::Error::Api(status) if status.reason == UNPARSED_BODY => {
            format!(
                "the remote cluster answered HTTP {} with a body that is not a Kubernetes Status",
                status.code
            )
        }
        kube::Error::Api(status) => format!(
            "the remote cluster answered HTTP {} {}: {}",
            status.code,
            clean(&status.reason, 64),
            clean(&status.message, MAX_REMOTE_MESSAGE)
        ),
        kube::Error::SerdeError(_) => "the remote cluster's answer is not a Kubernetes object".to_owned(),
        _ => clean(&chain(&error), MAX_REMOTE_MESSAGE),
    };
    match from_kube(error) {
        Error::NotFound(_) => Error::NotFound(message),
        Error::AlreadyExists(_) => Error::AlreadyExists(message),
        Error::Forbidden(_) => Error::Forbidden(message),
        Error::Conflict(_) => Error::Conflict(message),
        Error::Invalid(_) => Error::Invalid(message),
        Error::Unavailable(_) => Error::Unavailable(message),
        Error::Other(_) => Error::Other(message),
    }
}

/// At most `max` bytes of `text` (cut at a character boundary), control characters replaced by spaces.
fn clean(text: &str, max: usize) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if out.len() + c.len_utf8() > max {
            out.push('…');
            break;
        }
        out.push(if c.is_control() { ' ' } else { c });
    }
    out
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

    fn remote() -> Target {
        Target::Remote(crate::target::KubeconfigRef {
            namespace: "tenant".into(),
            name: "kubeconfig".into(),
            key: "kubeconfig".into(),
        })
    }

    #[test]
    fn remote_bodies_that_are_not_a_status_are_not_quoted() {
        let body = "<html>internal metadata: SECRET-CREDENTIAL</html>";
        let mut status = Status::failure(&format!("{body:?}"), UNPARSED_BODY);
        status.code = 404;
        let (kind, message) = parts(from_kube_on(
            &remote(),
            kube::Error::Api(Box::new(status.clone())),
        ));
        assert_eq!(kind, "not-found");
        assert_eq!(
            message,
            "the remote cluster answered HTTP 404 with a body that is not a Kubernetes Status"
        );
        let (_, local) = parts(from_kube_on(&Target::Infra, kube::Error::Api(Box::new(status))));
        assert!(
            local.contains("SECRET-CREDENTIAL"),
            "own clusters keep their messages"
        );
    }

    #[test]
    fn remote_status_messages_are_bounded_and_cleaned() {
        let long = format!("denied\n\u{1b}[31m{}", "é".repeat(10_000));
        let mut status = Status::failure(&long, "Forbidden");
        status.code = 403;
        let (kind, message) = parts(from_kube_on(&remote(), kube::Error::Api(Box::new(status))));
        assert_eq!(kind, "forbidden");
        let prefix = "the remote cluster answered HTTP 403 Forbidden: ";
        assert!(message.starts_with(prefix), "{message}");
        assert!(
            message.len() <= prefix.len() + MAX_REMOTE_MESSAGE + '…'.len_utf8(),
            "{}",
            message.len()
        );
        assert!(!message.chars().any(char::is_control), "{message:?}");
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
