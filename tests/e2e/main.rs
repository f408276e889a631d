//! The end-to-end scenarios: the real host with the real wasm plugins against the embedded API server, in one test
//! binary (one link step) over the harness in `tests/src`. A new scenario is a module file here and a line below.
//! Scenarios that read process-wide state live in `tests/alone/`, one binary each.

mod chart;
mod chart_helm;
mod chart_metrics;
mod deployment;
mod deployment_argocd;
mod deployment_bad_input;
mod drop_in;
mod feature_toggles;
mod kcp_setup;
mod managed_provider;
mod plugin_sources;
mod plugin_swap;
mod provider_secret;
mod provider_secret_inventory;
mod reliability_api_faults;
mod reliability_leader;
mod reliability_restart;
mod render_golden;
mod resource;
mod resource_argocd;
mod takeover;
mod wait;
mod wait_documented;
