//! Native tests of the plugin logic on the SDK FakeHost, over the real `manifests/kcp` rendered with the real
//! template engine. The same behaviour against the embedded API server is covered by `tests/e2e_kcp_setup.rs`.

mod fixtures;
mod inventory;
mod manifests;
mod process;
