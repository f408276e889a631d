//! Built-in resource types of a plain Kubernetes cluster and of a kcp logical cluster.

use std::sync::{Arc, OnceLock};

use super::{CORE_EVENTS, Decl, ResourceInfo};

const fn d(
    group: &'static str,
    versions: &'static [&'static str],
    kind: &'static str,
    plural: &'static str,
    namespaced: bool,
    status: bool,
    short: &'static [&'static str],
) -> Decl {
    Decl {
        group,
        versions,
        kind,
        plural,
        namespaced,
        status,
        short,
        view: None,
        review: false,
    }
}

/// A review type: create-only, cluster-scoped unless `namespaced`.
const fn review(group: &'static str, kind: &'static str, plural: &'static str, namespaced: bool) -> Decl {
    Decl {
        review: true,
        ..d(group, V1, kind, plural, namespaced, false, &[])
    }
}

const V1: &[&str] = &["v1"];
const A1: &[&str] = &["v1alpha1"];
const A2A1: &[&str] = &["v1alpha2", "v1alpha1"];

/// Types every cluster serves, kcp or not.
const COMMON: &[Decl] = &[
    d("", V1, "Namespace", "namespaces", false, true, &["ns"]),
    d("", V1, "ConfigMap", "configmaps", true, false, &["cm"]),
    d("", V1, "Secret", "secrets", true, false, &[]),
    d("", V1, "ServiceAccount", "serviceaccounts", true, false, &["sa"]),
    Decl {
        view: Some(CORE_EVENTS),
        ..d("", V1, "Event", "events", true, false, &["ev"])
    },
    d("events.k8s.io", V1, "Event", "events", true, false, &["ev"]),
    d("coordination.k8s.io", V1, "Lease", "leases", true, false, &[]),
    d("rbac.authorization.k8s.io", V1, "Role", "roles", true, false, &[]),
    d(
        "rbac.authorization.k8s.io",
        V1,
        "RoleBinding",
        "rolebindings",
        true,
        false,
        &[],
    ),
    d(
        "rbac.authorization.k8s.io",
        V1,
        "ClusterRole",
        "clusterroles",
        false,
        false,
        &[],
    ),
    d(
        "rbac.authorization.k8s.io",
        V1,
        "ClusterRoleBinding",
        "clusterrolebindings",
        false,
        false,
        &[],
    ),
    d(
        "apiextensions.k8s.io",
        V1,
        "CustomResourceDefinition",
        "customresourcedefinitions",
        false,
        true,
        &["crd", "crds"],
    ),
    d(
        "admissionregistration.k8s.io",
        V1,
        "ValidatingWebhookConfiguration",
        "validatingwebhookconfigurations",
        false,
        false,
        &[],
    ),
    d(
        "admissionregistration.k8s.io",
        V1,
        "MutatingWebhookConfiguration",
        "mutatingwebhookconfigurations",
        false,
        false,
        &[],
    ),
    review("authentication.k8s.io", "TokenReview", "tokenreviews", false),
    review(
        "authentication.k8s.io",
        "SelfSubjectReview",
        "selfsubjectreviews",
        false,
    ),
    review(
        "authorization.k8s.io",
        "SubjectAccessReview",
        "subjectaccessreviews",
        false,
    ),
    review(
        "authorization.k8s.io",
        "SelfSubjectAccessReview",
        "selfsubjectaccessreviews",
        false,
    ),
    review(
        "authorization.k8s.io",
        "SelfSubjectRulesReview",
        "selfsubjectrulesreviews",
        false,
    ),
    review(
        "authorization.k8s.io",
        "LocalSubjectAccessReview",
        "localsubjectaccessreviews",
        true,
    ),
];

/// Types only a plain cluster serves (workloads live there, not in kcp).
const PLAIN_ONLY: &[Decl] = &[
    d("", V1, "Pod", "pods", true, true, &["po"]),
    d("", V1, "Service", "services", true, true, &["svc"]),
    d("", V1, "Endpoints", "endpoints", true, false, &["ep"]),
    d(
        "",
        V1,
        "PersistentVolumeClaim",
        "persistentvolumeclaims",
        true,
        true,
        &["pvc"],
    ),
    d("apps", V1, "Deployment", "deployments", true, true, &["deploy"]),
    d("apps", V1, "StatefulSet", "statefulsets", true, true, &["sts"]),
    d("apps", V1, "DaemonSet", "daemonsets", true, true, &["ds"]),
    d(
        "discovery.k8s.io",
        V1,
        "EndpointSlice",
        "endpointslices",
        true,
        false,
        &[],
    ),
    d(
        "networking.k8s.io",
        V1,
        "Ingress",
        "ingresses",
        true,
        true,
        &["ing"],
    ),
    d(
        "networking.k8s.io",
        V1,
        "NetworkPolicy",
        "networkpolicies",
        true,
        false,
        &["netpol"],
    ),
];

/// kcp's own types, served in every logical cluster.
const KCP_ONLY: &[Decl] = &[
    d(
        "tenancy.kcp.io",
        A1,
        "Workspace",
        "workspaces",
        false,
        true,
        &["ws"],
    ),
    d(
        "tenancy.kcp.io",
        A1,
        "WorkspaceType",
        "workspacetypes",
        false,
        true,
        &[],
    ),
    d(
        "tenancy.kcp.io",
        A1,
        "WorkspaceAuthenticationConfiguration",
        "workspaceauthenticationconfigurations",
        false,
        true,
        &[],
    ),
    d("apis.kcp.io", A2A1, "APIExport", "apiexports", false, true, &[]),
    d("apis.kcp.io", A2A1, "APIBinding", "apibindings", false, true, &[]),
    d(
        "apis.kcp.io",
        A1,
        "APIResourceSchema",
        "apiresourceschemas",
        false,
        true,
        &[],
    ),
    d(
        "apis.kcp.io",
        A1,
        "APIExportEndpointSlice",
        "apiexportendpointslices",
        false,
        true,
        &[],
    ),
    d(
        "core.kcp.io",
        A1,
        "LogicalCluster",
        "logicalclusters",
        false,
        true,
        &[],
    ),
];

fn build(decls: &[&[Decl]]) -> Arc<Vec<Arc<ResourceInfo>>> {
    Arc::new(
        decls
            .iter()
            .flat_map(|ds| ds.iter())
            .map(|d| Arc::new(d.build()))
            .collect(),
    )
}

/// Built-in types of the plain Kubernetes cluster.
pub fn plain_builtins() -> Arc<Vec<Arc<ResourceInfo>>> {
    static CELL: OnceLock<Arc<Vec<Arc<ResourceInfo>>>> = OnceLock::new();
    CELL.get_or_init(|| build(&[COMMON, PLAIN_ONLY])).clone()
}

/// Built-in types of a kcp logical cluster.
pub fn kcp_builtins() -> Arc<Vec<Arc<ResourceInfo>>> {
    static CELL: OnceLock<Arc<Vec<Arc<ResourceInfo>>>> = OnceLock::new();
    CELL.get_or_init(|| build(&[COMMON, KCP_ONLY])).clone()
}
