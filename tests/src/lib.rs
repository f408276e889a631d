//! The end-to-end harness: what the scenarios under `tests/e2e/` (and the benchmarks) share.
//!
//! - [`platform`]: the embedded API server with simulators and the operator's CRDs, the repository's samples,
//!   the objects other subroutines would have left behind;
//! - [`operator`]: the operator's configuration from its flags, its clients, a running operator and the
//!   condition changes it reports ([`operator::Want`]), single reconcile passes ([`operator::Passes`]);
//! - [`api`]: dynamic APIs over any kind, the tests' own writes, conditions;
//! - [`wait`]: waits on observable state — polled checks, objects that appear or go, request counters that stand
//!   still or grow;
//! - [`faults`]: fault injection with a printed seed that replays a failing run;
//! - the scenario families' set-ups: [`deployment`], [`kcp`], [`providers`], [`resource`], [`reliability`],
//!   [`chart`] (a `helm template` stand-in and the chart's identity), [`oci_registry`];
//! - [`takeover`]: the state a Go operator leaves behind, and what a pass changed of it.

pub mod api;
pub mod chart;
pub mod deployment;
pub mod faults;
pub mod kcp;
pub mod oci_registry;
pub mod operator;
pub mod platform;
pub mod providers;
pub mod reliability;
pub mod resource;
pub mod takeover;
pub mod wait;
