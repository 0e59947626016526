//! The RFC 7252 message layer of a listener.
//!
//! A [`Listener`] owns a [`DatagramTransport`] (something that receives and
//! sends whole datagrams from/to peers) and a [`Security`] mode, and runs
//! the message layer: fault injection, deduplication, piggybacked /
//! separate / NON responses, retransmission of separate CON responses, and
//! the RST answers. It hands every request to [`Platform::handle`]
//! (`crate::platform`), which implements `/auth` and `/topic/...` and
//! knows nothing about sockets, message ids or retransmission.
//!
//! There are two listeners over [`UdpTransport`]: `plain`
//! (`Security::None`) and `psk` (`Security::Psk`, payload/seq AES), and the
//! DTLS listener: a `Listener` named `"dtls"` with `Security::None` over
//! [`crate::dtls::DtlsTransport`], which implements [`DatagramTransport`]
//! over the DTLS record layer (one session per peer) and hands up
//! decrypted CoAP messages.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use coap_lite::{CoapOption, MessageClass, MessageType, Packet};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::json;

use crate::dedup::DedupCache;
use crate::faults::FaultInjector;
use crate::platform::{Platform, Reply, Security};
use crate::stats::Counters;

/// RFC 7252 EXCHANGE_LIFETIME.
pub const EXCHANGE_LIFETIME: Duration = Duration::from_secs(247);
/// Bound of the deduplication cache.
const DEDUP_MAX: usize = 200_000;
const MAX_RETRANSMIT: u32 = 4;

/// A datagram transport a listener runs over (UDP, or DTLS sessions).
pub trait DatagramTransport: Send {
    /// Receives one datagram, waiting at most `timeout`; `Ok(None)` on timeout.
    fn recv(
        &mut self,
        buf: &mut [u8],
        timeout: Duration,
    ) -> io::Result<Option<(usize, SocketAddr)>>;
    fn send(&mut self, datagram: &[u8], peer: SocketAddr) -> io::Result<()>;
    fn local_addr(&self) -> io::Result<SocketAddr>;
    /// Peers whose earlier exchanges must be forgotten because a new
    /// session started from their address (DTLS: a client restarted on the
    /// same port); the listener drops their deduplication entries and
    /// pending separate responses before handling the new session's
    /// messages. Plain UDP has no sessions and reports none.
    fn take_reset_peers(&mut self) -> Vec<SocketAddr> {
        Vec::new()
    }
}

/// Plain UDP.
pub struct UdpTransport {
    sock: UdpSocket,
    timeout: Option<Duration>,
}

/// `recv_from` waiting at most `timeout` (`current` caches the socket's
/// read timeout, so it is only changed when it differs). A timeout, and an
/// ICMP refusal caused by an earlier send to a peer that has gone, read as
/// "nothing received".
pub(crate) fn recv_from_timeout(
    sock: &UdpSocket,
    current: &mut Option<Duration>,
    buf: &mut [u8],
    timeout: Duration,
) -> io::Result<Option<(usize, SocketAddr)>> {
    let t = timeout.max(Duration::from_millis(1));
    if *current != Some(t) {
        sock.set_read_timeout(Some(t))?;
        *current = Some(t);
    }
    match sock.recv_from(buf) {
        Ok(r) => Ok(Some(r)),
        Err(e)
            if matches!(
                e.kind(),
                io::ErrorKind::WouldBlock
                    | io::ErrorKind::TimedOut
                    | io::ErrorKind::Interrupted
                    | io::ErrorKind::ConnectionReset
                    | io::ErrorKind::ConnectionRefused
            ) =>
        {
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

impl UdpTransport {
    pub fn bind(addr: SocketAddr) -> io::Result<UdpTransport> {
        Ok(UdpTransport::from_socket(UdpSocket::bind(addr)?))
    }

    pub fn from_socket(sock: UdpSocket) -> UdpTransport {
        UdpTransport {
            sock,
            timeout: None,
        }
    }
}

impl DatagramTransport for UdpTransport {
    fn recv(
        &mut self,
        buf: &mut [u8],
        timeout: Duration,
    ) -> io::Result<Option<(usize, SocketAddr)>> {
        recv_from_timeout(&self.sock, &mut self.timeout, buf, timeout)
    }

    fn send(&mut self, datagram: &[u8], peer: SocketAddr) -> io::Result<()> {
        self.sock.send_to(datagram, peer).map(|_| ())
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.sock.local_addr()
    }
}

/// Direction of a datagram.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Dir {
    In,
    Out,
}

struct Timed {
    at: Instant,
    n: u64,
    dir: Dir,
    peer: SocketAddr,
    bytes: Vec<u8>,
}
impl PartialEq for Timed {
    fn eq(&self, o: &Self) -> bool {
        (self.at, self.n) == (o.at, o.n)
    }
}
impl Eq for Timed {}
impl PartialOrd for Timed {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Timed {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        (self.at, self.n).cmp(&(o.at, o.n))
    }
}

struct Held {
    until: Instant,
    peer: SocketAddr,
    bytes: Vec<u8>,
    copies: u8,
}

struct Pending {
    peer: SocketAddr,
    bytes: Vec<u8>,
    sent: u32,
    timeout: Duration,
    next_at: Instant,
}

/// One listener: a transport, a security mode and the message layer.
pub struct Listener<T: DatagramTransport> {
    name: &'static str,
    security: Security,
    transport: T,
    platform: Arc<Platform>,
    fault_in: FaultInjector,
    fault_out: FaultInjector,
    link: Option<crate::link::LinkModel>,
    delay: Duration,
    timers: BinaryHeap<Reverse<Timed>>,
    timer_n: u64,
    held_in: Option<Held>,
    held_out: Option<Held>,
    dedup: DedupCache,
    pending: HashMap<u16, Pending>,
    next_mid: u16,
    rng: StdRng,
}

impl<T: DatagramTransport> Listener<T> {
    pub(crate) fn new(
        name: &'static str,
        security: Security,
        transport: T,
        platform: Arc<Platform>,
        seed: u64,
    ) -> Self {
        let faults = platform.cfg.faults.clone();
        let mut rng = StdRng::seed_from_u64(seed ^ 0x6d69_6473);
        Listener {
            name,
            security,
            transport,
            fault_in: FaultInjector::new(faults.inbound, seed ^ 0x0001),
            fault_out: FaultInjector::new(faults.outbound, seed ^ 0x0002),
            link: (platform.cfg.link.as_ref())
                .map(|l| crate::link::LinkModel::new(l, seed ^ 0x4c4b)),
            delay: faults.delay,
            platform,
            timers: BinaryHeap::new(),
            timer_n: 0,
            held_in: None,
            held_out: None,
            dedup: DedupCache::new(EXCHANGE_LIFETIME, DEDUP_MAX),
            pending: HashMap::new(),
            next_mid: rng.gen(),
            rng,
        }
    }

    pub(crate) fn name(&self) -> &'static str {
        self.name
    }

    /// Runs until `stop` is set.
    pub(crate) fn run(mut self, stop: &AtomicBool) {
        let mut buf = vec![0u8; 65_536];
        while !stop.load(Ordering::Relaxed) {
            let now = Instant::now();
            let mut wait = Duration::from_millis(20);
            if let Some(Reverse(t)) = self.timers.peek() {
                wait = wait.min(t.at.saturating_duration_since(now));
            }
            for h in [&self.held_in, &self.held_out].into_iter().flatten() {
                wait = wait.min(h.until.saturating_duration_since(now));
            }
            for p in self.pending.values() {
                wait = wait.min(p.next_at.saturating_duration_since(now));
            }
            let got = self.transport.recv(&mut buf, wait);
            for peer in self.transport.take_reset_peers() {
                self.forget_peer(peer);
            }
            match got {
                Ok(Some((n, peer))) => {
                    let bytes = buf[..n].to_vec();
                    Counters::inc(&self.platform.counters.received);
                    Counters::add(&self.platform.counters.received_bytes, n);
                    // Whatever a datagram contains, it must not take the listener down.
                    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        self.pass(Dir::In, peer, bytes)
                    }));
                    if r.is_err() {
                        self.malformed(peer, "internal error while handling the datagram".into());
                    }
                }
                Ok(None) => {}
                Err(_) => std::thread::sleep(Duration::from_millis(5)),
            }
            self.fire_timers();
        }
    }

    /// Forgets a peer's exchanges (its new session starts afresh).
    fn forget_peer(&mut self, peer: SocketAddr) {
        self.dedup.forget_peer(peer);
        self.pending.retain(|_, p| p.peer != peer);
    }

    fn counters(&self) -> &Counters {
        &self.platform.counters
    }

    /// Applies the direction's faults, then delivers (now or later).
    fn pass(&mut self, dir: Dir, peer: SocketAddr, bytes: Vec<u8>) {
        if let Some(link) = &mut self.link {
            let dc = match dir {
                Dir::In => &self.platform.counters.inbound,
                Dir::Out => &self.platform.counters.outbound,
            };
            let Some(d) = link.delay(dir == Dir::In) else {
                return Counters::inc(&dc.dropped);
            };
            Counters::inc(&dc.delayed);
            self.timer_n += 1;
            let (at, n) = (Instant::now() + d, self.timer_n);
            return self.timers.push(Reverse(Timed {
                at,
                n,
                dir,
                peer,
                bytes,
            }));
        }
        let v = match dir {
            Dir::In => self.fault_in.judge(),
            Dir::Out => self.fault_out.judge(),
        };
        let c = &self.platform.counters;
        let dc = match dir {
            Dir::In => &c.inbound,
            Dir::Out => &c.outbound,
        };
        if v.drop {
            Counters::inc(&dc.dropped);
            return;
        }
        let copies = if v.dup {
            Counters::inc(&dc.duplicated);
            2
        } else {
            1
        };
        let now = Instant::now();
        if v.delay {
            Counters::inc(&dc.delayed);
            for _ in 0..copies {
                self.timer_n += 1;
                self.timers.push(Reverse(Timed {
                    at: now + self.delay,
                    n: self.timer_n,
                    dir,
                    peer,
                    bytes: bytes.clone(),
                }));
            }
            return;
        }
        let held = match dir {
            Dir::In => &mut self.held_in,
            Dir::Out => &mut self.held_out,
        };
        if v.reorder && held.is_none() {
            Counters::inc(&dc.reordered);
            *held = Some(Held {
                until: now + self.delay,
                peer,
                bytes,
                copies,
            });
            return;
        }
        let overtaken = held.take();
        for _ in 0..copies {
            self.deliver(dir, peer, bytes.clone());
        }
        if let Some(h) = overtaken {
            for _ in 0..h.copies {
                self.deliver(dir, h.peer, h.bytes.clone());
            }
        }
    }

    fn fire_timers(&mut self) {
        let now = Instant::now();
        while self.timers.peek().is_some_and(|Reverse(t)| t.at <= now) {
            let Reverse(t) = self.timers.pop().expect("peeked");
            self.deliver(t.dir, t.peer, t.bytes);
        }
        for dir in [Dir::In, Dir::Out] {
            let slot = match dir {
                Dir::In => &mut self.held_in,
                Dir::Out => &mut self.held_out,
            };
            if slot.as_ref().is_some_and(|h| h.until <= now) {
                let h = slot.take().expect("checked");
                for _ in 0..h.copies {
                    self.deliver(dir, h.peer, h.bytes.clone());
                }
            }
        }
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
                self.platform.log.emit(
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
            self.pass(Dir::Out, peer, bytes);
        }
    }

    fn deliver(&mut self, dir: Dir, peer: SocketAddr, bytes: Vec<u8>) {
        match dir {
            Dir::Out => {
                Counters::inc(&self.counters().sent);
                Counters::add(&self.counters().sent_bytes, bytes.len());
                let _ = self.transport.send(&bytes, peer);
            }
            Dir::In => self.process(peer, &bytes),
        }
    }

    fn malformed(&mut self, peer: SocketAddr, reason: String) {
        Counters::inc(&self.counters().malformed);
        self.platform.log.emit(
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
            self.pass(Dir::Out, peer, b);
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

    fn build(&self, ty: MessageType, mid: u16, token: &[u8], r: &Reply) -> Vec<u8> {
        let mut p = Packet::new();
        p.header.set_type(ty);
        p.header.message_id = mid;
        p.header.code = MessageClass::Response(r.code);
        p.set_token(token.to_vec());
        if let Some(cf) = r.content_format {
            p.add_option(
                CoapOption::ContentFormat,
                cf.to_be_bytes()
                    .iter()
                    .copied()
                    .skip_while(|b| *b == 0)
                    .collect(),
            );
        }
        for (n, v) in &r.options {
            p.add_option(CoapOption::from(*n), v.clone());
        }
        p.payload = r.payload.clone();
        p.to_bytes_unlimited().unwrap_or_default()
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
            self.platform.log.emit(
                "duplicate",
                json!({"peer": peer.to_string(), "listener": self.name, "mid": mid}),
            );
            self.pass(Dir::Out, peer, cached);
            return;
        }
        let reply = self.platform.handle(self.name, self.security, peer, &pkt);
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
                        next_at: Instant::now() + timeout,
                    },
                );
                self.dedup.insert(key, &ack, Instant::now());
                self.pass(Dir::Out, peer, ack);
                self.pass(Dir::Out, peer, con);
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
        self.dedup.insert(key, &answer, Instant::now());
        self.pass(Dir::Out, peer, answer);
    }
}
