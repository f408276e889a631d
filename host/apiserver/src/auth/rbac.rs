//! Kubernetes RBAC evaluation over the Roles, ClusterRoles, RoleBindings and ClusterRoleBindings of one cluster.
//!
//! A request is allowed when some rule of a role bound to the user matches it: ClusterRoleBindings grant their
//! ClusterRole everywhere in the cluster; RoleBindings grant their Role or ClusterRole inside their namespace.
//! Rules match on verbs, apiGroups, resources (`plural`, `plural/subresource`, `*`, `*/subresource`) and
//! resourceNames (which never match requests without a name: list, watch, create, deletecollection), or on
//! nonResourceURLs (exact, `*`, or a prefix ending in `*`).

use serde_json::Value;

use super::Identity;
use crate::status::{ApiError, qualified};
use crate::store::Cluster;

/// What a request asks to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Request {
    /// A request for a resource.
    Resource {
        /// RBAC verb: get, list, watch, create, update, patch, delete, deletecollection.
        verb: String,
        /// API group (`""` for core).
        group: String,
        /// Plural resource name.
        resource: String,
        /// Subresource, e.g. `status`, `token`.
        subresource: Option<String>,
        /// Namespace of a namespaced request.
        namespace: Option<String>,
        /// Object name of a named request.
        name: Option<String>,
    },
    /// A request for a path that is not a resource (discovery, health, debug).
    NonResource {
        /// Lower-case HTTP method (`get`, `post`, ...).
        verb: String,
        /// The path within the cluster, e.g. `/apis/apps`.
        path: String,
    },
}

/// Paths every authenticated user may `get` (Kubernetes' `system:discovery` and `system:public-info-viewer`).
const DISCOVERY: [&str; 11] = [
    "/api",
    "/api/*",
    "/apis",
    "/apis/*",
    "/version",
    "/version/",
    "/openapi",
    "/openapi/*",
    "/healthz",
    "/livez",
    "/readyz",
];

/// The bootstrap ClusterRole that allows everything.
const CLUSTER_ADMIN: &str = "cluster-admin";

static CLUSTER_ADMIN_RULES: std::sync::LazyLock<[Value; 2]> = std::sync::LazyLock::new(|| {
    [
        serde_json::json!({"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}),
        serde_json::json!({"nonResourceURLs": ["*"], "verbs": ["*"]}),
    ]
});

fn strings(v: &Value, key: &str) -> Vec<String> {
    v.get(key)
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).map(str::to_owned).collect())
        .unwrap_or_default()
}

fn has(list: &[String], wanted: &str) -> bool {
    list.iter().any(|v| v == "*" || v == wanted)
}

fn path_matches(patterns: &[String], path: &str) -> bool {
    patterns.iter().any(|p| match p.strip_suffix('*') {
        Some(prefix) => path.starts_with(prefix),
        None => p == path,
    })
}

/// Whether one PolicyRule allows the request.
pub fn rule_allows(rule: &Value, request: &Request) -> bool {
    let verbs = strings(rule, "verbs");
    match request {
        Request::NonResource { verb, path } => {
            has(&verbs, verb) && path_matches(&strings(rule, "nonResourceURLs"), path)
        }
        Request::Resource {
            verb,
            group,
            resource,
            subresource,
            name,
            ..
        } => {
            let resources = strings(rule, "resources");
            let resource_ok = match subresource {
                None => has(&resources, resource),
                Some(sub) => resources
                    .iter()
                    .any(|r| *r == format!("{resource}/{sub}") || *r == format!("*/{sub}") || r == "*"),
            };
            let names = strings(rule, "resourceNames");
            let name_ok = names.is_empty() || name.as_ref().is_some_and(|n| names.contains(n));
            has(&verbs, verb) && has(&strings(rule, "apiGroups"), group) && resource_ok && name_ok
        }
    }
}

fn subject_matches(subject: &Value, namespace: &str, name: &str) -> bool {
    let field = |k: &str| subject.get(k).and_then(Value::as_str).unwrap_or_default();
    match field("kind") {
        "ServiceAccount" => field("name") == name && field("namespace") == namespace,
        "User" => field("name") == format!("system:serviceaccount:{namespace}:{name}"),
        "Group" => {
            let group = field("name");
            group == "system:serviceaccounts"
                || group == format!("system:serviceaccounts:{namespace}")
                || group == "system:authenticated"
        }
        _ => false,
    }
}

fn objects<'a>(cluster: &'a Cluster, plural: &str) -> impl Iterator<Item = (&'a str, &'a Value)> {
    let key = ("rbac.authorization.k8s.io".to_string(), plural.to_string());
    cluster
        .objects
        .get(&key)
        .into_iter()
        .flatten()
        .map(|((ns, _), v)| (ns.as_str(), v))
}

/// The rules of the role a binding refers to (`Role` in the binding's namespace, or `ClusterRole`).
fn role_rules<'a>(cluster: &'a Cluster, binding_ns: &str, binding: &Value) -> Vec<&'a Value> {
    let role_ref = &binding["roleRef"];
    let name = role_ref["name"].as_str().unwrap_or_default();
    let (plural, ns) = match role_ref["kind"].as_str() {
        Some("ClusterRole") => ("clusterroles", ""),
        Some("Role") => ("roles", binding_ns),
        _ => return Vec::new(),
    };
    let key = ("rbac.authorization.k8s.io".to_string(), plural.to_string());
    match cluster.get(&key, ns, name) {
        Some(role) => role
            .get("rules")
            .and_then(Value::as_array)
            .map(|rules| rules.iter().collect())
            .unwrap_or_default(),
        // Every Kubernetes cluster and kcp workspace has `cluster-admin`; the store does not seed it.
        None if plural == "clusterroles" && name == CLUSTER_ADMIN => CLUSTER_ADMIN_RULES.iter().collect(),
        None => Vec::new(),
    }
}

/// Whether a ServiceAccount `namespace/name` may make `request` in `cluster`.
pub fn allows(cluster: &Cluster, namespace: &str, name: &str, request: &Request) -> bool {
    if let Request::NonResource { verb, path } = request
        && verb == "get"
        && path_matches(&DISCOVERY.map(String::from), path)
    {
        return true;
    }
    let bound = |binding: &Value| {
        binding["subjects"]
            .as_array()
            .is_some_and(|s| s.iter().any(|s| subject_matches(s, namespace, name)))
    };
    let cluster_wide = objects(cluster, "clusterrolebindings")
        .filter(|(_, b)| bound(b))
        .any(|(_, b)| role_rules(cluster, "", b).iter().any(|r| rule_allows(r, request)));
    if cluster_wide {
        return true;
    }
    let Request::Resource {
        namespace: Some(request_ns),
        ..
    } = request
    else {
        return false;
    };
    objects(cluster, "rolebindings")
        .filter(|(ns, b)| ns == request_ns && bound(b))
        .any(|(ns, b)| role_rules(cluster, ns, b).iter().any(|r| rule_allows(r, request)))
}

/// The 403 Kubernetes answers for a denied request.
pub fn forbidden(identity: &Identity, request: &Request) -> ApiError {
    let user = identity.user();
    match request {
        Request::NonResource { verb, path } => ApiError::new(
            403,
            "Forbidden",
            format!("forbidden: User \"{user}\" cannot {verb} path \"{path}\""),
        ),
        Request::Resource {
            verb,
            group,
            resource,
            subresource,
            namespace,
            name,
        } => {
            let full = match subresource {
                Some(sub) => format!("{resource}/{sub}"),
                None => resource.clone(),
            };
            let what = match name {
                Some(name) => format!("{} \"{name}\"", qualified(group, resource)),
                None => qualified(group, resource),
            };
            let scope = match namespace {
                Some(ns) => format!("in the namespace \"{ns}\""),
                None => "at the cluster scope".to_owned(),
            };
            let mut error = ApiError::new(
                403,
                "Forbidden",
                format!(
                    "{what} is forbidden: User \"{user}\" cannot {verb} resource \"{full}\" in API group \"{group}\" {scope}"
                ),
            );
            error.about = Some(Box::new(crate::status::About {
                name: name.clone().unwrap_or_default(),
                group: group.clone(),
                kind: resource.clone(),
            }));
            error
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn get(group: &str, resource: &str, name: Option<&str>) -> Request {
        Request::Resource {
            verb: "get".into(),
            group: group.into(),
            resource: resource.into(),
            subresource: None,
            namespace: Some("default".into()),
            name: name.map(str::to_owned),
        }
    }

    #[test]
    fn rules_match_verbs_groups_resources_and_names() {
        let rule = json!({"apiGroups": [""], "resources": ["secrets"], "verbs": ["get", "list"]});
        assert!(rule_allows(&rule, &get("", "secrets", Some("a"))));
        assert!(!rule_allows(&rule, &get("apps", "secrets", None)));
        assert!(!rule_allows(&rule, &get("", "configmaps", None)));
        let named = json!({"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"], "resourceNames": ["a"]});
        assert!(rule_allows(&named, &get("x", "y", Some("a"))));
        assert!(!rule_allows(&named, &get("x", "y", Some("b"))));
        assert!(!rule_allows(&named, &get("x", "y", None)));
    }

    #[test]
    fn subresources_need_their_own_rule() {
        let status = Request::Resource {
            verb: "update".into(),
            group: "".into(),
            resource: "pods".into(),
            subresource: Some("status".into()),
            namespace: None,
            name: Some("p".into()),
        };
        let main = json!({"apiGroups": [""], "resources": ["pods"], "verbs": ["*"]});
        assert!(!rule_allows(&main, &status));
        let sub = json!({"apiGroups": [""], "resources": ["pods/status"], "verbs": ["update"]});
        assert!(rule_allows(&sub, &status));
        let any = json!({"apiGroups": [""], "resources": ["*/status"], "verbs": ["update"]});
        assert!(rule_allows(&any, &status));
    }

    #[test]
    fn non_resource_urls_match_exactly_or_by_prefix() {
        let rule = json!({"nonResourceURLs": ["/clusters/*", "/metrics"], "verbs": ["get"]});
        let req = |path: &str| Request::NonResource {
            verb: "get".into(),
            path: path.into(),
        };
        assert!(rule_allows(&rule, &req("/clusters/root")));
        assert!(rule_allows(&rule, &req("/metrics")));
        assert!(!rule_allows(&rule, &req("/metrics/x")));
        assert!(!rule_allows(&rule, &req("/debug/requests")));
    }

    #[test]
    fn forbidden_messages_read_like_kubernetes() {
        let who = Identity::ServiceAccount {
            cluster: "c".into(),
            namespace: "default".into(),
            name: "sa".into(),
        };
        let e = forbidden(&who, &get("", "secrets", Some("a")));
        assert_eq!(e.code, 403);
        assert_eq!(
            e.message,
            "secrets \"a\" is forbidden: User \"system:serviceaccount:default:sa\" cannot get resource \"secrets\" \
             in API group \"\" in the namespace \"default\""
        );
        let list = Request::Resource {
            verb: "list".into(),
            group: "apis.kcp.io".into(),
            resource: "apiexports".into(),
            subresource: None,
            namespace: None,
            name: None,
        };
        assert!(forbidden(&who, &list).message.starts_with(
            "apiexports.apis.kcp.io is forbidden: User \"system:serviceaccount:default:sa\" cannot list resource \
             \"apiexports\" in API group \"apis.kcp.io\" at the cluster scope"
        ));
    }
}
