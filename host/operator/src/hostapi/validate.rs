//! Checks of the names a plugin puts into request URLs: kcp workspace paths, namespaces, object names, API
//! groups, versions and kinds. kube joins them into the request path as given, so `/`, `..`, `?` or `%` in one of
//! them would address another resource (or another workspace) than the one the permission check saw.

use crate::target::Target;

/// The longest kcp workspace path accepted.
pub const MAX_WORKSPACE_PATH: usize = 1024;
/// The longest object name (Kubernetes' DNS subdomain limit).
pub const MAX_NAME: usize = 253;

/// A DNS-1123 label: lower-case letters, digits and `-`, starting and ending with a letter or digit.
fn is_label(text: &str, max: usize) -> bool {
    let bytes = text.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= max
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
        && bytes[0] != b'-'
        && bytes[bytes.len() - 1] != b'-'
}

/// `root`, `root:orgs:acme` or a logical cluster name: labels joined by `:`.
pub fn workspace_path(path: &str) -> Result<(), String> {
    if path.len() <= MAX_WORKSPACE_PATH && path.split(':').all(|segment| is_label(segment, 63)) {
        return Ok(());
    }
    Err(format!(
        "kcp workspace path {:?} is not a path of workspace names joined by ':'",
        shorten(path)
    ))
}

/// A namespace: a DNS-1123 label.
pub fn namespace(namespace: &str) -> Result<(), String> {
    if is_label(namespace, 63) {
        return Ok(());
    }
    Err(format!(
        "namespace {:?} is not a DNS-1123 label",
        shorten(namespace)
    ))
}

/// An object name: what Kubernetes accepts as a path segment (RBAC names may hold `:` and upper case), without
/// `/`, `%`, `?`, `#`, control characters, and not `.` or `..`.
pub fn name(name: &str) -> Result<(), String> {
    let bad_char = |c: char| matches!(c, '/' | '\\' | '%' | '?' | '#') || c.is_control() || c.is_whitespace();
    if !name.is_empty() && name.len() <= MAX_NAME && name != "." && name != ".." && !name.contains(bad_char) {
        return Ok(());
    }
    Err(format!(
        "object name {:?} is not a valid Kubernetes name",
        shorten(name)
    ))
}

/// API group (empty for core, else a DNS subdomain), version and kind (letters and digits).
pub fn gvk(group: &str, version: &str, kind: &str) -> Result<(), String> {
    let group_ok =
        group.is_empty() || (group.len() <= MAX_NAME && group.split('.').all(|label| is_label(label, 63)));
    let word =
        |text: &str| !text.is_empty() && text.len() <= 63 && text.bytes().all(|b| b.is_ascii_alphanumeric());
    if group_ok && word(version) && word(kind) {
        return Ok(());
    }
    Err(format!(
        "{:?}/{:?} kind {:?} is not a valid API group, version and kind",
        shorten(group),
        shorten(version),
        shorten(kind)
    ))
}

/// The target's own names: a kcp path, or the namespace and name of a kubeconfig Secret.
pub fn target(target: &Target) -> Result<(), String> {
    match target {
        Target::Runtime | Target::Infra => Ok(()),
        Target::Kcp(path) => workspace_path(path),
        Target::Remote(secret) => {
            namespace(&secret.namespace)?;
            name(&secret.name)?;
            if secret.key.is_empty() || secret.key.len() > MAX_NAME {
                return Err("the kubeconfig Secret key must be 1 to 253 characters".into());
            }
            Ok(())
        }
    }
}

/// At most 64 characters of hostile input in an error message.
fn shorten(text: &str) -> String {
    match text.char_indices().nth(64) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workspace_paths_are_names_joined_by_colons() {
        for ok in ["root", "root:orgs:acme", "root:platform-mesh-system", "2x3abc9"] {
            assert!(workspace_path(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "root:",
            "root::x",
            "root/../x",
            "root:..",
            "root:orgs/acme",
            "root?watch=1",
            "root%2F..",
            "Root",
            "root:-x",
        ] {
            assert!(workspace_path(bad).is_err(), "{bad}");
        }
        assert!(workspace_path(&"a:".repeat(600)).is_err(), "too long");
    }

    #[test]
    fn namespaces_and_names_cannot_leave_their_path_segment() {
        assert!(namespace("team-a").is_ok());
        for bad in ["", "..", "a/b", "A", "team-a/../kube-system", &"a".repeat(64)] {
            assert!(namespace(bad).is_err(), "{bad}");
        }
        for ok in ["cm", "system:controller:x", "Secret.v1", "a_b"] {
            assert!(name(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            ".",
            "..",
            "a/b",
            "../x",
            "a?b",
            "a%2f",
            "a#b",
            "a b",
            "a\n",
            &"n".repeat(254),
        ] {
            assert!(name(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn gvks_are_url_safe() {
        assert!(gvk("", "v1", "ConfigMap").is_ok());
        assert!(gvk("rbac.authorization.k8s.io", "v1", "ClusterRoleBinding").is_ok());
        assert!(gvk("../api", "v1", "Pod").is_err());
        assert!(gvk("", "v1/namespaces/x", "Pod").is_err());
        assert!(gvk("", "v1", "Pod?x").is_err());
    }

    #[test]
    fn errors_quote_at_most_64_characters() {
        let long = "x/".repeat(1000);
        let message = name(&long).unwrap_err();
        assert!(message.len() < 120, "{message}");
    }
}
