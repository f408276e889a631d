//! The platform-mesh operator host.
//!
//! The host owns the Kubernetes clients and the reconcile loop; every subroutine of a reconcile chain is a
//! WebAssembly component (see `wit/operator.wit`) loaded by [`plugin`] and run by the [`lifecycle`] engine.

pub mod lifecycle;
