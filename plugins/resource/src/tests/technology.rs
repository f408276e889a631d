//! Deployment technology lookup (spec §4.6.2).

use platform_mesh_plugin_sdk::{ClusterError, LogLevel, testing::FakeHost};
use serde_json::json;

use super::*;
use crate::deployment_technology;

fn technology(host: &FakeHost) -> Result<String, String> {
    deployment_technology(host, NS).map_err(|f| f.message)
}

#[test]
fn infra_technology_of_the_platform_mesh_profile_is_used_lower_cased() {
    let host = FakeHost::new()
        .with_object(Target::Runtime, platform_mesh("pm", json!({})))
        .with_object(
            Target::Runtime,
            profile(
                NS,
                "pm-profile",
                json!({"infra": {"deploymentTechnology": "ArgoCD"}, "components": {"deploymentTechnology": "fluxcd"}}),
            ),
        );
    assert_eq!(technology(&host).unwrap(), "argocd");
    let list = &host.calls()[0];
    assert_eq!(
        (
            list.op,
            list.kind.as_str(),
            list.namespace.as_deref(),
            &list.target
        ),
        ("list", "PlatformMesh", Some(NS), &Target::Runtime)
    );
}

#[test]
fn components_technology_is_used_when_infra_has_none_and_fluxcd_otherwise() {
    let with = |profile_value: Value| {
        FakeHost::new()
            .with_object(Target::Runtime, platform_mesh("pm", json!({})))
            .with_object(Target::Runtime, profile(NS, "pm-profile", profile_value))
    };
    let host = with(
        json!({"infra": {"deploymentTechnology": ""}, "components": {"deploymentTechnology": "argocd"}}),
    );
    assert_eq!(technology(&host).unwrap(), "argocd");
    assert_eq!(
        technology(&with(json!({"infra": {}, "components": {}}))).unwrap(),
        "fluxcd"
    );
}

#[test]
fn profile_config_map_reference_is_followed_across_namespaces() {
    let host = FakeHost::new()
        .with_object(
            Target::Runtime,
            platform_mesh(
                "pm",
                json!({"profileConfigMap": {"name": "shared", "namespace": "profiles"}}),
            ),
        )
        .with_object(
            Target::Runtime,
            profile(
                "profiles",
                "shared",
                json!({"infra": {"deploymentTechnology": "argocd"}}),
            ),
        );
    assert_eq!(technology(&host).unwrap(), "argocd");
    let same_namespace = FakeHost::new()
        .with_object(
            Target::Runtime,
            platform_mesh("pm", json!({"profileConfigMap": {"name": "mine"}})),
        )
        .with_object(
            Target::Runtime,
            profile(NS, "mine", json!({"infra": {"deploymentTechnology": "argocd"}})),
        );
    assert_eq!(technology(&same_namespace).unwrap(), "argocd");
}

#[test]
fn missing_or_broken_profile_of_a_platform_mesh_is_an_error() {
    let pm = || FakeHost::new().with_object(Target::Runtime, platform_mesh("pm", json!({})));
    assert_eq!(
        technology(&pm()).unwrap_err(),
        "profile ConfigMap platform-mesh-system/pm-profile of PlatformMesh platform-mesh-system/pm not found"
    );
    let no_key = pm().with_object(
        Target::Runtime,
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "pm-profile", "namespace": NS},
               "data": {"other": "x"}}),
    );
    assert_eq!(
        technology(&no_key).unwrap_err(),
        "configMap platform-mesh-system/pm-profile exists but does not contain key profile.yaml"
    );
    let broken = pm().with_object(
        Target::Runtime,
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "pm-profile", "namespace": NS},
               "data": {"profile.yaml": "{broken"}}),
    );
    let error = technology(&broken).unwrap_err();
    assert!(
        error
            .starts_with("parsing the profile: configmap platform-mesh-system/pm-profile key profile.yaml:1"),
        "{error}"
    );
}

#[test]
fn no_platform_mesh_means_fluxcd() {
    let host = FakeHost::new().with_object(
        Target::Runtime,
        profile(
            NS,
            "platform-mesh-profile",
            json!({"infra": {"deploymentTechnology": "argocd"}}),
        ),
    );
    assert_eq!(
        technology(&host).unwrap(),
        "fluxcd",
        "the fallback is only used when listing fails"
    );
}

#[test]
fn several_platform_meshes_use_the_first_and_warn() {
    let host = FakeHost::new()
        .with_object(Target::Runtime, platform_mesh("a", json!({})))
        .with_object(Target::Runtime, platform_mesh("b", json!({})))
        .with_object(
            Target::Runtime,
            profile(
                NS,
                "a-profile",
                json!({"infra": {"deploymentTechnology": "argocd"}}),
            ),
        );
    assert_eq!(technology(&host).unwrap(), "argocd");
    assert!(
        host.logs()
            .iter()
            .any(|(level, line)| *level == LogLevel::Warn && line.contains("several PlatformMeshes")),
        "{:?}",
        host.logs()
    );
}

fn failing_list() -> FakeHost {
    FakeHost::new().with_error(
        "list",
        Some("PlatformMesh"),
        ClusterError::Forbidden("no list".into()),
    )
}

#[test]
fn list_failure_falls_back_to_the_usual_profile_names_in_order() {
    let second = failing_list().with_object(
        Target::Runtime,
        profile(
            NS,
            "platform-mesh-system-profile",
            json!({"components": {"deploymentTechnology": "ArgoCD"}}),
        ),
    );
    assert_eq!(technology(&second).unwrap(), "argocd");
    let both = failing_list()
        .with_object(
            Target::Runtime,
            profile(
                NS,
                "platform-mesh-profile",
                json!({"infra": {"deploymentTechnology": "fluxcd"}}),
            ),
        )
        .with_object(
            Target::Runtime,
            profile(
                NS,
                "platform-mesh-system-profile",
                json!({"infra": {"deploymentTechnology": "argocd"}}),
            ),
        );
    assert_eq!(technology(&both).unwrap(), "fluxcd");
}

#[test]
fn list_failure_without_any_fallback_profile_means_fluxcd() {
    assert_eq!(technology(&failing_list()).unwrap(), "fluxcd");
    let without_key = failing_list().with_object(
        Target::Runtime,
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "platform-mesh-profile", "namespace": NS}}),
    );
    assert_eq!(technology(&without_key).unwrap(), "fluxcd");
}

#[test]
fn fallback_profile_that_does_not_parse_is_an_error() {
    let host = failing_list().with_object(
        Target::Runtime,
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "platform-mesh-profile", "namespace": NS},
               "data": {"profile.yaml": "[unclosed"}}),
    );
    assert!(technology(&host).unwrap_err().starts_with("parsing the profile"));
}
