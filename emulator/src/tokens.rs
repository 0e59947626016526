//! The tokens the platform has issued, with amortised expiry.
//!
//! Every token lives for the same `ttl`, so tokens expire in the order they
//! were issued: a FIFO of (expiry, token) beside the map is enough. Each
//! issue retires at most [`RETIRE_PER_ISSUE`] expired tokens from the front
//! of the FIFO, so no request ever scans the whole store and the cost of an
//! `/auth` does not grow with the number of tokens alive (a scan of the map
//! on every auth made `/auth` fall from ~25k/s to under 1k/s at 100,000
//! tokens). Retiring two per issue keeps up with any issue rate: the FIFO
//! never holds more expired tokens than it did before the last issue.
//!
//! Lookups check the expiry themselves, so a token is refused the moment
//! it expires even if it has not been retired yet.
//!
//! A token is 128 bits shown as 32 lowercase hex digits: 96 random bits,
//! then the low 32 bits of its place in the deque. Finding a token is
//! reading its place and comparing the whole token, and issuing one writes
//! only at the deque's end: no hash index at all. (With a hash index,
//! every issue wrote to a random place in a table of tens of megabytes, a
//! cache and TLB miss each time, and at a million tokens `/auth` lost a
//! quarter of its rate.) The deque never holds 2^32 tokens, so 32 bits of
//! place are unambiguous; the 96 random bits keep tokens unguessable.

use std::collections::{HashSet, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use iotx_coap::core::psk::PskKey;

use crate::config::Device;

/// Expired tokens retired per token issued.
const RETIRE_PER_ISSUE: usize = 2;

/// A PSK session: its key, the seqOffset it was given and the sequence
/// numbers already used under it.
pub(crate) struct PskSession {
    pub key: PskKey,
    pub seq_offset: u64,
    pub used: HashSet<u64>,
}

/// What a token grants.
pub(crate) struct TokenInfo {
    pub device: Arc<Device>,
    /// The listener that issued it (a token is only valid there).
    pub listener: &'static str,
    pub expires: Instant,
    /// Boxed: most tokens are not PSK, and the deque stays compact.
    pub psk: Option<Box<PskSession>>,
}

/// Why a presented token is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TokenError {
    Unknown,
    Expired,
    /// Issued on another listener (named).
    OtherListener(&'static str),
}

struct Slot {
    id: u128,
    info: TokenInfo,
}

/// Slots per chunk of the deque.
const CHUNK: usize = 4096;

/// A deque in fixed chunks: growing never copies what is stored (a
/// `VecDeque` doubling at a million tokens moved 64 MB in one go, which
/// alone cost a fifth of the `/auth` rate around that size).
#[derive(Default)]
struct Slots {
    chunks: VecDeque<Vec<Option<Slot>>>,
    /// Index of the front slot in the first chunk.
    head: usize,
    len: usize,
}

impl Slots {
    fn len(&self) -> usize {
        self.len
    }

    fn push_back(&mut self, slot: Slot) {
        if self.chunks.back().map_or(true, |c| c.len() == CHUNK) {
            self.chunks.push_back(Vec::with_capacity(CHUNK));
        }
        self.chunks
            .back_mut()
            .expect("just ensured")
            .push(Some(slot));
        self.len += 1;
    }

    fn front(&self) -> Option<&Option<Slot>> {
        (self.len > 0).then(|| &self.chunks[0][self.head])
    }

    fn pop_front(&mut self) {
        if self.len == 0 {
            return;
        }
        self.chunks[0][self.head] = None;
        self.head += 1;
        self.len -= 1;
        if self.head == CHUNK || self.len == 0 {
            self.chunks.pop_front();
            self.head = 0;
        }
    }

    fn get_mut(&mut self, i: usize) -> Option<&mut Option<Slot>> {
        if i >= self.len {
            return None;
        }
        let j = self.head + i;
        Some(&mut self.chunks[j / CHUNK][j % CHUNK])
    }
}

#[derive(Default)]
pub(crate) struct TokenStore {
    /// Issue order, which is expiry order (one ttl for all); `None` where
    /// a token was dropped early (found expired).
    slots: Slots,
    /// Place of `slots[0]` since the store began (wrapping).
    first: u32,
    /// Tokens held (`Some` slots).
    live: usize,
}

/// The token's text form: 32 lowercase hex digits.
pub(crate) fn token_text(id: u128) -> String {
    format!("{id:032x}")
}

/// The number behind a token's text; `None` for anything not issued by us.
fn token_id(text: &[u8]) -> Option<u128> {
    if text.len() != 32 || !text.iter().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return None;
    }
    u128::from_str_radix(std::str::from_utf8(text).ok()?, 16).ok()
}

impl TokenStore {
    /// Stores a token issued now, made of `random`'s high 96 bits and its
    /// place; retires a few expired tokens first. Returns the token.
    pub fn issue(&mut self, random: u128, info: TokenInfo, now: Instant) -> u128 {
        self.retire_expired(now, RETIRE_PER_ISSUE);
        let place = self.first.wrapping_add(self.slots.len() as u32);
        let id = (random & !u128::from(u32::MAX)) | u128::from(place);
        self.slots.push_back(Slot { id, info });
        self.live += 1;
        id
    }

    fn retire_expired(&mut self, now: Instant, at_most: usize) {
        for _ in 0..at_most {
            match self.slots.front() {
                Some(Some(s)) if s.info.expires <= now => self.live -= 1,
                Some(None) => {}
                _ => return,
            }
            self.slots.pop_front();
            self.first = self.first.wrapping_add(1);
        }
    }

    /// The token presented on `listener`, if it is valid there now.
    pub fn lookup(
        &mut self,
        text: &[u8],
        listener: &str,
        now: Instant,
    ) -> Result<&mut TokenInfo, TokenError> {
        let id = token_id(text).ok_or(TokenError::Unknown)?;
        let at = (id as u32).wrapping_sub(self.first) as usize;
        let slot = self.slots.get_mut(at).ok_or(TokenError::Unknown)?;
        let info = match slot {
            Some(s) if s.id == id => &s.info,
            _ => return Err(TokenError::Unknown),
        };
        if info.expires <= now {
            // Its place is skipped when it reaches the front.
            *slot = None;
            self.live -= 1;
            return Err(TokenError::Expired);
        }
        if info.listener != listener {
            return Err(TokenError::OtherListener(info.listener));
        }
        match slot {
            Some(s) => Ok(&mut s.info),
            None => Err(TokenError::Unknown),
        }
    }

    /// Tokens held (expired ones not yet retired included).
    pub fn len(&self) -> usize {
        self.live
    }
}

/// A token's lifetime from `now`, saturating far in the future.
pub(crate) fn expiry(now: Instant, ttl: Duration) -> Instant {
    now.checked_add(ttl)
        .unwrap_or_else(|| now + Duration::from_secs(100 * 365 * 86_400))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(expires: Instant) -> TokenInfo {
        TokenInfo {
            device: Arc::new(Device::new("pk", "dn", "secret")),
            listener: "plain",
            expires,
            psk: None,
        }
    }

    #[test]
    fn a_token_takes_64_bytes() {
        // What the README's "a million tokens take 64 MB" rests on.
        assert_eq!(std::mem::size_of::<Option<Slot>>(), 64);
    }

    #[test]
    fn tokens_across_chunks() {
        let t0 = Instant::now();
        let mut s = TokenStore::default();
        let ids: Vec<u128> = (0..3 * CHUNK as u128 + 5)
            .map(|k| s.issue(k << 64, info(t0 + Duration::from_secs(1)), t0))
            .collect();
        for id in [ids[0], ids[CHUNK - 1], ids[CHUNK], ids[3 * CHUNK + 4]] {
            assert!(s.lookup(token_text(id).as_bytes(), "plain", t0).is_ok());
        }
        // Everything expires; new issues retire the old two at a time,
        // freeing whole chunks as they empty.
        let later = t0 + Duration::from_secs(2);
        for k in 0..CHUNK as u128 + 10 {
            s.issue(k << 80, info(later + Duration::from_secs(1)), later);
        }
        // 2 * (CHUNK + 10) retired: the first two chunks are gone (without
        // that, places up to 4 * CHUNK + 14 would span five chunks).
        assert_eq!(s.slots.chunks.len(), 3);
        assert_eq!(
            s.lookup(token_text(ids[3 * CHUNK]).as_bytes(), "plain", later)
                .err(),
            Some(TokenError::Expired)
        );
        assert_eq!(
            s.lookup(token_text(ids[0]).as_bytes(), "plain", later)
                .err(),
            Some(TokenError::Unknown)
        );
    }

    #[test]
    fn text_round_trip_and_foreign_tokens() {
        let id = 0x0123_4567_89ab_cdef_0011_2233_4455_6677u128;
        let t = token_text(id);
        assert_eq!(t, "0123456789abcdef0011223344556677");
        assert_eq!(token_id(t.as_bytes()), Some(id));
        assert_eq!(token_id(t.to_uppercase().as_bytes()), None);
        assert_eq!(token_id(b"0123"), None);
        assert_eq!(token_id(b"+123456789abcdef0011223344556677"), None);
    }

    #[test]
    fn expired_tokens_are_refused_then_retired_by_later_issues() {
        let t0 = Instant::now();
        let ttl = Duration::from_secs(10);
        let mut s = TokenStore::default();
        let ids: Vec<u128> = (0..5u128)
            .map(|k| s.issue(k << 100 | 0xffff_ffff, info(t0 + ttl), t0))
            .collect();
        assert_eq!(ids[3] as u32, 3, "the low 32 bits are the place");
        assert_eq!(ids[3] >> 100, 3, "the high bits are the random ones");
        let later = t0 + ttl;
        let text = token_text(ids[3]);
        assert_eq!(
            s.lookup(text.as_bytes(), "plain", t0).err(),
            None,
            "valid before expiry"
        );
        let forged = token_text(ids[3] ^ (1 << 64));
        assert_eq!(
            s.lookup(forged.as_bytes(), "plain", t0).err(),
            Some(TokenError::Unknown),
            "right place, wrong random bits"
        );
        assert_eq!(
            s.lookup(text.as_bytes(), "psk", t0).err(),
            Some(TokenError::OtherListener("plain"))
        );
        assert_eq!(
            s.lookup(text.as_bytes(), "plain", later).err(),
            Some(TokenError::Expired)
        );
        assert_eq!(s.len(), 4);
        // Each issue retires two of the remaining expired ones.
        let new = s.issue(10 << 100, info(later + ttl), later);
        assert_eq!(s.len(), 3);
        s.issue(11 << 100, info(later + ttl), later);
        s.issue(12 << 100, info(later + ttl), later);
        assert_eq!(s.len(), 3, "only the three live tokens remain");
        assert_eq!(s.slots.len(), 3);
        assert_eq!(
            s.lookup(text.as_bytes(), "plain", later).err(),
            Some(TokenError::Unknown)
        );
        let new = token_text(new);
        assert!(s.lookup(new.as_bytes(), "plain", later).is_ok());
    }
}
