//! Upstream's "static then exponential" rate limiter for failed reconciles (spec §2.5), keyed by object identity.
//!
//! The first failure of a key starts a window and returns the static delay; failures within the window keep
//! returning it; afterwards the delay grows exponentially from `exp_initial`, doubling per failure, capped at
//! `exp_max`. A successful reconcile forgets the key.

use std::{
    collections::HashMap,
    hash::Hash,
    sync::Mutex,
    time::{Duration, Instant},
};

/// Parameters of the limiter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BackoffConfig {
    /// Delay returned within the window.
    pub static_delay: Duration,
    /// How long after the first failure the static delay applies.
    pub window: Duration,
    /// First exponential delay.
    pub exp_initial: Duration,
    /// Cap of the exponential delay.
    pub exp_max: Duration,
}

impl BackoffConfig {
    /// The PlatformMesh controller: 30 s / 20 min / 30 s / 1 min.
    pub const PLATFORM_MESH: BackoffConfig = BackoffConfig {
        static_delay: Duration::from_secs(30),
        window: Duration::from_secs(20 * 60),
        exp_initial: Duration::from_secs(30),
        exp_max: Duration::from_secs(60),
    };

    /// The Resource, ManagedProvider and Provider controllers: 2 s / 60 s / 2 s / 1000 s.
    pub const DEFAULT: BackoffConfig = BackoffConfig {
        static_delay: Duration::from_secs(2),
        window: Duration::from_secs(60),
        exp_initial: Duration::from_secs(2),
        exp_max: Duration::from_secs(1000),
    };
}

#[derive(Debug)]
struct Entry {
    first_failure: Instant,
    exp_failures: u32,
}

/// A rate limiter keyed by `K` (an object identity).
#[derive(Debug)]
pub struct Backoff<K> {
    config: BackoffConfig,
    entries: Mutex<HashMap<K, Entry>>,
}

impl<K: Eq + Hash + Clone> Backoff<K> {
    /// A limiter with these parameters and no history.
    pub fn new(config: BackoffConfig) -> Self {
        Backoff {
            config,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// The delay before retrying `key` after a failure now.
    pub fn next_delay(&self, key: &K) -> Duration {
        self.next_delay_at(key, Instant::now())
    }

    /// The delay before retrying `key` after a failure at `now`.
    pub fn next_delay_at(&self, key: &K, now: Instant) -> Duration {
        let mut entries = self
            .entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let entry = entries.entry(key.clone()).or_insert(Entry {
            first_failure: now,
            exp_failures: 0,
        });
        if now.saturating_duration_since(entry.first_failure) <= self.config.window {
            return self.config.static_delay;
        }
        let factor = 2u32.saturating_pow(entry.exp_failures);
        entry.exp_failures = entry.exp_failures.saturating_add(1);
        self.config
            .exp_initial
            .saturating_mul(factor)
            .min(self.config.exp_max)
    }

    /// Forgets the failure history of `key` (after a successful reconcile).
    pub fn forget(&self, key: &K) {
        self.entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .remove(key);
    }

    /// How many keys have a failure history.
    pub fn len(&self) -> usize {
        self.entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .len()
    }

    /// Whether no key has a failure history.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn static_within_window_then_exponential_and_capped() {
        let limiter = Backoff::new(BackoffConfig::DEFAULT);
        let t0 = Instant::now();
        assert_eq!(limiter.next_delay_at(&"a", t0), Duration::from_secs(2));
        assert_eq!(
            limiter.next_delay_at(&"a", t0 + Duration::from_secs(60)),
            Duration::from_secs(2)
        );
        let late = t0 + Duration::from_secs(61);
        let delays: Vec<u64> = (0..11)
            .map(|_| limiter.next_delay_at(&"a", late).as_secs())
            .collect();
        assert_eq!(delays, [2, 4, 8, 16, 32, 64, 128, 256, 512, 1000, 1000]);
    }

    #[test]
    fn keys_are_independent_and_forget_resets() {
        let limiter = Backoff::new(BackoffConfig::PLATFORM_MESH);
        let t0 = Instant::now();
        limiter.next_delay_at(&"a", t0);
        let late = t0 + Duration::from_secs(20 * 60 + 1);
        assert_eq!(limiter.next_delay_at(&"a", late), Duration::from_secs(30));
        assert_eq!(limiter.next_delay_at(&"a", late), Duration::from_secs(60));
        assert_eq!(limiter.next_delay_at(&"b", late), Duration::from_secs(30));
        limiter.forget(&"a");
        assert_eq!(limiter.len(), 1);
        assert_eq!(limiter.next_delay_at(&"a", late), Duration::from_secs(30));
    }
}
