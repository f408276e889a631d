//! Which PlatformMeshes a ConfigMap is the profile of (spec §2.5, the upstream `MapConfigMap` function): the
//! ConfigMap named by `spec.profileConfigMap` (its namespace defaulting to the PlatformMesh's), or, without that
//! field, `<platformmesh name>-profile` in the PlatformMesh's namespace.

use crate::crd::PlatformMesh;
use crate::lifecycle::ObjectKey;

/// The PlatformMeshes among `platform_meshes` whose profile is the ConfigMap `namespace`/`name`.
pub fn platform_meshes_for_config_map<'a>(
    namespace: &str,
    name: &str,
    platform_meshes: impl IntoIterator<Item = &'a PlatformMesh>,
) -> Vec<ObjectKey> {
    platform_meshes
        .into_iter()
        .filter_map(|pm| {
            let pm_namespace = pm.metadata.namespace.as_deref()?;
            let pm_name = pm.metadata.name.as_deref()?;
            let (cm_namespace, cm_name) = profile_config_map(pm_namespace, pm_name, pm);
            (cm_namespace == namespace && cm_name == name)
                .then(|| ObjectKey::namespaced(pm_namespace, pm_name))
        })
        .collect()
}

/// The namespace and name of the profile ConfigMap of `pm`.
pub fn profile_config_map(pm_namespace: &str, pm_name: &str, pm: &PlatformMesh) -> (String, String) {
    match &pm.spec.profile_config_map {
        Some(reference) if !reference.name.is_empty() => {
            let namespace = reference
                .namespace
                .as_deref()
                .filter(|ns| !ns.is_empty())
                .unwrap_or(pm_namespace);
            (namespace.to_owned(), reference.name.clone())
        }
        _ => (pm_namespace.to_owned(), format!("{pm_name}-profile")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crd::{PlatformMeshSpec, ProfileConfigMapRef};

    fn pm(namespace: &str, name: &str, reference: Option<(&str, Option<&str>)>) -> PlatformMesh {
        let mut pm = PlatformMesh::new(
            name,
            PlatformMeshSpec {
                profile_config_map: reference.map(|(n, ns)| ProfileConfigMapRef {
                    name: n.into(),
                    namespace: ns.map(str::to_owned),
                }),
                ..PlatformMeshSpec::default()
            },
        );
        pm.metadata.namespace = Some(namespace.into());
        pm
    }

    #[test]
    fn no_platform_meshes_returns_empty() {
        assert!(platform_meshes_for_config_map("ns", "pm-profile", []).is_empty());
    }

    #[test]
    fn config_map_matches_default_name_returns_request() {
        let pms = [pm("ns", "pm", None)];
        assert_eq!(
            platform_meshes_for_config_map("ns", "pm-profile", &pms),
            [ObjectKey::namespaced("ns", "pm")]
        );
    }

    #[test]
    fn config_map_matches_explicit_ref_same_namespace() {
        let pms = [pm("ns", "pm", Some(("custom", None)))];
        assert_eq!(platform_meshes_for_config_map("ns", "custom", &pms).len(), 1);
        assert!(
            platform_meshes_for_config_map("ns", "pm-profile", &pms).is_empty(),
            "the default no longer applies"
        );
    }

    #[test]
    fn config_map_matches_explicit_ref_cross_namespace() {
        let pms = [pm("ns", "pm", Some(("custom", Some("profiles"))))];
        assert_eq!(
            platform_meshes_for_config_map("profiles", "custom", &pms),
            [ObjectKey::namespaced("ns", "pm")]
        );
        assert!(platform_meshes_for_config_map("ns", "custom", &pms).is_empty());
    }

    #[test]
    fn config_map_does_not_match_any_returns_empty() {
        let pms = [pm("ns", "pm", None), pm("ns", "other", Some(("x", None)))];
        assert!(platform_meshes_for_config_map("ns", "unrelated", &pms).is_empty());
    }

    #[test]
    fn multiple_matches_return_all_matching_requests() {
        let pms = [
            pm("a", "one", Some(("shared", Some("p")))),
            pm("b", "two", Some(("shared", Some("p")))),
        ];
        let keys = platform_meshes_for_config_map("p", "shared", &pms);
        assert_eq!(
            keys,
            [
                ObjectKey::namespaced("a", "one"),
                ObjectKey::namespaced("b", "two")
            ]
        );
    }

    #[test]
    fn default_name_wrong_namespace_does_not_match() {
        let pms = [pm("ns", "pm", None)];
        assert!(platform_meshes_for_config_map("elsewhere", "pm-profile", &pms).is_empty());
    }
}
