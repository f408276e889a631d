//! An embedded Kubernetes + kcp compatible API server: the project's envtest.
//!
//! It speaks the Kubernetes REST protocol over plain HTTP on loopback, closely enough that kube-rs and kubectl
//! work against it unchanged: discovery, get/list/watch/create/update/patch (merge, JSON, strategic-as-merge,
//! server-side apply with managed fields)/delete, the status subresource, resourceVersion conflicts, generation,
//! finalizers, owner-reference garbage collection, CRDs that become served types with schema and CEL validation,
//! and kcp logical clusters under `/clusters/<path>`. Anonymous requests are cluster-admin. It is not a
//! production store: everything lives in memory (optionally snapshotted to a file).
//!
//! # Usage
//!
//! ```no_run
//! # async fn demo() -> Result<(), apiserver::Error> {
//! let server = apiserver::start(apiserver::ServerConfig::default()).await?;
//! let client = server.client(); // plain cluster
//! let kcp = server.kcp_client("root:orgs"); // a kcp workspace
//! # let _ = (client, kcp);
//! let before = server.requests().snapshot();
//! // ... run the code under test ...
//! assert_eq!(server.requests().snapshot().changed_writes, before.changed_writes);
//! server.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! # Test instrumentation
//!
//! [`Server::requests`] counts requests per verb, resource and cluster, separating writes that changed state from
//! no-op writes (see [`debug::RequestStats`]); [`Server::faults`] injects errors, latency and dropped watches.
//! Both are also reachable over HTTP under `/debug/requests` and `/debug/faults`.

pub mod auth;
pub mod debug;
pub mod http;
pub mod kcp;
pub mod kubeconfig;
pub mod proto;
pub mod resources;
pub mod selector;
mod server;
/// Simulated external controllers (Flux, Argo CD, cert-manager, kcp, OCM, ...).
pub mod sim;
pub mod snapshot;
pub mod ssa;
pub mod status;
pub mod store;
pub mod time;
pub mod validation;

pub use debug::{FaultAction, FaultInjector, FaultRule, RequestLog, RequestStats, Verb};
pub use kcp::logical_cluster_name;
pub use server::{DEFAULT_WATCH_HISTORY, Error, Server, ServerConfig, start};
