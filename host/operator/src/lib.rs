//! The platform-mesh operator host.
//!
//! The host owns the Kubernetes clients and the reconcile loop; every subroutine of a reconcile chain is a
//! WebAssembly component (see `wit/operator.wit`) loaded by [`plugin`] and run by the [`lifecycle`] engine.

pub mod chains;
pub mod cli;
pub mod clusters;
pub mod config;
pub mod controller;
pub mod crd;
pub mod embedded;
pub mod errors;
pub mod hostapi;
pub mod lifecycle;
pub mod listen;
pub mod metrics;
pub mod plugin;
pub mod render;
pub mod target;
pub(crate) mod wit;
