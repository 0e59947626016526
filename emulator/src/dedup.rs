//! The deduplication cache of a listener (RFC 7252 4.5): the answer sent to
//! each (peer, message id) within EXCHANGE_LIFETIME, replayed when the same
//! request comes again.
//!
//! Entries are evicted in the order they were made, so their bytes live in
//! one ring of bytes beside them instead of a small allocation each: with
//! 200,000 answers alive at fleet rates, one long-lived allocation per
//! request fragmented the heap until malloc alone took a fifth of the
//! listener's time.

use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasher, Hasher};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

pub(crate) type Key = (SocketAddr, u16);

/// RFC 7252 EXCHANGE_LIFETIME: how long an answer is remembered.
pub const EXCHANGE_LIFETIME: Duration = Duration::from_secs(247);

struct Entry {
    made: Instant,
    key: Key,
    /// Where its bytes start in the ring (counted since the cache began).
    at: u64,
    len: usize,
}

/// The index's hasher: multiply and rotate over the key's words, from a
/// random start per cache. SipHash, the std default, was most of the
/// lookup and insert a listener does for every request; the random start
/// still keeps a peer from picking addresses that collide.
#[derive(Clone)]
pub(crate) struct KeyHash(u64);

impl KeyHash {
    fn random() -> KeyHash {
        KeyHash(std::collections::hash_map::RandomState::new().hash_one(0u8) | 1)
    }
}

impl BuildHasher for KeyHash {
    type Hasher = KeyHasher;
    fn build_hasher(&self) -> KeyHasher {
        KeyHasher(self.0)
    }
}

pub(crate) struct KeyHasher(u64);

impl KeyHasher {
    fn add(&mut self, x: u64) {
        self.0 = (self.0.rotate_left(23) ^ x).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

impl Hasher for KeyHasher {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut w = [0u8; 8];
            w[..chunk.len()].copy_from_slice(chunk);
            self.add(u64::from_le_bytes(w));
        }
    }
    fn write_u8(&mut self, x: u8) {
        self.add(x.into());
    }
    fn write_u16(&mut self, x: u16) {
        self.add(x.into());
    }
    fn write_u32(&mut self, x: u32) {
        self.add(x.into());
    }
    fn write_u64(&mut self, x: u64) {
        self.add(x);
    }
    fn write_usize(&mut self, x: usize) {
        self.add(x as u64);
    }
    fn finish(&self) -> u64 {
        // The table picks buckets by the low bits: fold the well-mixed
        // high half into them.
        self.0 ^ (self.0 >> 29)
    }
}

pub(crate) struct DedupCache {
    lifetime: Duration,
    max: usize,
    /// Key → (start, length) of its answer in `bytes`.
    index: HashMap<Key, (u64, usize), KeyHash>,
    order: VecDeque<Entry>,
    bytes: VecDeque<u8>,
    /// Position of `bytes[0]`.
    first: u64,
}

impl DedupCache {
    pub fn new(lifetime: Duration, max: usize) -> Self {
        DedupCache {
            lifetime,
            max,
            index: HashMap::with_hasher(KeyHash::random()),
            order: VecDeque::new(),
            bytes: VecDeque::new(),
            first: 0,
        }
    }

    /// The answer given to `key`, if still remembered.
    pub fn get(&self, key: &Key) -> Option<Vec<u8>> {
        let &(at, len) = self.index.get(key)?;
        let from = (at - self.first) as usize;
        Some(self.bytes.range(from..from + len).copied().collect())
    }

    /// Remembers `answer` for `key`, forgetting what is too old or too many.
    pub fn insert(&mut self, key: Key, answer: &[u8], now: Instant) {
        while let Some(e) = self.order.front() {
            if now.duration_since(e.made) < self.lifetime && self.order.len() < self.max {
                break;
            }
            let e = self.order.pop_front().expect("front exists");
            // Only if the key still names these bytes (not forgotten and
            // answered again since).
            if self.index.get(&e.key).is_some_and(|&(at, _)| at == e.at) {
                self.index.remove(&e.key);
            }
            self.bytes.drain(..e.len);
            self.first += e.len as u64;
        }
        let at = self.first + self.bytes.len() as u64;
        self.bytes.extend(answer);
        self.index.insert(key, (at, answer.len()));
        self.order.push_back(Entry {
            made: now,
            key,
            at,
            len: answer.len(),
        });
    }

    /// Forgets `peer`'s answers (its bytes go when their turn comes).
    pub fn forget_peer(&mut self, peer: SocketAddr) {
        self.index.retain(|(p, _), _| *p != peer);
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.index.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replays_then_evicts_by_age_and_count() {
        let a: SocketAddr = "127.0.0.1:1000".parse().unwrap();
        let b: SocketAddr = "127.0.0.1:2000".parse().unwrap();
        let t0 = Instant::now();
        let mut c = DedupCache::new(Duration::from_secs(10), 3);
        c.insert((a, 1), b"one", t0);
        c.insert((b, 1), b"two!", t0);
        assert_eq!(c.get(&(a, 1)).unwrap(), b"one");
        assert_eq!(c.get(&(b, 1)).unwrap(), b"two!");
        assert_eq!(c.get(&(a, 2)), None);
        c.forget_peer(a);
        assert_eq!(c.get(&(a, 1)), None);
        // Answered again after being forgotten: the old entry's eviction
        // must not take the new answer with it.
        c.insert((a, 1), b"again", t0);
        c.insert((a, 3), b"x", t0);
        assert_eq!(
            c.get(&(a, 1)).unwrap(),
            b"again",
            "count bound evicted only the oldest"
        );
        assert_eq!(c.get(&(b, 1)).unwrap(), b"two!");
        c.insert((a, 4), b"y", t0 + Duration::from_secs(11));
        assert_eq!(c.len(), 1, "all older than the lifetime are gone");
        assert_eq!(c.get(&(a, 4)).unwrap(), b"y");
        assert_eq!(c.bytes.len(), 1);
    }
}
