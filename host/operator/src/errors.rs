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
