//! Controllers: kube-runtime `Controller`s that run a lifecycle chain per object. The reconcile itself is written
//! once ([`runner`]); each controller file keeps only what is its own: its API, its start-up policy and watches.

pub mod chain_source;
pub mod downgrade;
pub mod events;
pub mod health;
pub mod leader;
pub mod managedprovider;
pub mod mapper;
pub mod operator;
pub mod platformmesh;
pub mod predicate;
pub mod profiles;
pub mod progress;
pub mod provider;
pub mod resource;
pub mod runner;
pub mod vworkspace;

pub use chain_source::chain_source;
pub use platformmesh::{ControllerError, ControllerSettings, run as run_platform_mesh};
pub use progress::{ProgressEvent, ProgressSink};
