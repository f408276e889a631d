//! The operator's integration tests in one binary (one link step): each module is one former test file. A new test
//! file is a module here and a line below, not a file beside `it/` (each of those becomes a binary of its own).
//! `plugin_logging.rs` stays a binary of its own: it installs a tracing subscriber, whose callsite interest is
//! process-wide, while the other tests log from other threads.

#[path = "../plugin_support/mod.rs"]
mod plugin_support;
#[path = "../support/mod.rs"]
mod support;

mod binary_takeover;
mod controller_embedded;
mod controller_platformmesh;
mod crds;
mod crds_roundtrip;
mod embedded_main_job;
mod fuzz_corpus;
mod hostile_plugin;
mod leader_binary;
mod leader_election;
mod lifecycle_engine;
mod live_chain;
mod managed_provider_paths;
mod metrics_secure;
mod plugin_runtime;
mod readme_flags;
mod sandbox;
