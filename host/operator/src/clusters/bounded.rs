//! A map with a fixed number of entries that forgets the least recently used one when full. Keys of the client
//! and discovery caches come from plugins (kcp workspace paths, kinds), so no cache may grow with them.

use std::{collections::HashMap, hash::Hash};

/// At most `capacity` entries; a lookup or insert marks an entry used.
pub struct BoundedMap<K, V> {
    capacity: usize,
    tick: u64,
    entries: HashMap<K, (V, u64)>,
}

impl<K: Eq + Hash + Clone, V: Clone> BoundedMap<K, V> {
    /// An empty map holding at most `capacity` (at least one) entries.
    pub fn new(capacity: usize) -> Self {
        BoundedMap {
            capacity: capacity.max(1),
            tick: 0,
            entries: HashMap::new(),
        }
    }

    fn next_tick(&mut self) -> u64 {
        self.tick += 1;
        self.tick
    }

    /// A copy of the value of `key`, marking it used.
    pub fn get(&mut self, key: &K) -> Option<V> {
        let tick = self.next_tick();
        let (value, used) = self.entries.get_mut(key)?;
        *used = tick;
        Some(value.clone())
    }

    /// Inserts or replaces `key`, first forgetting the least recently used entry when full.
    pub fn insert(&mut self, key: K, value: V) {
        let tick = self.next_tick();
        if !self.entries.contains_key(&key)
            && self.entries.len() >= self.capacity
            && let Some(oldest) = self
                .entries
                .iter()
                .min_by_key(|(_, (_, used))| *used)
                .map(|(k, _)| k.clone())
        {
            self.entries.remove(&oldest);
        }
        self.entries.insert(key, (value, tick));
    }

    /// Forgets every entry.
    pub fn clear(&mut self) {
        self.entries.clear();
    }

    /// Forgets the entries whose key matches.
    pub fn retain(&mut self, mut keep: impl FnMut(&K) -> bool) {
        self.entries.retain(|k, _| keep(k));
    }

    /// The number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the map holds nothing.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::BoundedMap;

    #[test]
    fn the_least_recently_used_entry_goes_at_the_bound() {
        let mut map = BoundedMap::new(3);
        for k in ["a", "b", "c"] {
            map.insert(k, k.len());
        }
        assert_eq!(map.len(), 3);
        assert_eq!(map.get(&"a"), Some(1), "a is used again");
        map.insert("d", 1);
        assert_eq!(map.len(), 3, "at the bound, one goes");
        assert_eq!(map.get(&"b"), None, "b was the least recently used");
        assert!(map.get(&"a").is_some() && map.get(&"c").is_some() && map.get(&"d").is_some());
        map.insert("d", 2);
        assert_eq!(
            (map.len(), map.get(&"d")),
            (3, Some(2)),
            "replacing evicts nothing"
        );
        map.retain(|k| *k != "a");
        assert_eq!(map.len(), 2);
        map.clear();
        assert!(map.is_empty());
    }
}
