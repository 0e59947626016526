//! The RFC 7252 message layer: message ids and tokens, CON retransmission
//! on the caller's clock, empty ACKs and separate responses, NON
//! lifetimes, RST, and deduplication of responses.
//!
//! It is generic over what an exchange carries (`T`) and knows nothing of
//! the protocol above it. It hands matched responses up as [`Incoming`]
//! for the layer above to [`Exchanges::accept`], [`Exchanges::hold`] or
//! ignore, and reports exchanges that ended without a response as
//! [`Ended`] values; it never calls upward.
//!
//! Timers (RFC 7252 §4.2, integer only): the first timeout is random in
//! `[ACK_TIMEOUT, ACK_TIMEOUT * ACK_RANDOM_FACTOR]` and doubles with each
//! of `MAX_RETRANSMIT` retransmissions; after the last one the exchange
//! has timed out. With [`Timing::adaptive`] the measured RTO
//! ([`super::rto`]) takes ACK_TIMEOUT's place.

use alloc::boxed::Box;
use alloc::vec::Vec;

use super::handoff::Handoff;
use super::message::{self, Message, Type};
use super::rto::{Rto, RttEstimate};

/// Timing and capacity of the message layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timing {
    /// RFC 7252 ACK_TIMEOUT (ms); with `adaptive`, the RTO before the
    /// first RTT sample and what a stale estimate ages back to.
    pub ack_timeout_ms: u32,
    /// RFC 7252 ACK_RANDOM_FACTOR in thousandths (1500 = 1.5), >= 1000.
    pub ack_random_factor_permille: u16,
    /// RFC 7252 MAX_RETRANSMIT.
    pub max_retransmit: u8,
    /// The first timeout comes from the measured RTT ([`super::rto`])
    /// instead of ACK_TIMEOUT.
    pub adaptive: bool,
    /// How long to wait for a separate (CON) response after its empty ACK.
    pub separate_timeout_ms: u32,
    /// How long a NON request waits for a response before it is forgotten.
    pub non_lifetime_ms: u32,
}

impl Timing {
    /// RFC 7252's defaults (§4.8), with 30 s for separate responses and
    /// NON requests.
    pub const RFC7252: Timing = Timing {
        ack_timeout_ms: 2000,
        ack_random_factor_permille: 1500,
        max_retransmit: 4,
        adaptive: false,
        separate_timeout_ms: 30_000,
        non_lifetime_ms: 30_000,
    };
}

impl Timing {
    /// Whether every value lies in its range: ACK_TIMEOUT 100 ms to 300 s,
    /// ACK_RANDOM_FACTOR 1.0 to 4.0, MAX_RETRANSMIT 1 to 10, the separate
    /// response and NON lifetimes 1 s to 600 s. The ranges keep the
    /// timer arithmetic (32-bit products, doubling) from overflowing.
    pub fn is_valid(&self) -> bool {
        (100..=300_000).contains(&self.ack_timeout_ms)
            && (1000..=4000).contains(&self.ack_random_factor_permille)
            && (1..=10).contains(&self.max_retransmit)
            && (1000..=600_000).contains(&self.separate_timeout_ms)
            && (1000..=600_000).contains(&self.non_lifetime_ms)
    }
}

/// What the message layer counted; hostile input shows up here.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    pub tx_datagrams: u32,
    pub retransmissions: u32,
    pub rx_datagrams: u32,
    /// Not decodable as CoAP.
    pub rx_malformed: u32,
    /// Well-formed but matching no exchange (late, duplicate or forged).
    pub rx_unmatched: u32,
    /// Repeated CON/NON responses (same message id) processed once.
    pub rx_duplicates: u32,
    /// Larger than the receive buffer: cut short, dropped.
    pub rx_truncated: u32,
}

/// Why an exchange ended without a response.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EndReason {
    /// A CON got no ACK after every retransmission, or no separate
    /// response in time.
    TimedOut,
    /// The peer answered with RST.
    Reset,
    /// A NON's lifetime passed with no response (nothing was promised).
    Expired,
}

#[derive(Debug, PartialEq, Eq)]
pub struct Ended<T> {
    pub data: T,
    pub reason: EndReason,
}

/// A response matched to an exchange, waiting for the layer above to
/// accept it, hold its exchange, or ignore it (which leaves the exchange
/// as it was and the response unacknowledged).
pub struct Incoming<'a> {
    index: usize,
    pub code: u8,
    /// The response, decoded in place in the datagram.
    pub message: Message<'a>,
    /// Message id of a CON/NON response: acknowledged (CON) and remembered
    /// for deduplication once accepted.
    separate_mid: Option<(u16, bool)>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Wait {
    /// CON sent, no ACK yet: retransmit at `deadline`. `resent`: sent more
    /// than once (Karn's rule: then it gives no RTT sample); while it is
    /// not, it was sent at `deadline - timeout` (no timestamp to store).
    Con {
        attempt: u8,
        resent: bool,
        timeout: u64,
        deadline: u64,
    },
    /// Empty ACK received: the response comes as a separate CON.
    Separate { deadline: u64 },
    /// NON sent: forget at `deadline`.
    Non { deadline: u64 },
    /// Parked by the layer above; no timer, matches no response.
    Held,
}

struct Entry<T> {
    data: T,
    mid: u16,
    token: [u8; 8],
    /// The datagram (its first `wire_len` bytes), then whatever the layer
    /// above keeps with the exchange (a PSK uplink's plaintext payload, to
    /// encode it again; all of a parked one): one allocation for both.
    datagram: Vec<u8>,
    wire_len: u16,
    wait: Wait,
}

/// Buffers kept for the datagrams queued to go out (copies of an
/// exchange's datagram, empty ACKs and RSTs), which the layer above hands
/// back once sent ([`Exchanges::recycle`]): a steady stream of uplinks then
/// allocates nothing for them. One: each is a datagram's worth of RAM kept
/// idle, and an uplink answered in its ACK needs no other; a buffer of more
/// than `SPARE_CAPACITY` bytes is let go rather than kept.
const SPARE_BUFFERS: usize = 1;
const SPARE_CAPACITY: usize = 320;

impl<T> Entry<T> {
    /// The data, the buffer, and where in it the datagram ends.
    fn into_parts(self) -> (T, Vec<u8>, usize) {
        let wire = usize::from(self.wire_len);
        (self.data, self.datagram, wire)
    }
}

/// Message ids of CON/NON responses already handled, for RFC 7252
/// deduplication; a small ring is enough since the server's ids rise.
const SEEN_RING: usize = 16;

pub struct Exchanges<T> {
    timing: Timing,
    rto: Rto,
    rng: u64,
    next_mid: u16,
    token_prefix: u32,
    token_counter: u32,
    // Boxed: a burst of sends grows this vector, and growing a vector of
    // pointers briefly holds two copies of pointers, not of exchanges.
    list: Vec<Box<Entry<T>>>,
    // Plain vectors used as queues: they hold a handful of items between
    // two drains, and VecDeque's ring logic costs flash on a Cortex-M.
    transmit: Handoff<Vec<u8>>,
    spare: Vec<Vec<u8>>,
    ended: Vec<Ended<T>>,
    seen: [Option<u16>; SEEN_RING],
    seen_pos: usize,
    counters: Counters,
}

impl<T> Exchanges<T> {
    /// `seed` drives message ids, tokens and timeout jitter.
    #[inline]
    pub fn new(timing: Timing, seed: u64) -> Self {
        let mut rng = seed | 1;
        let first = xorshift(&mut rng);
        Exchanges {
            timing,
            rto: Rto::new(timing.ack_timeout_ms),
            rng,
            next_mid: first as u16,
            token_prefix: (first >> 32) as u32,
            token_counter: 0,
            list: Vec::new(),
            transmit: Handoff::new(),
            spare: Vec::new(),
            ended: Vec::new(),
            seen: [None; SEEN_RING],
            seen_pos: 0,
            counters: Counters::default(),
        }
    }

    pub fn counters(&self) -> Counters {
        self.counters
    }

    pub fn timing(&self) -> Timing {
        self.timing
    }

    /// New transmission parameters, for exchanges started from now on
    /// (those in flight keep their timers). The RTT estimate stays.
    pub fn set_timing(&mut self, timing: Timing) {
        self.timing = timing;
        self.rto.set_initial(timing.ack_timeout_ms);
    }

    /// The RTT estimate, once measured (kept in a stored session).
    pub fn rtt_estimate(&self) -> Option<RttEstimate> {
        self.rto.estimate()
    }

    /// Starts from a stored RTT estimate.
    pub fn restore_rtt(&mut self, now: u64, e: RttEstimate) {
        self.rto.restore(now, e);
    }

    /// Exchanges not yet ended (held ones included).
    pub fn len(&self) -> usize {
        self.list.len()
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// A number in `0..n` (`n` > 0) from the layer's generator, so that one
    /// seed drives everything above it too.
    pub fn random_below(&mut self, n: u32) -> u32 {
        random_below(&mut self.rng, n)
    }

    /// The message id and token for the next request.
    pub fn next_ids(&mut self) -> (u16, [u8; 8]) {
        let mid = self.next_mid;
        self.next_mid = self.next_mid.wrapping_add(1);
        self.token_counter = self.token_counter.wrapping_add(1);
        let mut token = [0u8; 8];
        token[..4].copy_from_slice(&self.token_prefix.to_be_bytes());
        token[4..].copy_from_slice(&self.token_counter.to_be_bytes());
        (mid, token)
    }

    /// Sends the first `wire_len` bytes of `datagram` (encoded with `mid`
    /// and `token` from [`Exchanges::next_ids`]; what follows is kept for
    /// the layer above) and starts its timers.
    pub fn start(
        &mut self,
        now: u64,
        data: T,
        (mid, token): (u16, [u8; 8]),
        datagram: Vec<u8>,
        wire_len: usize,
        confirmable: bool,
    ) {
        let wait = if confirmable {
            let base = if self.timing.adaptive {
                self.rto.current(now)
            } else {
                self.timing.ack_timeout_ms
            };
            // u32: the setter bounds base * (factor - 1000) below 2^32.
            let spread = base.saturating_mul(
                u32::from(self.timing.ack_random_factor_permille).saturating_sub(1000),
            ) / 1000;
            let timeout = u64::from(base) + u64::from(self.random_below(spread + 1));
            Wait::Con {
                attempt: 0,
                resent: false,
                timeout,
                deadline: now + timeout,
            }
        } else {
            Wait::Non {
                deadline: now + u64::from(self.timing.non_lifetime_ms),
            }
        };
        let wire_len = wire_len.min(datagram.len());
        self.queue_copy(datagram.get(..wire_len).unwrap_or_default());
        self.push(data, (mid, token), datagram, wire_len, wait);
    }

    /// Keeps `data`, and `kept` for the layer above, with no datagram and
    /// no timer until [`Exchanges::pop_held`].
    pub fn park(&mut self, data: T, kept: Vec<u8>) {
        let ids = self.next_ids();
        self.push(data, ids, kept, 0, Wait::Held);
    }

    #[inline]
    fn push(
        &mut self,
        data: T,
        (mid, token): (u16, [u8; 8]),
        datagram: Vec<u8>,
        wire_len: usize,
        wait: Wait,
    ) {
        self.list.push(Box::new(Entry {
            data,
            mid,
            token,
            datagram,
            wire_len: wire_len as u16,
            wait,
        }));
    }

    /// Removes the oldest held exchange and returns its data and its
    /// buffer (see [`Exchanges::accept`]).
    pub fn pop_held(&mut self) -> Option<(T, Vec<u8>, usize)> {
        let i = self.list.iter().position(|e| e.wait == Wait::Held)?;
        Some(self.list.remove(i).into_parts())
    }

    /// Ends every exchange at once, held ones included, as timed out: for
    /// a peer the network reports unreachable, where waiting out the
    /// retransmission schedule would only delay the same outcome.
    pub fn end_all(&mut self) {
        while let Some(e) = self.list.pop() {
            self.ended.push(Ended {
                data: e.data,
                reason: EndReason::TimedOut,
            });
        }
    }

    /// Drops the first exchange whose data matches, without an outcome.
    pub fn cancel_first(&mut self, matches: impl Fn(&T) -> bool) {
        if let Some(i) = self.list.iter().position(|e| matches(&e.data)) {
            self.list.swap_remove(i);
        }
    }

    /// The oldest datagram waiting to go out.
    pub fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        self.transmit.pop_front()
    }

    /// Datagrams waiting to go out, oldest first. Hand the vector back
    /// with [`Exchanges::recycle`] once they are sent.
    pub fn take_transmit(&mut self) -> Vec<Vec<u8>> {
        self.transmit.take()
    }

    /// Takes back what [`Exchanges::take_transmit`] gave, sent: its
    /// buffers serve the next datagrams queued.
    pub fn recycle(&mut self, mut sent: Vec<Vec<u8>>) {
        while let Some(buf) = sent.pop() {
            if self.spare.len() < SPARE_BUFFERS && buf.capacity() <= SPARE_CAPACITY {
                self.spare.push(buf);
            }
        }
        self.transmit.give_back(sent);
    }

    /// An empty buffer for a datagram to queue.
    fn buffer(&mut self) -> Vec<u8> {
        let mut buf = self.spare.pop().unwrap_or_default();
        buf.clear();
        buf
    }

    fn queue_copy(&mut self, datagram: &[u8]) {
        let mut buf = self.buffer();
        buf.extend_from_slice(datagram);
        self.queue(buf);
    }

    /// Queues an empty message (ACK or RST) for `mid`.
    fn queue_empty(&mut self, ty: Type, mid: u16) {
        let mut buf = self.buffer();
        message::empty_into(&mut buf, ty, mid);
        self.queue(buf);
    }

    /// The oldest exchange that ended without a response, not yet
    /// reported.
    pub fn pop_ended(&mut self) -> Option<Ended<T>> {
        (!self.ended.is_empty()).then(|| self.ended.remove(0))
    }

    /// When [`Exchanges::handle_timeout`] must next be called, if ever.
    pub fn poll_timeout(&self) -> Option<u64> {
        self.list
            .iter()
            .filter_map(|e| match e.wait {
                Wait::Con { deadline, .. }
                | Wait::Separate { deadline }
                | Wait::Non { deadline } => Some(deadline),
                Wait::Held => None,
            })
            .min()
    }

    /// Retransmits and ends what is due at `now`.
    pub fn handle_timeout(&mut self, now: u64) {
        let mut i = 0;
        while i < self.list.len() {
            match self.list[i].wait {
                Wait::Con {
                    attempt,
                    timeout,
                    deadline,
                    ..
                } if deadline <= now => {
                    if attempt < self.timing.max_retransmit {
                        self.rto.backoff();
                        self.retransmit(i, now, attempt + 1, timeout * 2);
                        self.counters.retransmissions =
                            self.counters.retransmissions.wrapping_add(1);
                    } else {
                        self.end(i, EndReason::TimedOut);
                        continue;
                    }
                }
                Wait::Separate { deadline } if deadline <= now => {
                    self.end(i, EndReason::TimedOut);
                    continue;
                }
                Wait::Non { deadline } if deadline <= now => {
                    self.end(i, EndReason::Expired);
                    continue;
                }
                _ => {}
            }
            i += 1;
        }
    }

    fn retransmit(&mut self, i: usize, now: u64, attempt: u8, timeout: u64) {
        // Callers pass a live index; `get_mut` keeps the bounds check's
        // panic path out of the C library all the same.
        let Some(e) = self.list.get_mut(i) else {
            return;
        };
        e.wait = Wait::Con {
            attempt,
            resent: true,
            timeout,
            deadline: now + timeout,
        };
        let wire = e.datagram.len().min(usize::from(e.wire_len));
        let mut buf = self.buffer();
        let e = &self.list[i];
        buf.extend_from_slice(e.datagram.get(..wire).unwrap_or_default());
        self.queue(buf);
    }

    /// Sends every unanswered CON again at once, without spending one of
    /// its retransmissions, and restarts its current timeout from `now`:
    /// for a transport that was just re-created.
    pub fn retransmit_now(&mut self, now: u64) {
        for i in 0..self.list.len() {
            if let Some(Wait::Con {
                attempt, timeout, ..
            }) = self.list.get(i).map(|e| e.wait)
            {
                self.retransmit(i, now, attempt, timeout);
            }
        }
    }

    #[inline]
    fn end(&mut self, i: usize, reason: EndReason) {
        let data = self.list.swap_remove(i).data;
        self.ended.push(Ended { data, reason });
    }

    fn queue(&mut self, datagram: Vec<u8>) {
        self.counters.tx_datagrams = self.counters.tx_datagrams.wrapping_add(1);
        self.transmit.push(datagram);
    }

    /// Processes one datagram. RST and empty ACKs are handled here; a
    /// response matching an exchange is returned for the layer above;
    /// anything else is counted and dropped (a CON request or a CON with an
    /// unknown token is answered with RST, a repeated CON response with
    /// ACK, as RFC 7252 §4.2 and §5.3.2 say).
    pub fn receive<'a>(&mut self, now: u64, data: &'a [u8]) -> Option<Incoming<'a>> {
        self.counters.rx_datagrams = self.counters.rx_datagrams.wrapping_add(1);
        let Ok(message) = message::decode(data) else {
            self.malformed(data);
            return None;
        };
        let code = message.code;
        let mid = message.mid;
        match message.ty {
            // RFC 7252 §4.2: a Reset is an Empty message.
            Type::Reset if code != 0 => self.malformed(data),
            Type::Reset => match self.find_by_mid(mid) {
                Some(i) => self.end(i, EndReason::Reset),
                None => self.unmatched(),
            },
            // An ACK is Empty or carries a response, never a request.
            Type::Acknowledgement if code != 0 && !is_response(code) => self.malformed(data),
            Type::Acknowledgement => return self.receive_ack(now, message),
            ty => return self.receive_separate(ty == Type::Confirmable, message),
        }
        None
    }

    /// A datagram that did not arrive whole (the receive buffer was too
    /// small): dropped and counted. Unanswered, a CON response is sent
    /// again by the server and fails the same way, and its exchange ends
    /// as timed out: the one truthful outcome.
    pub fn truncated(&mut self) {
        self.counters.rx_datagrams = self.counters.rx_datagrams.wrapping_add(1);
        self.counters.rx_truncated = self.counters.rx_truncated.wrapping_add(1);
    }

    /// A message format error (RFC 7252 §4.2, §4.3): a CON whose header is
    /// readable is rejected with RST; anything else is silently dropped.
    /// Counted either way.
    fn malformed(&mut self, data: &[u8]) {
        self.counters.rx_malformed = self.counters.rx_malformed.wrapping_add(1);
        if let [first, _, hi, lo, ..] = *data {
            // Version 1, type CON (RFC 7252 §3: other versions are ignored).
            if first >> 4 == 0x4 {
                self.queue_empty(Type::Reset, u16::from_be_bytes([hi, lo]));
            }
        }
    }

    #[inline]
    fn receive_ack<'a>(&mut self, now: u64, message: Message<'a>) -> Option<Incoming<'a>> {
        let Some(index) = self.find_by_mid(message.mid) else {
            self.unmatched();
            return None;
        };
        if message.code != 0 && message.token != self.list[index].token {
            self.unmatched();
            return None;
        }
        // An RTT sample, if this CON was sent once (Karn's rule).
        if let Wait::Con {
            resent: false,
            timeout,
            deadline,
            ..
        } = self.list[index].wait
        {
            self.rto.sample(now, now.saturating_sub(deadline - timeout));
        }
        if message.code == 0 {
            let deadline = now + u64::from(self.timing.separate_timeout_ms);
            self.list[index].wait = Wait::Separate { deadline };
            return None;
        }
        Some(Incoming {
            index,
            code: message.code,
            message,
            separate_mid: None,
        })
    }

    #[inline]
    fn receive_separate<'a>(&mut self, con: bool, message: Message<'a>) -> Option<Incoming<'a>> {
        let (code, mid) = (message.code, message.mid);
        if !is_response(code) {
            // This client serves no requests: refuse with RST.
            self.refuse(con, mid);
            return None;
        }
        if self.seen.contains(&Some(mid)) {
            self.counters.rx_duplicates = self.counters.rx_duplicates.wrapping_add(1);
            if con {
                self.queue_empty(Type::Acknowledgement, mid);
            }
            return None;
        }
        let found = self
            .list
            .iter()
            .position(|e| e.token == message.token && e.wait != Wait::Held);
        let Some(index) = found else {
            // Unknown token: RFC 7252 5.3.2 says reject a CON.
            self.refuse(con, mid);
            return None;
        };
        Some(Incoming {
            index,
            code,
            message,
            separate_mid: Some((mid, con)),
        })
    }

    fn refuse(&mut self, con: bool, mid: u16) {
        if con {
            self.queue_empty(Type::Reset, mid);
        }
        self.unmatched();
    }

    fn unmatched(&mut self) {
        self.counters.rx_unmatched = self.counters.rx_unmatched.wrapping_add(1);
    }

    fn find_by_mid(&self, mid: u16) -> Option<usize> {
        self.list
            .iter()
            .position(|e| e.mid == mid && matches!(e.wait, Wait::Con { .. } | Wait::Non { .. }))
    }

    /// The data of the exchange `incoming` answers.
    pub fn data(&self, incoming: &Incoming) -> &T {
        &self.list[incoming.index].data
    }

    /// The buffer of the exchange `incoming` answers (see
    /// [`Exchanges::accept`]), to write the response's payload into.
    pub fn buffer_of(&mut self, incoming: &Incoming) -> &mut Vec<u8> {
        &mut self.list[incoming.index].datagram
    }

    /// Ends the exchange with this response and returns its data, and its
    /// buffer: what was kept after the datagram, at `wire_len` (for the
    /// layer above to encode it again, or to reuse the allocation); a CON
    /// response is acknowledged.
    pub fn accept(&mut self, incoming: &Incoming) -> (T, Vec<u8>, usize) {
        self.settle(incoming);
        self.list.swap_remove(incoming.index).into_parts()
    }

    /// Keeps the exchange, parked as by [`Exchanges::park`], and settles
    /// the response (acknowledged, remembered).
    pub fn hold(&mut self, incoming: &Incoming, update: impl FnOnce(&mut T)) {
        self.settle(incoming);
        let Some(e) = self.list.get_mut(incoming.index) else {
            return;
        };
        e.wait = Wait::Held;
        update(&mut e.data);
    }

    #[inline]
    fn settle(&mut self, incoming: &Incoming) {
        if let Some((mid, con)) = incoming.separate_mid {
            // seen_pos < SEEN_RING by construction, not provably so.
            if let Some(slot) = self.seen.get_mut(self.seen_pos) {
                *slot = Some(mid);
            }
            self.seen_pos = (self.seen_pos + 1) % SEEN_RING;
            if con {
                self.queue_empty(Type::Acknowledgement, mid);
            }
        }
    }
}

/// A response code: class 2 to 5 (RFC 7252 §12.1.2; 1, 6 and 7 are
/// reserved).
fn is_response(code: u8) -> bool {
    (2..=5).contains(&(code >> 5))
}

/// A number in `0..n` (`n` > 0). 32-bit arithmetic: a 64-bit division is
/// a library routine on a Cortex-M.
fn random_below(rng: &mut u64, n: u32) -> u32 {
    ((xorshift(rng) >> 32) as u32) % n
}

/// xorshift64*: timeouts, message ids and tokens need spread, not secrecy.
pub(crate) fn xorshift(s: &mut u64) -> u64 {
    let mut x = *s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    x.wrapping_mul(0x2545_f491_4f6c_dd1d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::message::{RequestWriter, CODE_POST};
    use coap_lite::{MessageClass, MessageType, Packet, ResponseType};

    const TIMING: Timing = Timing::RFC7252;

    fn request(ids: (u16, [u8; 8]), confirmable: bool) -> Vec<u8> {
        let ty = if confirmable {
            Type::Confirmable
        } else {
            Type::NonConfirmable
        };
        let mut w = RequestWriter::new(16, ty, CODE_POST, ids.0, &ids.1);
        w.payload(b"x");
        w.finish(usize::MAX).unwrap()
    }

    /// Starts an exchange carrying `tag`; returns the request sent.
    fn start(ex: &mut Exchanges<u32>, now: u64, tag: u32, confirmable: bool) -> Packet {
        let ids = ex.next_ids();
        let mut d = request(ids, confirmable);
        let wire = d.len();
        // What the layer above keeps after the datagram is not sent.
        d.extend_from_slice(b"kept");
        ex.start(now, tag, ids, d, wire, confirmable);
        Packet::from_bytes(&ex.poll_transmit().unwrap()).unwrap()
    }

    fn answer(req: &Packet, ty: MessageType, mid: u16, code: MessageClass) -> Vec<u8> {
        let mut p = Packet::new();
        p.header.set_type(ty);
        p.header.code = code;
        p.header.message_id = mid;
        if code != MessageClass::Empty {
            p.set_token(req.get_token().to_vec());
            p.payload = b"ok".to_vec();
        }
        p.to_bytes().unwrap()
    }

    fn content() -> MessageClass {
        MessageClass::Response(ResponseType::Content)
    }

    #[test]
    fn piggybacked_response_is_handed_up_and_accepted() {
        let mut ex = Exchanges::new(TIMING, 7);
        let req = start(&mut ex, 0, 42, true);
        let ack = answer(
            &req,
            MessageType::Acknowledgement,
            req.header.message_id,
            content(),
        );
        let incoming = ex.receive(10, &ack).expect("matched");
        assert_eq!((incoming.code, *ex.data(&incoming)), (0x45, 42));
        assert_eq!(ex.accept(&incoming).0, 42);
        assert!(ex.is_empty());
        assert_eq!(
            ex.poll_transmit(),
            None,
            "a piggybacked response needs no ACK"
        );
        assert_eq!(ex.poll_timeout(), None);
    }

    #[test]
    fn con_retransmits_on_a_doubling_schedule_then_times_out() {
        let mut ex = Exchanges::new(TIMING, 99);
        start(&mut ex, 0, 1, true);
        let first = ex.poll_timeout().unwrap();
        assert!((2000..=3000).contains(&first), "{first}");
        let mut now = first;
        let mut gaps = Vec::new();
        for _ in 0..TIMING.max_retransmit {
            ex.handle_timeout(now);
            assert!(ex.poll_transmit().is_some(), "retransmitted at {now}");
            let next = ex.poll_timeout().unwrap();
            gaps.push(next - now);
            now = next;
        }
        assert_eq!(gaps, [2, 4, 8, 16].map(|k| k * first));
        assert!(ex.pop_ended().is_none());
        ex.handle_timeout(now);
        assert_eq!(
            ex.pop_ended(),
            Some(Ended {
                data: 1,
                reason: EndReason::TimedOut
            })
        );
        assert_eq!(ex.counters().retransmissions, 4);
        assert_eq!(ex.counters().tx_datagrams, 5);
    }

    #[test]
    fn empty_ack_then_separate_con_response_is_acked_and_deduplicated() {
        let mut ex = Exchanges::new(TIMING, 3);
        let req = start(&mut ex, 0, 5, true);
        let mid = req.header.message_id;
        let empty = answer(&req, MessageType::Acknowledgement, mid, MessageClass::Empty);
        assert!(ex.receive(5, &empty).is_none());
        assert_eq!(
            ex.poll_timeout(),
            Some(5 + 30_000),
            "separate wait replaces retransmission"
        );
        let separate = answer(&req, MessageType::Confirmable, 0x7001, content());
        let incoming = ex.receive(6, &separate).expect("matched by token");
        assert_eq!(ex.accept(&incoming).0, 5);
        let ack = Packet::from_bytes(&ex.poll_transmit().unwrap()).unwrap();
        assert_eq!(ack.header.get_type(), MessageType::Acknowledgement);
        assert_eq!(ack.header.message_id, 0x7001);
        // The same CON again: ACKed once more, handed up never.
        assert!(ex.receive(7, &separate).is_none());
        assert_eq!(ex.counters().rx_duplicates, 1);
        assert!(ex.poll_transmit().is_some());
    }

    #[test]
    fn separate_response_that_never_comes_times_out() {
        let mut ex = Exchanges::new(TIMING, 3);
        let req = start(&mut ex, 0, 5, true);
        let empty = answer(
            &req,
            MessageType::Acknowledgement,
            req.header.message_id,
            MessageClass::Empty,
        );
        assert!(ex.receive(5, &empty).is_none());
        ex.handle_timeout(5 + 30_000);
        assert_eq!(ex.pop_ended().unwrap().reason, EndReason::TimedOut);
    }

    #[test]
    fn reset_ends_the_exchange_and_unknown_traffic_is_refused() {
        let mut ex = Exchanges::new(TIMING, 11);
        let req = start(&mut ex, 0, 9, true);
        // A CON with a token we never sent: RST (RFC 7252 5.3.2).
        let mut stranger =
            Packet::from_bytes(&answer(&req, MessageType::Confirmable, 0x0a0a, content())).unwrap();
        stranger.set_token(b"nope".to_vec());
        assert!(ex.receive(1, &stranger.to_bytes().unwrap()).is_none());
        let rst = Packet::from_bytes(&ex.poll_transmit().unwrap()).unwrap();
        assert_eq!(
            (rst.header.get_type(), rst.header.message_id),
            (MessageType::Reset, 0x0a0a)
        );
        // A request (0.01) from the peer: this client serves none.
        let get = answer(
            &req,
            MessageType::Confirmable,
            0x0b0b,
            MessageClass::Request(coap_lite::RequestType::Get),
        );
        assert!(ex.receive(2, &get).is_none());
        assert!(ex.poll_transmit().is_some());
        // Garbage is counted, nothing else.
        assert!(ex.receive(3, &[0xff, 0x00]).is_none());
        assert_eq!(ex.counters().rx_malformed, 1);
        assert_eq!(ex.counters().rx_unmatched, 2);
        // RST for our CON: ended, reported once.
        let reset = answer(
            &req,
            MessageType::Reset,
            req.header.message_id,
            MessageClass::Empty,
        );
        assert!(ex.receive(4, &reset).is_none());
        assert_eq!(
            ex.pop_ended(),
            Some(Ended {
                data: 9,
                reason: EndReason::Reset
            })
        );
        assert!(ex.is_empty());
    }

    #[test]
    fn non_expires_silently_and_ignored_responses_leave_the_exchange() {
        let mut ex = Exchanges::new(TIMING, 13);
        let req = start(&mut ex, 0, 3, false);
        let response = answer(&req, MessageType::NonConfirmable, 0x0c0c, content());
        // Not accepted by the layer above (say, it failed to decrypt).
        assert!(ex.receive(1, &response).is_some());
        assert_eq!(ex.len(), 1);
        assert_eq!(
            ex.poll_transmit(),
            None,
            "nothing settled, nothing acknowledged"
        );
        ex.handle_timeout(30_000);
        assert_eq!(
            ex.pop_ended(),
            Some(Ended {
                data: 3,
                reason: EndReason::Expired
            })
        );
    }

    /// RFC 7252 §3, §4.1, §4.2: what coap-lite decodes but the RFC calls a
    /// message format error (or not a response) never reaches the layer
    /// above; a CON among them is rejected with RST.
    #[test]
    fn format_errors_and_requests_in_acks_are_dropped() {
        let mut ex = Exchanges::new(TIMING, 29);
        let req = start(&mut ex, 0, 8, true);
        let mid = req.header.message_id;
        let ack = answer(&req, MessageType::Acknowledgement, mid, content());
        // A request code (0.01 GET) in an ACK.
        let mut get_in_ack = ack.clone();
        get_in_ack[1] = 0x01;
        // A payload marker with nothing after it.
        let mut marker_only = ack.clone();
        marker_only.truncate(ack.len() - 2); // "ok" gone, the marker stays
                                             // An Empty ACK with a token, and an RST with a code.
        let empty_with_token = {
            let mut d = answer(&req, MessageType::Acknowledgement, mid, MessageClass::Empty);
            d[0] = 0x60 | 8;
            d.extend_from_slice(req.get_token());
            d
        };
        let mut coded_reset = answer(&req, MessageType::Reset, mid, content());
        coded_reset.truncate(4);
        for (i, bad) in [&get_in_ack, &marker_only, &empty_with_token, &coded_reset]
            .into_iter()
            .enumerate()
        {
            assert!(ex.receive(1, bad).is_none(), "case {i}");
            assert_eq!(ex.counters().rx_malformed, i as u32 + 1, "case {i}");
            assert_eq!(
                ex.poll_transmit(),
                None,
                "an ACK or RST is dropped silently"
            );
        }
        assert_eq!(ex.len(), 1, "the exchange still waits for its answer");
        // A separate CON response with an empty payload marker: RST.
        let mut con = answer(&req, MessageType::Confirmable, 0x0d0d, content());
        con.truncate(con.len() - 2);
        assert!(ex.receive(2, &con).is_none());
        let rst = Packet::from_bytes(&ex.poll_transmit().unwrap()).unwrap();
        assert_eq!(
            (rst.header.get_type(), rst.header.message_id),
            (MessageType::Reset, 0x0d0d)
        );
        ex.truncated();
        assert_eq!(ex.counters().rx_truncated, 1);
        // The well-formed answer still matches.
        let incoming = ex.receive(3, &ack).expect("matched");
        assert_eq!(ex.accept(&incoming).0, 8);
    }

    #[test]
    fn held_exchanges_have_no_timer_and_match_nothing() {
        let mut ex = Exchanges::new(TIMING, 17);
        let req = start(&mut ex, 0, 1, true);
        let ack = answer(
            &req,
            MessageType::Acknowledgement,
            req.header.message_id,
            content(),
        );
        let incoming = ex.receive(1, &ack).unwrap();
        ex.hold(&incoming, |t| *t += 100);
        ex.park(2, b"two".to_vec());
        assert_eq!(ex.poll_timeout(), None);
        assert!(
            ex.receive(2, &ack).is_none(),
            "a held exchange takes no response"
        );
        assert_eq!(
            (
                ex.pop_held().map(|(t, b, w)| (t, b[w..].to_vec())),
                ex.pop_held(),
                ex.pop_held()
            ),
            (
                Some((101, b"kept".to_vec())),
                Some((2, b"two".to_vec(), 0)),
                None
            )
        );
        assert!(ex.is_empty());
    }

    /// Sent datagrams handed back serve the next ones: an ACK after a
    /// separate response is written into the buffer the request's copy
    /// went out in.
    #[test]
    fn recycled_buffers_serve_the_next_datagrams() {
        let mut ex = Exchanges::new(TIMING, 29);
        let ids = ex.next_ids();
        let d = request(ids, true);
        ex.start(0, 1, ids, d.clone(), d.len(), true);
        let sent = ex.take_transmit();
        assert_eq!(sent, [d]);
        let reused = sent[0].as_ptr();
        ex.recycle(sent);
        let req = Packet::from_bytes(&request(ids, true)).unwrap();
        let separate = answer(&req, MessageType::Confirmable, 0x0b0b, content());
        let incoming = ex.receive(5, &separate).expect("matched by token");
        ex.accept(&incoming);
        let ack = ex.take_transmit();
        assert_eq!(ack, [message::empty(Type::Acknowledgement, 0x0b0b)]);
        assert_eq!(ack[0].as_ptr(), reused);
    }

    #[test]
    fn end_all_reports_every_exchange_once() {
        let mut ex = Exchanges::new(TIMING, 23);
        start(&mut ex, 0, 1, true);
        start(&mut ex, 0, 2, false);
        ex.park(3, Vec::new());
        ex.end_all();
        let mut ended: Vec<u32> = core::iter::from_fn(|| ex.pop_ended())
            .map(|e| {
                assert_eq!(e.reason, EndReason::TimedOut);
                e.data
            })
            .collect();
        ended.sort_unstable();
        assert_eq!(ended, [1, 2, 3]);
        assert!(ex.is_empty() && ex.poll_timeout().is_none());
    }

    #[test]
    fn message_ids_wrap_and_tokens_differ() {
        let mut ex: Exchanges<u32> = Exchanges::new(TIMING, 1);
        ex.next_mid = 0xfffe;
        let ids: Vec<(u16, [u8; 8])> = (0..3).map(|_| ex.next_ids()).collect();
        assert_eq!(
            ids.iter().map(|i| i.0).collect::<Vec<_>>(),
            [0xfffe, 0xffff, 0]
        );
        assert!(ids[0].1 != ids[1].1 && ids[1].1 != ids[2].1);
    }

    /// Adaptive, no dither: timeouts are exactly the RTO.
    const ADAPTIVE: Timing = Timing {
        adaptive: true,
        ack_random_factor_permille: 1000,
        ..Timing::RFC7252
    };

    fn ack_at(ex: &mut Exchanges<u32>, now: u64, req: &Packet) {
        let ack = answer(
            req,
            MessageType::Acknowledgement,
            req.header.message_id,
            content(),
        );
        let incoming = ex.receive(now, &ack).expect("matched");
        ex.accept(&incoming);
    }

    #[test]
    fn adaptive_timeout_follows_the_measured_rtt() {
        let mut ex = Exchanges::new(ADAPTIVE, 5);
        let req = start(&mut ex, 0, 1, true);
        assert_eq!(ex.poll_timeout(), Some(2000), "ACK_TIMEOUT before a sample");
        ack_at(&mut ex, 1800, &req);
        assert_eq!(
            ex.rtt_estimate(),
            Some(RttEstimate {
                srtt_ms: 1800,
                rttvar_ms: 900
            })
        );
        start(&mut ex, 2000, 2, true);
        assert_eq!(ex.poll_timeout(), Some(2000 + 1800 + 4 * 900));
        // The same estimate does not change a static timer.
        ex.set_timing(Timing {
            adaptive: false,
            ..ADAPTIVE
        });
        start(&mut ex, 3000, 3, true);
        assert_eq!(ex.poll_timeout(), Some(3000 + 2000));
    }

    #[test]
    fn an_empty_ack_is_a_sample_and_a_separate_response_is_not() {
        let mut ex = Exchanges::new(ADAPTIVE, 6);
        let req = start(&mut ex, 100, 1, true);
        let empty = answer(
            &req,
            MessageType::Acknowledgement,
            req.header.message_id,
            MessageClass::Empty,
        );
        assert!(ex.receive(1100, &empty).is_none());
        let separate = answer(&req, MessageType::Confirmable, 0x7001, content());
        let incoming = ex.receive(20_000, &separate).unwrap();
        ex.accept(&incoming);
        assert_eq!(ex.rtt_estimate().unwrap().srtt_ms, 1000);
    }

    #[test]
    fn karn_no_sample_from_a_retransmitted_exchange() {
        let mut ex = Exchanges::new(ADAPTIVE, 7);
        let req = start(&mut ex, 0, 1, true);
        ex.handle_timeout(2000);
        assert!(ex.poll_transmit().is_some(), "retransmitted");
        ack_at(&mut ex, 2100, &req);
        assert_eq!(ex.rtt_estimate(), None);
        // Nor from one re-sent by retransmit_now (a new transport).
        let req = start(&mut ex, 5000, 2, true);
        ex.retransmit_now(5500);
        ack_at(&mut ex, 5600, &req);
        assert_eq!(ex.rtt_estimate(), None);
    }

    #[test]
    fn loss_backs_off_new_exchanges_until_a_sample() {
        let mut ex = Exchanges::new(ADAPTIVE, 8);
        let req = start(&mut ex, 0, 1, true);
        ack_at(&mut ex, 1000, &req); // RTO 1000 + 2000 = 3000
        let lost = start(&mut ex, 10_000, 2, true);
        assert_eq!(ex.poll_timeout(), Some(13_000));
        ex.handle_timeout(13_000);
        ex.take_transmit();
        // Its own timer doubles (RFC 7252); new exchanges start doubled.
        assert_eq!(ex.poll_timeout(), Some(13_000 + 6000));
        let next = start(&mut ex, 14_000, 3, true);
        ex.handle_timeout(19_000);
        ex.take_transmit();
        assert_eq!(ex.poll_timeout(), Some(14_000 + 6000), "RTO 6000");
        ack_at(&mut ex, 19_500, &lost); // retransmitted: no sample
        ack_at(&mut ex, 20_000, &next); // 6000 ms, sent once: a sample
        start(&mut ex, 21_000, 4, true);
        let e = ex.rtt_estimate().unwrap();
        assert_eq!((e.srtt_ms, e.rttvar_ms), (1625, 1625));
        assert_eq!(ex.poll_timeout(), Some(21_000 + 1625 + 4 * 1625));
    }

    #[test]
    fn adaptive_never_below_the_floor_and_dithers_above_it() {
        let mut ex = Exchanges::new(
            Timing {
                ack_random_factor_permille: 1500,
                ..ADAPTIVE
            },
            9,
        );
        for i in 0..20u64 {
            let req = start(&mut ex, i * 100, i as u32, true);
            ack_at(&mut ex, i * 100 + 2, &req);
        }
        for i in 0..50u64 {
            let now = 10_000 + i;
            start(&mut ex, now, 100, true);
            let t = ex.poll_timeout().unwrap() - now;
            assert!((1000..=1500).contains(&t), "{t}");
            ex.end_all();
        }
    }

    #[test]
    fn retransmit_now_spends_no_attempt() {
        let mut ex = Exchanges::new(TIMING, 21);
        start(&mut ex, 0, 1, true);
        let first = ex.poll_timeout().unwrap();
        ex.retransmit_now(500);
        assert!(ex.poll_transmit().is_some());
        assert_eq!(
            ex.poll_timeout(),
            Some(500 + first),
            "same timeout, restarted"
        );
        assert_eq!(ex.counters().retransmissions, 0);
    }
}
