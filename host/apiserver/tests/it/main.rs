//! The embedded API server's integration tests, one binary (one link step) with a module per area.

mod apiexport;
mod apply;
mod auth;
mod clients;
mod common;
mod crd;
mod crud;
mod debug;
mod events;
mod helm;
mod invariants;
mod kcp;
mod kubectl;
mod kubectl_matrix;
mod openapi;
mod protobuf;
mod reviews;
mod snapshot;
mod watch;
