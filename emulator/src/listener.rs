//! The RFC 7252 message layer of a listener.
//!
//! A [`Listener`] runs over a [`DatagramTransport`] (something that receives
//! and sends whole datagrams from/to peers; with fault injection it is a
//! `faults::Faulty` around one) with a [`Security`] mode: deduplication,
//! piggybacked / separate / NON responses, retransmission of separate CON
//! responses, and the RST answers. It hands every request to
//! [`Platform::handle`], which implements `/auth` and `/topic/...` and knows
//! nothing about sockets, message ids or retransmission, together with the
//! listener's time and its own random generator.
//!
//! Time comes from a [`Clock`]: the wall clock when the emulator runs, a
//! simulated one in tests ([`crate::virtual_time`]), so nothing here waits
//! for real time except inside the transport's `recv`.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use coap_lite::{MessageClass, MessageType, Packet};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::json;

use crate::clock::Clock;
use crate::dedup::{DedupCache, EXCHANGE_LIFETIME};
use crate::log::EventLog;
use crate::platform::{Origin, Platform, Reply, Security};
use crate::stats::Counters;
use crate::transport::DatagramTransport;

/// Bound of the deduplication cache.
const DEDUP_MAX: usize = 200_000;
const MAX_RETRANSMIT: u32 = 4;
/// Longest wait for a datagram, so a stop request is seen this soon.
const POLL: Duration = Duration::from_millis(20);

struct Pending {
    peer: SocketAddr,
    bytes: Vec<u8>,
    sent: u32,
    timeout: Duration,
    next_at: Instant,
}

/// What a listener shares with the rest of the emulator.
pub(crate) struct Shared {
    pub platform: Arc<Platform>,
    pub log: Arc<EventLog>,
    pub counters: Arc<Counters>,
    pub clock: Arc<dyn Clock>,
}

/// One listener: a transport, a security mode and the message layer.
pub struct Listener<T: DatagramTransport> {
    name: &'static str,
    security: Security,
    transport: T,
    platform: Arc<Platform>,
    log: Arc<EventLog>,
    counters: Arc<Counters>,
    clock: Arc<dyn Clock>,
    dedup: DedupCache,
    pending: HashMap<u16, Pending>,
    next_mid: u16,
    /// This listener's own generator (message ids, retransmission timeouts,
    /// and the tokens and randoms the platform issues here): with a fixed
    /// seed its choices do not depend on what the other listeners do.
    rng: StdRng,
    buf: Vec<u8>,
}

impl<T: DatagramTransport> Listener<T> {
    pub(crate) fn new(
        name: &'static str,
        security: Security,
        transport: T,
        shared: Shared,
        seed: u64,
    ) -> Self {
        let mut rng = StdRng::seed_from_u64(seed ^ 0x6d69_6473);
        Listener {
            name,
            security,
            transport,
            platform: shared.platform,
            log: shared.log,
            counters: shared.counters,
            clock: shared.clock,
            dedup: DedupCache::new(EXCHANGE_LIFETIME, DEDUP_MAX),
            pending: HashMap::new(),
            next_mid: rng.gen(),
            rng,
            buf: vec![0u8; 65_536],
        }
    }

    pub fn name(&self) -> &'static str {
        self.name
    }

    /// Runs until `stop` is set.
    pub fn run(mut self, stop: &AtomicBool) {
        while !stop.load(Ordering::Relaxed) {
            self.step();
        }
    }

    /// Waits (on the listener's clock) for one datagram or the next
    /// retransmission, whichever comes first, and handles what is due.
    pub fn step(&mut self) {
        let now = self.clock.now();
        let wait = self
            .pending
            .values()
            .map(|p| p.next_at.saturating_duration_since(now))
            .fold(POLL, Duration::min);
        let mut buf = std::mem::take(&mut self.buf);
        let got = self.transport.recv(&mut buf, wait);
        for peer in self.transport.take_reset_peers() {
            self.forget_peer(peer);
        }
        match got {
            Ok(Some((n, peer))) => {
                // Whatever a datagram contains, it must not take the listener down.
                let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    self.process(peer, &buf[..n])
                }));
                if r.is_err() {
                    self.malformed(peer, "internal error while handling the datagram".into());
                }
            }
            Ok(None) => {}
            Err(_) => std::thread::sleep(Duration::from_millis(5)),
        }
        self.buf = buf;
        self.retransmit_due();
    }

    /// Forgets a peer's exchanges (its new session starts afresh).
    fn forget_peer(&mut self, peer: SocketAddr) {
        self.dedup.forget_peer(peer);
        self.pending.retain(|_, p| p.peer != peer);
    }

    fn counters(&self) -> &Counters {
        &self.counters
    }

    /// A send error is the peer's problem, as on a real network.
    fn send(&mut self, peer: SocketAddr, bytes: &[u8]) {
        let _ = self.transport.send(bytes, peer);
    }

    /// Retransmits the separate responses that are due, or gives them up.
    fn retransmit_due(&mut self) {
        let now = self.clock.now();
        let due: Vec<u16> = self
            .pending
            .iter()
            .filter(|(_, p)| p.next_at <= now)
            .map(|(m, _)| *m)
            .collect();
        for mid in due {
            let p = self.pending.get_mut(&mid).expect("listed");
            if p.sent > MAX_RETRANSMIT {
                let p = self.pending.remove(&mid).expect("listed");
                self.log.emit(
                    "separate_response_timeout",
                    json!({"peer": p.peer.to_string(), "listener": self.name, "mid": mid}),
                );
                continue;
            }
            p.sent += 1;
            p.timeout *= 2;
            p.next_at = now + p.timeout;
            let (peer, bytes) = (p.peer, p.bytes.clone());
            Counters::inc(&self.counters().retransmits);
            self.send(peer, &bytes);
        }
    }

    fn malformed(&mut self, peer: SocketAddr, reason: String) {
        Counters::inc(&self.counters().malformed);
        self.log.emit(
            "malformed",
            json!({"peer": peer.to_string(), "listener": self.name, "reason": reason}),
        );
    }

    fn mid(&mut self) -> u16 {
        self.next_mid = self.next_mid.wrapping_add(1);
        self.next_mid
    }

    fn send_rst(&mut self, peer: SocketAddr, mid: u16) {
        let mut p = Packet::new();
        p.header.set_type(MessageType::Reset);
        p.header.code = MessageClass::Empty;
        p.header.message_id = mid;
        if let Ok(b) = p.to_bytes() {
            self.send(peer, &b);
        }
    }

    fn process(&mut self, peer: SocketAddr, bytes: &[u8]) {
        let pkt = match Packet::from_bytes(bytes) {
            Ok(p) if p.header.get_version() == 1 => p,
            Ok(_) => return self.malformed(peer, "unsupported CoAP version".into()),
            Err(e) => {
                self.malformed(peer, format!("undecodable CoAP message: {e:?}"));
                // RFC 7252 4.2: a CON that cannot be processed is rejected with RST.
                if bytes.len() >= 4 && bytes[0] >> 6 == 1 && (bytes[0] >> 4) & 3 == 0 {
                    self.send_rst(peer, u16::from_be_bytes([bytes[2], bytes[3]]));
                }
                return;
            }
        };
        let ty = pkt.header.get_type();
        let mid = pkt.header.message_id;
        match pkt.header.code {
            MessageClass::Empty => match ty {
                MessageType::Confirmable => self.send_rst(peer, mid), // CoAP ping
                MessageType::Acknowledgement | MessageType::Reset => {
                    if self.pending.get(&mid).is_some_and(|p| p.peer == peer) {
                        self.pending.remove(&mid);
                    }
                }
                MessageType::NonConfirmable => {}
            },
            MessageClass::Request(_) => self.request(peer, pkt),
            MessageClass::Reserved(c) if c >> 5 == 0 => self.request(peer, pkt),
            MessageClass::Response(_) => {
                if ty == MessageType::Confirmable {
                    self.send_rst(peer, mid);
                }
            }
            MessageClass::Reserved(c) => {
                self.malformed(peer, format!("reserved code class {}", c >> 5));
                if ty == MessageType::Confirmable {
                    self.send_rst(peer, mid);
                }
            }
        }
    }

    /// The response datagram. Encoded here rather than through a
    /// `coap_lite::Packet` (requests are still decoded by coap-lite): the
    /// packet's option map and lists cost several allocations per answer,
    /// a fifth of the listener's own time at fleet rates.
    fn build(&self, ty: MessageType, mid: u16, token: &[u8], r: &Reply) -> Vec<u8> {
        encode_response(ty, mid, token, r)
    }

    fn request(&mut self, peer: SocketAddr, pkt: Packet) {
        let ty = pkt.header.get_type();
        let mid = pkt.header.message_id;
        if matches!(ty, MessageType::Acknowledgement | MessageType::Reset) {
            return self.malformed(peer, "request code in an ACK/RST message".into());
        }
        let key = (peer, mid);
        if let Some(cached) = self.dedup.get(&key) {
            Counters::inc(&self.counters().duplicates);
            self.log.emit(
                "duplicate",
                json!({"peer": peer.to_string(), "listener": self.name, "mid": mid}),
            );
            self.send(peer, &cached);
            return;
        }
        let now = self.clock.now();
        let reply = self.platform.handle(
            Origin {
                listener: self.name,
                security: self.security,
                peer,
            },
            &pkt,
            now,
            &mut self.rng,
        );
        let token = pkt.get_token().to_vec();
        // The one datagram answering the request (replayed to duplicates).
        let answer = match ty {
            MessageType::Confirmable if reply.separate => {
                let mut ack = Packet::new();
                ack.header.set_type(MessageType::Acknowledgement);
                ack.header.code = MessageClass::Empty;
                ack.header.message_id = mid;
                let ack = ack.to_bytes().unwrap_or_default();
                let rmid = self.mid();
                let con = self.build(MessageType::Confirmable, rmid, &token, &reply);
                let timeout = Duration::from_millis(self.rng.gen_range(2000..=3000));
                self.pending.insert(
                    rmid,
                    Pending {
                        peer,
                        bytes: con.clone(),
                        sent: 1,
                        timeout,
                        next_at: now + timeout,
                    },
                );
                self.dedup.insert(key, &ack, now);
                self.send(peer, &ack);
                self.send(peer, &con);
                return;
            }
            MessageType::Confirmable => {
                self.build(MessageType::Acknowledgement, mid, &token, &reply)
            }
            _ => {
                let rmid = self.mid();
                self.build(MessageType::NonConfirmable, rmid, &token, &reply)
            }
        };
        self.dedup.insert(key, &answer, now);
        self.send(peer, &answer);
    }
}

/// RFC 7252 3: header, token, options in ascending order (delta encoded,
/// those of one number in the order given), payload after 0xFF.
fn encode_response(ty: MessageType, mid: u16, token: &[u8], r: &Reply) -> Vec<u8> {
    let ty = match ty {
        MessageType::Confirmable => 0u8,
        MessageType::NonConfirmable => 1,
        MessageType::Acknowledgement => 2,
        MessageType::Reset => 3,
    };
    let token = &token[..token.len().min(8)];
    let mut out = Vec::with_capacity(16 + token.len() + r.payload.len() + 8 * r.options.len());
    out.push(0x40 | ty << 4 | token.len() as u8);
    out.push(u8::from(MessageClass::Response(r.code)));
    out.extend_from_slice(&mid.to_be_bytes());
    out.extend_from_slice(token);
    // Content-Format as a uint: big-endian without leading zero bytes.
    let cf = r.content_format.map(u16::to_be_bytes);
    let cf: Option<&[u8]> = cf.as_ref().map(|b| match b {
        [0, 0] => &b[2..],
        [0, _] => &b[1..],
        _ => &b[..],
    });
    let mut last = 0u16;
    let mut put = |out: &mut Vec<u8>, n: u16, v: &[u8]| {
        let (d, dx) = ext(n - last);
        let (l, lx) = ext(v.len() as u16);
        out.push(d << 4 | l);
        out.extend_from_slice(dx.as_slice());
        out.extend_from_slice(lx.as_slice());
        out.extend_from_slice(v);
        last = n;
    };
    let mut opts: Vec<(u16, &[u8])> = Vec::with_capacity(r.options.len() + 1);
    opts.extend(cf.map(|v| (12u16, v)));
    opts.extend(r.options.iter().map(|(n, v)| (*n, v.as_slice())));
    opts.sort_by_key(|(n, _)| *n); // stable: values of one option keep their order
    for (n, v) in opts {
        put(&mut out, n, v);
    }
    if !r.payload.is_empty() {
        out.push(0xff);
        out.extend_from_slice(&r.payload);
    }
    out
}

/// The extended bytes of an option delta or length (none, one or two).
struct Ext([u8; 2], usize);

impl Ext {
    fn as_slice(&self) -> &[u8] {
        &self.0[..self.1]
    }
}

/// An option delta or length: its 4-bit nibble and extended bytes.
fn ext(x: u16) -> (u8, Ext) {
    match x {
        0..=12 => (x as u8, Ext([0; 2], 0)),
        13..=268 => (13, Ext([(x - 13) as u8, 0], 1)),
        _ => (14, Ext((x - 269).to_be_bytes(), 2)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use coap_lite::{CoapOption, ResponseType};

    /// The hand encoder gives what coap-lite decodes back to the same
    /// response (long options and extended deltas included).
    #[test]
    fn encoded_responses_decode_with_coap_lite() {
        for (cf, options, payload) in [
            (None, vec![], vec![]),
            (Some(50u16), vec![], b"{\"token\":\"x\"}".to_vec()),
            (Some(0), vec![(2090u16, b"17".to_vec())], vec![1, 2, 3]),
            (
                Some(60),
                vec![(2090, vec![b'9'; 300]), (14, vec![7; 20])],
                vec![],
            ),
        ] {
            let r = Reply {
                code: ResponseType::Content,
                payload: payload.clone(),
                content_format: cf,
                options: options.clone(),
                separate: false,
            };
            let bytes = encode_response(MessageType::Acknowledgement, 0x1234, b"tok", &r);
            let p = Packet::from_bytes(&bytes).expect("decodes");
            assert_eq!(p.header.get_type(), MessageType::Acknowledgement);
            assert_eq!(p.header.message_id, 0x1234);
            assert_eq!(p.header.code, MessageClass::Response(ResponseType::Content));
            assert_eq!(p.get_token(), b"tok");
            assert_eq!(p.payload, payload);
            let got_cf = p
                .get_first_option(CoapOption::ContentFormat)
                .map(|v| v.iter().fold(0u16, |a, b| a << 8 | *b as u16));
            assert_eq!(got_cf, cf);
            for (n, v) in options {
                assert_eq!(p.get_first_option(CoapOption::from(n)), Some(&v));
            }
        }
    }
}
