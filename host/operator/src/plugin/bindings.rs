//! Host-side bindings generated from `wit/operator.wit`. Imports and exports are async: host imports are kube
//! calls, and async exports let a long-running guest yield to the executor at epoch ticks.

wasmtime::component::bindgen!({
    world: "plugin",
    path: "../../wit",
    imports: { default: async },
    exports: { default: async },
});

pub use exports::platform_mesh::operator::subroutine as wit_subroutine;
pub use platform_mesh::operator::{cluster, image_versions, log, templates, types};
