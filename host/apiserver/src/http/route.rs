//! Parsing request paths: the optional `/clusters/<cluster>` prefix, discovery endpoints and resource paths.

/// Which cluster a request addresses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClusterRef {
    /// No `/clusters/` prefix: the plain Kubernetes cluster.
    Plain,
    /// `/clusters/<target>`: a workspace path or logical cluster name.
    Named(String),
    /// `/clusters/*`: every logical cluster (list and watch only).
    Wildcard,
}

/// A resource path below `/api/v1` or `/apis/<group>/<version>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResourcePath {
    /// API group (empty for core).
    pub group: String,
    /// Version.
    pub version: String,
    /// Plural resource name.
    pub plural: String,
    /// Namespace from `/namespaces/<ns>/`.
    pub namespace: Option<String>,
    /// Object name.
    pub name: Option<String>,
    /// Subresource (`status`, `token`, ...).
    pub subresource: Option<String>,
}

/// What a path addresses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Route {
    /// `/version`.
    Version,
    /// `/healthz`, `/readyz`, `/livez`.
    Health,
    /// `/openapi/<rest>`.
    OpenApi(String),
    /// `/api`.
    CoreVersions,
    /// `/apis`.
    Groups,
    /// `/apis/<group>`.
    Group(String),
    /// `/api/v1` or `/apis/<group>/<version>`.
    GroupVersion(String, String),
    /// A resource collection, object or subresource.
    Resource(ResourcePath),
    /// `/debug/<rest>`.
    Debug(String),
}

/// Splits off the cluster prefix and parses the rest of the path.
pub fn parse(path: &str) -> Option<(ClusterRef, Route)> {
    let mut segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let cluster = if segs.first() == Some(&"clusters") && segs.len() >= 2 {
        let c = segs[1].to_string();
        segs.drain(..2);
        if c == "*" {
            ClusterRef::Wildcard
        } else {
            ClusterRef::Named(c)
        }
    } else {
        ClusterRef::Plain
    };
    let route = match segs.as_slice() {
        ["version"] => Route::Version,
        ["healthz" | "readyz" | "livez", ..] => Route::Health,
        ["openapi", rest @ ..] => Route::OpenApi(rest.join("/")),
        ["debug", rest @ ..] => Route::Debug(rest.join("/")),
        ["api"] => Route::CoreVersions,
        ["api", v] => Route::GroupVersion(String::new(), v.to_string()),
        ["api", v, rest @ ..] => Route::Resource(resource("", v, rest)?),
        ["apis"] => Route::Groups,
        ["apis", g] => Route::Group(g.to_string()),
        ["apis", g, v] => Route::GroupVersion(g.to_string(), v.to_string()),
        ["apis", g, v, rest @ ..] => Route::Resource(resource(g, v, rest)?),
        _ => return None,
    };
    Some((cluster, route))
}

fn resource(group: &str, version: &str, rest: &[&str]) -> Option<ResourcePath> {
    let owned = |s: &&str| s.to_string();
    let (namespace, rest) = match rest {
        // `/namespaces/<ns>/<plural>...` unless it is a namespace's own subresource.
        ["namespaces", ns, plural, tail @ ..]
            if !(tail.is_empty() && matches!(*plural, "status" | "finalize")) =>
        {
            (Some(ns.to_string()), [&[*plural][..], tail].concat())
        }
        _ => (None, rest.to_vec()),
    };
    match rest.as_slice() {
        [plural] | [plural, ..] if rest.len() <= 3 => Some(ResourcePath {
            group: group.to_string(),
            version: version.to_string(),
            plural: plural.to_string(),
            namespace,
            name: rest.get(1).map(owned),
            subresource: rest.get(2).map(owned),
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn res(path: &str) -> (ClusterRef, ResourcePath) {
        match parse(path) {
            Some((c, Route::Resource(r))) => (c, r),
            other => panic!("{path}: {other:?}"),
        }
    }

    #[test]
    fn parses_resource_paths() {
        let (c, r) = res("/api/v1/namespaces/a/configmaps/b");
        assert_eq!(c, ClusterRef::Plain);
        assert_eq!(
            (r.namespace.as_deref(), r.plural.as_str(), r.name.as_deref()),
            (Some("a"), "configmaps", Some("b"))
        );
        let (_, r) = res("/api/v1/namespaces/a");
        assert_eq!(
            (r.plural.as_str(), r.name.as_deref(), r.namespace),
            ("namespaces", Some("a"), None)
        );
        let (_, r) = res("/api/v1/namespaces/a/status");
        assert_eq!(
            (r.name.as_deref(), r.subresource.as_deref()),
            (Some("a"), Some("status"))
        );
        let (c, r) = res("/clusters/root:orgs/apis/tenancy.kcp.io/v1alpha1/workspaces/x/status");
        assert_eq!(c, ClusterRef::Named("root:orgs".into()));
        assert_eq!(
            (r.group.as_str(), r.subresource.as_deref()),
            ("tenancy.kcp.io", Some("status"))
        );
        let (c, r) = res("/clusters/*/apis/apis.kcp.io/v1alpha1/apiexports");
        assert_eq!(c, ClusterRef::Wildcard);
        assert_eq!(r.name, None);
        let (_, r) = res("/api/v1/namespaces/a/serviceaccounts/sa/token");
        assert_eq!(r.subresource.as_deref(), Some("token"));
    }

    #[test]
    fn parses_discovery_paths() {
        assert_eq!(parse("/apis").map(|p| p.1), Some(Route::Groups));
        assert_eq!(
            parse("/clusters/root/api").map(|p| p.1),
            Some(Route::CoreVersions)
        );
        assert_eq!(
            parse("/api/v1").map(|p| p.1),
            Some(Route::GroupVersion(String::new(), "v1".into()))
        );
        assert_eq!(parse("/nope"), None);
    }
}
