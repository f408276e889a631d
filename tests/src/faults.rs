//! Fault injection with a replayable seed: the draws of rate-limited fault rules come from a seed that is printed,
//! and `E2E_FAULT_SEED=<seed>` runs a failing test again with the same draws.

use apiserver::Server;

/// The variable that fixes the seed.
pub const SEED_VARIABLE: &str = "E2E_FAULT_SEED";

/// Seeds the fault injector of `server` from `E2E_FAULT_SEED`, or from a fresh random seed, prints it and returns
/// it.
pub fn seed(server: &Server) -> u64 {
    let seed = std::env::var(SEED_VARIABLE)
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or_else(fresh);
    server.faults().seed(seed);
    println!("fault seed {seed} (replay with {SEED_VARIABLE}={seed})");
    seed
}

fn fresh() -> u64 {
    use std::hash::{BuildHasher, RandomState};
    RandomState::new().hash_one(std::time::SystemTime::now())
}
