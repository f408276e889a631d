//! Error helpers every layer uses (a leaf module).

/// An error and its causes on one line, joined by `: ` (each cause printed once).
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Whether retrying an API call soon may succeed: a server error (5xx), throttling (429) that outlasted the
/// client's own retries, or a transport failure. Not: a 4xx answer about the request itself.
pub fn is_transient(error: &kube::Error) -> bool {
    match error {
        kube::Error::Api(status) => status.code >= 500 || status.code == 429,
        kube::Error::HyperError(_) | kube::Error::Service(_) => true,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn causes_are_joined_in_order() {
        #[derive(Debug, thiserror::Error)]
        #[error("reading x")]
        struct Wrapper(#[source] std::io::Error);
        assert_eq!(
            error_chain(&Wrapper(std::io::Error::other("denied"))),
            "reading x: denied"
        );
    }
}
