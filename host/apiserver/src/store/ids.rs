//! Random identifiers (uids, tokens) without an extra dependency: std's randomly keyed SipHash.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};

static COUNTER: AtomicU64 = AtomicU64::new(0);

pub(crate) fn random_u64() -> u64 {
    let mut h = RandomState::new().build_hasher();
    h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    h.finish()
}

/// `n` random bytes as lowercase hex.
pub fn random_hex(n: usize) -> String {
    let mut s = String::with_capacity(n * 2);
    while s.len() < n * 2 {
        s.push_str(&format!("{:016x}", random_u64()));
    }
    s.truncate(n * 2);
    s
}

/// A random version-4 UUID string.
pub fn uid() -> String {
    let h = random_hex(16);
    let variant = ['8', '9', 'a', 'b'][usize::from_str_radix(&h[16..17], 16).unwrap_or(0) % 4];
    format!(
        "{}-{}-4{}-{variant}{}-{}",
        &h[0..8],
        &h[8..12],
        &h[13..16],
        &h[17..20],
        &h[20..32]
    )
}
