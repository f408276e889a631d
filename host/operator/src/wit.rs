//! Host-side bindings generated from `wit/operator.wit`. Imports and exports are async: host imports are kube
//! calls, and async exports let a long-running guest yield to the executor at epoch ticks.

wasmtime::component::bindgen!({
    world: "plugin",
    path: "../../wit",
    // The image-versions imports have no error in their signatures; a refused call traps (hostapi).
    imports: { "platform-mesh:operator/image-versions": async | trappable, default: async },
    exports: { default: async },
});

pub use exports::platform_mesh::operator::subroutine as wit_subroutine;
pub use platform_mesh::operator::{cluster, image_versions, log, templates, types};
