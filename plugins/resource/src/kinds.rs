//! The kinds the subroutine reads and writes.

use platform_mesh_plugin_sdk::Gvk;

/// `core.platform-mesh.io/v1alpha1` PlatformMesh (runtime cluster, read).
pub fn platform_mesh() -> Gvk {
    Gvk::new("core.platform-mesh.io", "v1alpha1", "PlatformMesh")
}

/// `v1` ConfigMap (runtime cluster, read: the profile).
pub fn config_map() -> Gvk {
    Gvk::new("", "v1", "ConfigMap")
}

/// `source.toolkit.fluxcd.io/v1` OCIRepository (infra cluster, applied).
pub fn oci_repository() -> Gvk {
    Gvk::new("source.toolkit.fluxcd.io", "v1", "OCIRepository")
}

/// `source.toolkit.fluxcd.io/v1` GitRepository (infra cluster, applied).
pub fn git_repository() -> Gvk {
    Gvk::new("source.toolkit.fluxcd.io", "v1", "GitRepository")
}

/// `source.toolkit.fluxcd.io/v1` HelmRepository (infra cluster, applied).
pub fn helm_repository() -> Gvk {
    Gvk::new("source.toolkit.fluxcd.io", "v1", "HelmRepository")
}

/// `helm.toolkit.fluxcd.io/v2` HelmRelease (infra cluster, read and patched).
pub fn helm_release() -> Gvk {
    Gvk::new("helm.toolkit.fluxcd.io", "v2", "HelmRelease")
}

/// `argoproj.io/v1alpha1` Application (infra cluster, read and applied).
pub fn application() -> Gvk {
    Gvk::new("argoproj.io", "v1alpha1", "Application")
}
