//! Detects whether the YAML module (written in parallel in `src/yaml/`) is present yet, so the crate keeps
//! building while it lands. Remove this file once `src/yaml/mod.rs` is committed.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(gotmpl_yaml)");
    println!("cargo::rerun-if-changed=src/yaml");
    println!("cargo::rerun-if-changed=src/yaml/mod.rs");
    println!("cargo::rerun-if-env-changed=GOTMPL_YAML_PENDING");
    // GOTMPL_YAML_PENDING lets the rest of the crate be tested while the YAML module is mid-edit.
    if std::path::Path::new("src/yaml/mod.rs").exists() && std::env::var_os("GOTMPL_YAML_PENDING").is_none() {
        println!("cargo::rustc-cfg=gotmpl_yaml");
    }
}
