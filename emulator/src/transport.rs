//! Datagram transports a listener runs over: UDP, an in-memory network on
//! simulated time (tests), and the byte counting every listener gets. The
//! DTLS transport is in `dtls.rs`, the fault-injecting wrapper in
//! `faults.rs`; none of them knows anything of CoAP.

use std::collections::VecDeque;
use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::clock::{Clock, SimClock};
use crate::stats::Counters;

/// What a receive gives: the datagram's length in the buffer and its
/// sender, or `None` when nothing came in time.
pub type Received = io::Result<Option<(usize, SocketAddr)>>;

/// A datagram transport a listener runs over (UDP, or DTLS sessions).
pub trait DatagramTransport: Send {
    /// Receives one datagram, waiting at most `timeout`; `Ok(None)` on timeout.
    fn recv(&mut self, buf: &mut [u8], timeout: Duration) -> Received;
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

/// `recv_from` waiting at most `timeout` (`current` caches the socket's
/// read timeout, so it is only changed when it differs). A timeout, and an
/// ICMP refusal caused by an earlier send to a peer that has gone, read as
/// "nothing received".
pub(crate) fn recv_from_timeout(
    sock: &UdpSocket,
    current: &mut Option<Duration>,
    buf: &mut [u8],
    timeout: Duration,
) -> Received {
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

/// Plain UDP.
pub struct UdpTransport {
    sock: UdpSocket,
    timeout: Option<Duration>,
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
    fn recv(&mut self, buf: &mut [u8], timeout: Duration) -> Received {
        recv_from_timeout(&self.sock, &mut self.timeout, buf, timeout)
    }

    fn send(&mut self, datagram: &[u8], peer: SocketAddr) -> io::Result<()> {
        self.sock.send_to(datagram, peer).map(|_| ())
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.sock.local_addr()
    }
}

/// Counts what crosses the wire (below fault injection, so a dropped
/// datagram was received but never sent).
pub struct Counted<T> {
    inner: T,
    counters: Arc<Counters>,
}

impl<T: DatagramTransport> Counted<T> {
    pub(crate) fn new(inner: T, counters: Arc<Counters>) -> Self {
        Counted { inner, counters }
    }
}

impl<T: DatagramTransport> DatagramTransport for Counted<T> {
    fn recv(&mut self, buf: &mut [u8], timeout: Duration) -> Received {
        let got = self.inner.recv(buf, timeout)?;
        if let Some((n, _)) = got {
            Counters::inc(&self.counters.received);
            Counters::add(&self.counters.received_bytes, n);
        }
        Ok(got)
    }

    fn send(&mut self, datagram: &[u8], peer: SocketAddr) -> io::Result<()> {
        // Counted even when the transport refuses it (a DTLS peer gone):
        // the emulator did answer.
        Counters::inc(&self.counters.sent);
        Counters::add(&self.counters.sent_bytes, datagram.len());
        self.inner.send(datagram, peer)
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.local_addr()
    }

    fn take_reset_peers(&mut self) -> Vec<SocketAddr> {
        self.inner.take_reset_peers()
    }
}

/// A datagram the emulator sent on a [`MemTransport`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sent {
    /// Simulated time since the network was made.
    pub at: Duration,
    pub peer: SocketAddr,
    pub bytes: Vec<u8>,
}

#[derive(Default)]
struct MemQueues {
    inbox: VecDeque<(SocketAddr, Vec<u8>)>,
    outbox: Vec<Sent>,
    /// Waiting for a datagram never moves the clock past this.
    limit: Option<Instant>,
}

/// An in-memory network on a [`SimClock`]: waiting for a datagram that is
/// not there moves the clock instead of sleeping. Clones share the queues.
#[derive(Clone)]
pub struct MemTransport {
    addr: SocketAddr,
    clock: SimClock,
    start: Instant,
    q: Arc<Mutex<MemQueues>>,
}

impl MemTransport {
    pub fn new(addr: SocketAddr, clock: SimClock) -> MemTransport {
        MemTransport {
            addr,
            start: clock.now(),
            clock,
            q: Arc::default(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, MemQueues> {
        self.q.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queues a datagram from `peer` to the emulator.
    pub fn push(&self, peer: SocketAddr, bytes: &[u8]) {
        self.lock().inbox.push_back((peer, bytes.to_vec()));
    }

    /// The datagrams sent since the last call.
    pub fn take_sent(&self) -> Vec<Sent> {
        std::mem::take(&mut self.lock().outbox)
    }

    pub fn has_input(&self) -> bool {
        !self.lock().inbox.is_empty()
    }

    pub fn set_limit(&self, limit: Instant) {
        self.lock().limit = Some(limit);
    }

    pub fn clock(&self) -> &SimClock {
        &self.clock
    }

    /// Simulated time since the network was made.
    pub fn elapsed(&self) -> Duration {
        self.clock.now() - self.start
    }
}

impl DatagramTransport for MemTransport {
    fn recv(&mut self, buf: &mut [u8], timeout: Duration) -> Received {
        let mut q = self.lock();
        if let Some((peer, d)) = q.inbox.pop_front() {
            let n = d.len().min(buf.len());
            buf[..n].copy_from_slice(&d[..n]);
            return Ok(Some((n, peer)));
        }
        let now = self.clock.now();
        let room = q
            .limit
            .map_or(timeout, |l| l.saturating_duration_since(now));
        drop(q);
        self.clock.advance(timeout.min(room));
        Ok(None)
    }

    fn send(&mut self, datagram: &[u8], peer: SocketAddr) -> io::Result<()> {
        let at = self.clock.now() - self.start;
        self.lock().outbox.push(Sent {
            at,
            peer,
            bytes: datagram.to_vec(),
        });
        Ok(())
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        Ok(self.addr)
    }
}
