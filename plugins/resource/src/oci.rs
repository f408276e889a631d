//! Image references → repository URLs.
//!
//! - [`flux_oci_url`] (spec §4.6.4 step 1 and §5.11): the `OCIRepository` URL of a chart, `oci://<host>/<repo>`
//!   with tag and digest dropped. Unlike upstream's grammar, a host with neither a dot nor a port
//!   (`localhost`, an in-cluster service name) is accepted instead of producing `:///` (spec §11.4 item 47).
//! - [`argo_repo_url`] (spec §4.6.3): the Argo CD `repoURL` of an OCI chart, the reference without scheme, tag,
//!   digest and last path segment. Tag and digest are cut where they are, not at the first `:`, so a registry
//!   port survives.

/// Why a reference could not be parsed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReferenceError {
    pub reference: String,
    pub reason: &'static str,
}

impl std::fmt::Display for ReferenceError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "invalid image reference {:?}: {}", self.reference, self.reason)
    }
}

impl std::error::Error for ReferenceError {}

/// A parsed `[scheme://]host[:port]/repository[:tag][@algorithm:digest]`.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Reference<'a> {
    host: &'a str,
    repository: &'a str,
}

fn fail(reference: &str, reason: &'static str) -> ReferenceError {
    ReferenceError {
        reference: reference.to_owned(),
        reason,
    }
}

/// `[a-z0-9]+` joined by `.`, `_`, `__` or runs of `-` (the OCI distribution path-component grammar).
fn is_path_component(part: &str) -> bool {
    let bytes = part.as_bytes();
    let alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    let (Some(&first), Some(&last)) = (bytes.first(), bytes.last()) else {
        return false;
    };
    if !alnum(first) || !alnum(last) {
        return false;
    }
    let separators_ok = part
        .split(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        .filter(|sep| !sep.is_empty())
        .all(|sep| sep == "." || sep == "_" || sep == "__" || sep.bytes().all(|b| b == b'-'));
    separators_ok && bytes.iter().all(|&b| alnum(b) || b"._-".contains(&b))
}

/// `host` or `host:port`: letters, digits, dots and dashes, then an optional numeric port.
fn is_host(host: &str) -> bool {
    let (name, port) = match host.rsplit_once(':') {
        Some((name, port)) => (name, Some(port)),
        None => (host, None),
    };
    let name_ok = !name.is_empty()
        && !name.starts_with(['.', '-'])
        && !name.ends_with(['.', '-'])
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-');
    let port_ok = port.is_none_or(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    name_ok && port_ok
}

/// `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`.
fn is_tag(tag: &str) -> bool {
    let ok = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || b == b'.' || b == b'-';
    (1..=128).contains(&tag.len()) && !tag.starts_with(['.', '-']) && tag.bytes().all(ok)
}

/// `algorithm:encoded`, e.g. `sha256:<hex>`.
fn is_digest(digest: &str) -> bool {
    let Some((algorithm, encoded)) = digest.split_once(':') else {
        return false;
    };
    let algorithm_ok = !algorithm.is_empty()
        && algorithm
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"+._-".contains(&b));
    let encoded_ok = !encoded.is_empty()
        && encoded
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"=_-".contains(&b));
    algorithm_ok && encoded_ok
}

fn parse(reference: &str) -> Result<Reference<'_>, ReferenceError> {
    let rest = match reference.split_once("://") {
        Some((scheme, rest)) if !scheme.is_empty() && scheme.bytes().all(|b| b.is_ascii_alphanumeric()) => {
            rest
        }
        Some(_) => return Err(fail(reference, "malformed scheme")),
        None => reference,
    };
    let (rest, digest) = match rest.split_once('@') {
        Some((rest, digest)) => (rest, Some(digest)),
        None => (rest, None),
    };
    if digest.is_some_and(|d| !is_digest(d)) {
        return Err(fail(reference, "malformed digest"));
    }
    let Some((host, path)) = rest.split_once('/') else {
        return Err(fail(reference, "no repository after the host"));
    };
    if !is_host(host) {
        return Err(fail(reference, "malformed host"));
    }
    let (repository, tag) = match path.rsplit_once(':') {
        Some((repository, tag)) => (repository, Some(tag)),
        None => (path, None),
    };
    if tag.is_some_and(|t| !is_tag(t)) {
        return Err(fail(reference, "malformed tag"));
    }
    if repository.is_empty() || !repository.split('/').all(is_path_component) {
        return Err(fail(reference, "malformed repository path"));
    }
    Ok(Reference { host, repository })
}

/// The Flux `OCIRepository` URL for a chart at `image_reference` resolved to `version`: `oci://` prefixed once,
/// a trailing `:<version>` removed, then rebuilt as `oci://<host>/<repository>`.
///
/// # Errors
/// The reference does not parse (see [`ReferenceError`]).
pub fn flux_oci_url(image_reference: &str, version: &str) -> Result<String, ReferenceError> {
    let bare = image_reference.strip_prefix("oci://").unwrap_or(image_reference);
    let prefixed = format!("oci://{bare}");
    let suffix = format!(":{version}");
    let untagged = match prefixed.strip_suffix(&suffix) {
        Some(rest) if !version.is_empty() => rest,
        _ => &prefixed,
    };
    let parsed = parse(untagged).map_err(|e| ReferenceError {
        reference: image_reference.to_owned(),
        ..e
    })?;
    Ok(format!("oci://{}/{}", parsed.host, parsed.repository))
}

/// The Argo CD `repoURL` of an OCI chart: the reference without `oci://`, digest, tag and its last path segment
/// (`oci://registry.example.com/charts/mychart:1.2.3@sha256:…` → `registry.example.com/charts`).
///
/// # Errors
/// Nothing is left after dropping the last segment (`invalid imageReference format: …`).
pub fn argo_repo_url(image_reference: &str) -> Result<String, String> {
    let bare = image_reference.strip_prefix("oci://").unwrap_or(image_reference);
    let without_digest = bare.split_once('@').map_or(bare, |(rest, _)| rest);
    let last_slash = without_digest.rfind('/');
    let without_tag = match without_digest.rfind(':') {
        Some(colon) if last_slash.is_none_or(|slash| colon > slash) => &without_digest[..colon],
        _ => without_digest,
    };
    match without_tag.rsplit_once('/') {
        Some((repo, _)) if !repo.is_empty() => Ok(repo.to_owned()),
        _ => Err(format!("invalid imageReference format: {image_reference}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flux_urls_drop_tag_and_digest() {
        let digest = "sha256:cb5b0d1e6c2f4a8d9e7f3b1a2c4d6e8f0a1b3c5d7e9f1a3b5c7d9e1f3a5b7c9d";
        let cases = [
            (
                format!("oci://registry.svc/platform-mesh/upstream-images/charts/keycloak:25.2.3@{digest}"),
                "25.2.3",
                "oci://registry.svc/platform-mesh/upstream-images/charts/keycloak",
            ),
            (
                "ghcr.io/platform-mesh/charts/keycloak:1.0.0".to_owned(),
                "1.0.0",
                "oci://ghcr.io/platform-mesh/charts/keycloak",
            ),
            (
                "registry.local:5000/charts/x:2.0.0".to_owned(),
                "2.0.0",
                "oci://registry.local:5000/charts/x",
            ),
            (
                "ghcr.io/charts/x:other-tag".to_owned(),
                "1.0.0",
                "oci://ghcr.io/charts/x",
            ),
            ("ghcr.io/charts/x".to_owned(), "", "oci://ghcr.io/charts/x"),
        ];
        for (reference, version, url) in cases {
            assert_eq!(flux_oci_url(&reference, version).unwrap(), url, "{reference}");
        }
    }

    #[test]
    fn hosts_without_dot_or_port_are_kept() {
        assert_eq!(
            flux_oci_url("oci://localhost/charts/x:1.0", "1.0").unwrap(),
            "oci://localhost/charts/x"
        );
        assert_eq!(
            flux_oci_url("registry/charts/x", "1").unwrap(),
            "oci://registry/charts/x"
        );
    }

    #[test]
    fn malformed_references_are_errors() {
        for bad in [
            "",
            "ghcr.io",
            "ghcr.io/",
            "ghcr.io/Upper/case",
            "ghcr.io/a//b",
            "gh cr.io/a",
            "ghcr.io/a:bad tag",
            "ghcr.io/a@sha256",
            "ghcr.io:port/a",
            "://ghcr.io/a",
        ] {
            let error = flux_oci_url(bad, "1.0").unwrap_err();
            assert_eq!(error.reference, bad);
        }
    }

    #[test]
    fn parser_never_panics_on_odd_input() {
        for odd in [
            "@", ":", "/", "a/:", "a/b:@", "oci://", "é/ü", "a/b@:", "\u{0}/x", "a/-b",
        ] {
            let _ = flux_oci_url(odd, "");
            let _ = argo_repo_url(odd);
        }
    }

    #[test]
    fn argo_repo_urls_drop_scheme_tag_digest_and_chart_name() {
        assert_eq!(
            argo_repo_url("oci://registry.example.com/charts/mychart:1.2.3@sha256:abc").unwrap(),
            "registry.example.com/charts"
        );
        assert_eq!(
            argo_repo_url("ghcr.io/platform-mesh/charts/keycloak:1.0.0").unwrap(),
            "ghcr.io/platform-mesh/charts"
        );
        assert_eq!(
            argo_repo_url("localhost:5000/charts/x:1").unwrap(),
            "localhost:5000/charts"
        );
        assert_eq!(
            argo_repo_url("mychart:1.0").unwrap_err(),
            "invalid imageReference format: mychart:1.0"
        );
    }
}
