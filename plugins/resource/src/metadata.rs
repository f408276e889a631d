//! What a Resource stands for (spec §4.6.1): keys read from its annotations (a non-empty value wins), then its
//! labels.

use serde_json::Value;

/// The values path an image version is written to when `path` is not set.
pub const DEFAULT_VALUES_PATH: &str = "image.tag";

/// Where the version of an image Resource is read when `version-path` is not set.
pub const DEFAULT_VERSION_PATH: &str = "status.resource.version";

/// A release (HelmRelease or Application) by namespace and name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    pub namespace: String,
    pub name: String,
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.namespace, self.name)
    }
}

/// A Resource as the subroutine sees it.
#[derive(Clone, Debug)]
pub struct ResourceMeta<'a> {
    /// The whole Resource (status included).
    pub object: &'a Value,
    pub name: String,
    pub namespace: String,
}

/// The Resource name without one trailing `-image`, else without one trailing `-chart`.
pub fn trimmed_name(name: &str) -> &str {
    name.strip_suffix("-image")
        .or_else(|| name.strip_suffix("-chart"))
        .unwrap_or(name)
}

impl<'a> ResourceMeta<'a> {
    /// Reads name and namespace of `object`.
    pub fn read(object: &'a Value) -> Self {
        let text = |pointer: &str| {
            object
                .pointer(pointer)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        ResourceMeta {
            object,
            name: text("/metadata/name"),
            namespace: text("/metadata/namespace"),
        }
    }

    /// A metadata key: the annotation if it is non-empty, else the label (non-empty), else `None`.
    pub fn key(&self, key: &str) -> Option<&'a str> {
        let from = |section: &str| {
            self.object
                .pointer(&format!("/metadata/{section}"))
                .and_then(|m| m.get(key))
                .and_then(Value::as_str)
                .filter(|v| !v.is_empty())
        };
        from("annotations").or_else(|| from("labels"))
    }

    /// `repo`: `oci`, `git` or `helm`.
    pub fn repo(&self) -> Option<&'a str> {
        self.key("repo")
    }

    /// `artifact`: `chart` or `image`.
    pub fn artifact(&self) -> Option<&'a str> {
        self.key("artifact")
    }

    /// The Resource name without its `-image`/`-chart` suffix: the name of the source or Application a chart
    /// Resource drives.
    pub fn trimmed_name(&self) -> &str {
        trimmed_name(&self.name)
    }

    /// `for`: `namespace/name` (exactly one `/`) or a name in the Resource's namespace; by default the trimmed
    /// name in the Resource's namespace.
    pub fn target(&self) -> Target {
        let Some(value) = self.key("for") else {
            return Target {
                namespace: self.namespace.clone(),
                name: self.trimmed_name().to_owned(),
            };
        };
        match value.split_once('/') {
            Some((namespace, name)) if !name.contains('/') => Target {
                namespace: namespace.to_owned(),
                name: name.to_owned(),
            },
            _ => Target {
                namespace: self.namespace.clone(),
                name: value.to_owned(),
            },
        }
    }

    /// `path`: the dot-separated Helm values path of the image version.
    pub fn values_path(&self) -> &'a str {
        self.key("path").unwrap_or(DEFAULT_VALUES_PATH)
    }

    /// `version-path`: the dot-separated path inside the Resource where an image version is read.
    pub fn version_path(&self) -> &'a str {
        self.key("version-path").unwrap_or(DEFAULT_VERSION_PATH)
    }

    /// `unsuspend: "true"`: also set `spec.suspend=false` on the HelmRelease.
    pub fn unsuspend(&self) -> bool {
        self.key("unsuspend") == Some("true")
    }

    /// A non-empty string at a JSON pointer of the Resource.
    pub fn string(&self, pointer: &str) -> Option<&'a str> {
        self.object
            .pointer(pointer)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    }

    /// A non-empty string at a dot-separated path of the Resource (`status.resource.version`).
    pub fn string_at_path(&self, path: &str) -> Option<&'a str> {
        let pointer: String = path.split('.').map(|key| format!("/{key}")).collect();
        self.string(&pointer)
    }

    /// Whether OCM has published anything about the Resource yet (`status.resource` or `status.component`).
    pub fn resolved(&self) -> bool {
        let present = |pointer: &str| self.object.pointer(pointer).is_some_and(|v| !v.is_null());
        present("/status/resource") || present("/status/component")
    }

    /// `status.resource.version`.
    pub fn version(&self) -> Option<&'a str> {
        self.string("/status/resource/version")
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn resource(name: &str, labels: Value, annotations: Value) -> Value {
        json!({"metadata": {"name": name, "namespace": "ns", "labels": labels, "annotations": annotations}})
    }

    #[test]
    fn names_lose_one_image_or_chart_suffix() {
        assert_eq!(trimmed_name("keycloak-chart"), "keycloak");
        assert_eq!(trimmed_name("keycloak-image"), "keycloak");
        assert_eq!(trimmed_name("keycloak-chart-image"), "keycloak-chart");
        assert_eq!(trimmed_name("keycloak"), "keycloak");
    }

    #[test]
    fn a_non_empty_annotation_wins_over_the_label() {
        let object = resource(
            "r",
            json!({"artifact": "chart", "repo": "oci"}),
            json!({"artifact": "image", "repo": ""}),
        );
        let meta = ResourceMeta::read(&object);
        assert_eq!(meta.artifact(), Some("image"));
        assert_eq!(meta.repo(), Some("oci"));
        assert_eq!(meta.key("for"), None);
    }

    #[test]
    fn for_names_a_release_or_a_namespaced_release() {
        let target = |value: &str| {
            let object = resource("x-image", json!({}), json!({"for": value}));
            ResourceMeta::read(&object).target()
        };
        let at = |namespace: &str, name: &str| Target {
            namespace: namespace.into(),
            name: name.into(),
        };
        assert_eq!(target("kcp"), at("ns", "kcp"));
        assert_eq!(target("other/kcp"), at("other", "kcp"));
        assert_eq!(target("a/b/c"), at("ns", "a/b/c"));
        let object = resource("druid-image", json!({}), json!({}));
        assert_eq!(ResourceMeta::read(&object).target(), at("ns", "druid"));
    }

    #[test]
    fn paths_have_defaults() {
        let plain = resource("x", json!({}), json!({}));
        let meta = ResourceMeta::read(&plain);
        assert_eq!(
            (meta.values_path(), meta.version_path(), meta.unsuspend()),
            ("image.tag", "status.resource.version", false)
        );
        let custom = resource(
            "x",
            json!({"unsuspend": "true"}),
            json!({"path": "webhook.image.tag", "version-path": "status.component.version"}),
        );
        let meta = ResourceMeta::read(&custom);
        assert_eq!(
            (meta.values_path(), meta.version_path(), meta.unsuspend()),
            ("webhook.image.tag", "status.component.version", true)
        );
    }

    #[test]
    fn dotted_paths_read_non_empty_strings() {
        let object = json!({"status": {"resource": {"version": "1.0"}, "component": {"version": ""}}});
        let meta = ResourceMeta::read(&object);
        assert_eq!(meta.string_at_path("status.resource.version"), Some("1.0"));
        assert_eq!(meta.string_at_path("status.component.version"), None);
        assert_eq!(meta.string_at_path("status.missing"), None);
    }
}
