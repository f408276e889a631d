//! The embedded API server's integration tests, one binary (one link step) with a module per area.

mod apiexport;
mod apply;
mod auth;
mod common;
mod crd;
mod crud;
mod debug;
mod invariants;
mod kcp;
mod kubectl;
mod snapshot;
mod watch;
