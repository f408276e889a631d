//! Where a lifecycle gets its chain: fixed at construction, or read from a live source at the start of every
//! pass, so a plugin-set swap takes effect on the next pass while a running pass finishes on the chain it began
//! with.

use std::sync::Arc;

use super::subroutine::Subroutine;

/// The chain a pass runs.
pub type Chain = Arc<[Arc<dyn Subroutine>]>;

/// Produces the chain of the next pass.
pub type LiveChain = Arc<dyn Fn() -> Chain + Send + Sync>;

/// A lifecycle's chain: fixed, or taken from a live source once per pass.
#[derive(Clone)]
pub enum ChainSource {
    /// The same chain for every pass.
    Fixed(Chain),
    /// Asked at the start of each pass (the plugin set in service).
    Live(LiveChain),
}

impl ChainSource {
    /// A live source.
    pub fn live(source: impl Fn() -> Chain + Send + Sync + 'static) -> Self {
        ChainSource::Live(Arc::new(source))
    }

    /// The chain for one pass.
    pub fn snapshot(&self) -> Chain {
        match self {
            ChainSource::Fixed(chain) => chain.clone(),
            ChainSource::Live(source) => source(),
        }
    }
}

impl From<Vec<Arc<dyn Subroutine>>> for ChainSource {
    fn from(chain: Vec<Arc<dyn Subroutine>>) -> Self {
        ChainSource::Fixed(chain.into())
    }
}
