//! The raw bindings generated from `wit/operator.wit`. Plugins rarely need them: the SDK's [`crate::Host`] trait
//! and [`crate::export_plugin!`] wrap them.

wit_bindgen::generate!({
    world: "plugin",
    path: "../../wit",
    pub_export_macro: true,
    export_macro_name: "export_raw",
    default_bindings_module: "::platform_mesh_plugin_sdk::bindings",
    runtime_path: "::platform_mesh_plugin_sdk::__private::wit_bindgen::rt",
    generate_all,
});
