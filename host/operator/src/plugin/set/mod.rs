//! Plugin sets: which plugins run, from which source, with which permissions and in which chains — the plugin
//! ConfigMap's manifest or the built-in default — fetched (file, ConfigMap, OCI), verified, assembled into an
//! immutable set through the [`super::sandbox`], put in force and swapped live.

pub(super) mod active;
pub(super) mod assemble;
pub(super) mod defaults;
pub(super) mod live;
pub mod manifest;
pub mod oci;
pub mod source;
pub mod verify;
