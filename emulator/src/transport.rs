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
        Err(e) if nothing_to_read(&e) => Ok(None),
        Err(e) => Err(e),
    }
}

/// A receive error that only means "no datagram now": a timeout, a signal,
/// or an ICMP error an earlier send provoked (not this socket's fault).
fn nothing_to_read(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock
            | io::ErrorKind::TimedOut
            | io::ErrorKind::Interrupted
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionRefused
    )
}

/// Plain UDP. On Linux, datagrams are received and sent in batches
/// (`recvmmsg`/`sendmmsg`, see [`mmsg`]): a loaded listener otherwise spends
/// most of its time entering and leaving the kernel, one datagram a call.
/// Sends are queued and leave together just before the listener would wait
/// for input (or when the transport is dropped), so an answer is never held
/// longer than the handling of the datagrams already received with it.
pub struct UdpTransport {
    sock: UdpSocket,
    timeout: Option<Duration>,
    #[cfg(target_os = "linux")]
    batch: mmsg::Batch,
}

impl UdpTransport {
    pub fn bind(addr: SocketAddr) -> io::Result<UdpTransport> {
        Ok(UdpTransport::from_socket(UdpSocket::bind(addr)?))
    }

    pub fn from_socket(sock: UdpSocket) -> UdpTransport {
        UdpTransport {
            sock,
            timeout: None,
            #[cfg(target_os = "linux")]
            batch: mmsg::Batch::new(),
        }
    }
}

#[cfg(not(target_os = "linux"))]
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

/// How long a busy listener polls for the next datagram before sleeping.
#[cfg(target_os = "linux")]
const SPIN: Duration = Duration::from_micros(50);

#[cfg(target_os = "linux")]
impl DatagramTransport for UdpTransport {
    fn recv(&mut self, buf: &mut [u8], timeout: Duration) -> Received {
        if let Some(got) = self.batch.next(buf) {
            return Ok(Some(got));
        }
        // Nothing left of the last batch: the answers to it leave now,
        // before this thread may sleep.
        self.batch.flush(&self.sock);
        if self.batch.hot {
            // Under load the next datagram is usually microseconds away:
            // waiting for it awake is cheaper than sleeping and being woken
            // (a context switch each way was a fifth of the listener's time).
            let until = Instant::now() + SPIN;
            while Instant::now() < until {
                if self.batch.fill(&self.sock, libc::MSG_DONTWAIT).is_ok() {
                    return Ok(self.batch.next(buf));
                }
                std::hint::spin_loop();
            }
            self.batch.hot = false;
        }
        let t = timeout.max(Duration::from_millis(1));
        if self.timeout != Some(t) {
            self.sock.set_read_timeout(Some(t))?;
            self.timeout = Some(t);
        }
        match self.batch.fill(&self.sock, libc::MSG_WAITFORONE) {
            Ok(()) => {
                // More than one datagram queued after a sleep: load worth
                // polling for next time.
                self.batch.hot = self.batch.rx_count > 1;
                Ok(self.batch.next(buf))
            }
            Err(e) if nothing_to_read(&e) => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn send(&mut self, datagram: &[u8], peer: SocketAddr) -> io::Result<()> {
        self.batch.queue(&self.sock, datagram, peer);
        Ok(())
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.sock.local_addr()
    }
}

#[cfg(target_os = "linux")]
impl Drop for UdpTransport {
    fn drop(&mut self) {
        self.batch.flush(&self.sock);
    }
}

/// Batched UDP receive and send on Linux.
#[cfg(target_os = "linux")]
pub(crate) mod mmsg {
    use std::io;
    use std::net::{SocketAddr, SocketAddrV4, SocketAddrV6, UdpSocket};
    use std::os::fd::AsRawFd;

    /// Datagrams per system call, each way.
    const BATCH: usize = 32;
    /// Room for the largest UDP datagram, so a batch truncates nothing.
    const RX_SIZE: usize = 65_536;

    pub(crate) struct Batch {
        rx: Vec<u8>,
        rx_addr: Vec<libc::sockaddr_storage>,
        rx_len: Vec<usize>,
        rx_next: usize,
        pub(super) rx_count: usize,
        /// Datagrams came faster than a sleep and a wake-up: poll a while
        /// before sleeping.
        pub(super) hot: bool,
        /// Queued datagrams' bytes, back to back, and (end, peer) of each.
        tx: Vec<u8>,
        tx_meta: Vec<(usize, SocketAddr)>,
    }

    fn zeroed_storage() -> libc::sockaddr_storage {
        // SAFETY: sockaddr_storage is plain data; all zeroes is valid.
        unsafe { std::mem::zeroed() }
    }

    fn to_socket_addr(sa: &libc::sockaddr_storage) -> Option<SocketAddr> {
        match sa.ss_family as libc::c_int {
            libc::AF_INET => {
                // SAFETY: the family says the storage holds a sockaddr_in.
                let a = unsafe { &*(sa as *const _ as *const libc::sockaddr_in) };
                let ip = u32::from_be(a.sin_addr.s_addr);
                Some(SocketAddr::V4(SocketAddrV4::new(
                    ip.into(),
                    u16::from_be(a.sin_port),
                )))
            }
            libc::AF_INET6 => {
                // SAFETY: the family says the storage holds a sockaddr_in6.
                let a = unsafe { &*(sa as *const _ as *const libc::sockaddr_in6) };
                Some(SocketAddr::V6(SocketAddrV6::new(
                    a.sin6_addr.s6_addr.into(),
                    u16::from_be(a.sin6_port),
                    a.sin6_flowinfo,
                    a.sin6_scope_id,
                )))
            }
            _ => None,
        }
    }

    fn from_socket_addr(addr: &SocketAddr) -> (libc::sockaddr_storage, libc::socklen_t) {
        let mut ss = zeroed_storage();
        match addr {
            SocketAddr::V4(a) => {
                // SAFETY: sockaddr_storage is large and aligned enough for sockaddr_in.
                let sin = unsafe { &mut *(&mut ss as *mut _ as *mut libc::sockaddr_in) };
                sin.sin_family = libc::AF_INET as libc::sa_family_t;
                sin.sin_port = a.port().to_be();
                sin.sin_addr.s_addr = u32::from(*a.ip()).to_be();
                (
                    ss,
                    std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t,
                )
            }
            SocketAddr::V6(a) => {
                // SAFETY: sockaddr_storage is large and aligned enough for sockaddr_in6.
                let sin6 = unsafe { &mut *(&mut ss as *mut _ as *mut libc::sockaddr_in6) };
                sin6.sin6_family = libc::AF_INET6 as libc::sa_family_t;
                sin6.sin6_port = a.port().to_be();
                sin6.sin6_addr.s6_addr = a.ip().octets();
                sin6.sin6_flowinfo = a.flowinfo();
                sin6.sin6_scope_id = a.scope_id();
                (
                    ss,
                    std::mem::size_of::<libc::sockaddr_in6>() as libc::socklen_t,
                )
            }
        }
    }

    impl Batch {
        pub fn new() -> Batch {
            Batch {
                rx: vec![0; BATCH * RX_SIZE],
                rx_addr: vec![zeroed_storage(); BATCH],
                rx_len: vec![0; BATCH],
                rx_next: 0,
                rx_count: 0,
                hot: false,
                tx: Vec::with_capacity(BATCH * 256),
                tx_meta: Vec::with_capacity(BATCH),
            }
        }

        /// The next datagram of the last batch, copied into `buf`.
        pub fn next(&mut self, buf: &mut [u8]) -> Option<(usize, SocketAddr)> {
            while self.rx_next < self.rx_count {
                let i = self.rx_next;
                self.rx_next += 1;
                let Some(peer) = to_socket_addr(&self.rx_addr[i]) else {
                    continue;
                };
                let n = self.rx_len[i].min(buf.len());
                buf[..n].copy_from_slice(&self.rx[i * RX_SIZE..i * RX_SIZE + n]);
                return Some((n, peer));
            }
            None
        }

        /// Waits (up to the socket's read timeout) for at least one
        /// datagram and takes whatever else is already queued with it.
        pub fn fill(&mut self, sock: &UdpSocket, flags: libc::c_int) -> io::Result<()> {
            let mut iov: [libc::iovec; BATCH] = std::array::from_fn(|i| libc::iovec {
                iov_base: self.rx[i * RX_SIZE..].as_mut_ptr().cast(),
                iov_len: RX_SIZE,
            });
            // SAFETY: mmsghdr is plain data; the pointers are set below.
            let mut hdrs: [libc::mmsghdr; BATCH] = unsafe { std::mem::zeroed() };
            for (i, h) in hdrs.iter_mut().enumerate() {
                h.msg_hdr.msg_name = (&mut self.rx_addr[i] as *mut libc::sockaddr_storage).cast();
                h.msg_hdr.msg_namelen =
                    std::mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
                h.msg_hdr.msg_iov = &mut iov[i];
                h.msg_hdr.msg_iovlen = 1;
            }
            // SAFETY: every header points at live buffers of the stated sizes.
            let n = unsafe {
                libc::recvmmsg(
                    sock.as_raw_fd(),
                    hdrs.as_mut_ptr(),
                    BATCH as libc::c_uint,
                    flags,
                    std::ptr::null_mut(),
                )
            };
            if n < 0 {
                return Err(io::Error::last_os_error());
            }
            for (i, h) in hdrs.iter().enumerate().take(n as usize) {
                self.rx_len[i] = h.msg_len as usize;
            }
            self.rx_next = 0;
            self.rx_count = n as usize;
            Ok(())
        }

        /// Queues a datagram; a full queue leaves at once.
        pub fn queue(&mut self, sock: &UdpSocket, datagram: &[u8], peer: SocketAddr) {
            self.tx.extend_from_slice(datagram);
            self.tx_meta.push((self.tx.len(), peer));
            if self.tx_meta.len() == BATCH {
                self.flush(sock);
            }
        }

        /// Sends what is queued. As with one `send_to` each, a datagram the
        /// kernel refuses (a full buffer, an ICMP error) is lost.
        pub fn flush(&mut self, sock: &UdpSocket) {
            if self.tx_meta.is_empty() {
                return;
            }
            let mut addrs = [(zeroed_storage(), 0); BATCH];
            let mut iov: [libc::iovec; BATCH] = std::array::from_fn(|_| libc::iovec {
                iov_base: std::ptr::null_mut(),
                iov_len: 0,
            });
            // SAFETY: mmsghdr is plain data; the pointers are set below.
            let mut hdrs: [libc::mmsghdr; BATCH] = unsafe { std::mem::zeroed() };
            let count = self.tx_meta.len();
            let mut start = 0;
            for i in 0..count {
                let (end, peer) = self.tx_meta[i];
                addrs[i] = from_socket_addr(&peer);
                iov[i].iov_base = self.tx[start..end].as_mut_ptr().cast();
                iov[i].iov_len = end - start;
                start = end;
            }
            for i in 0..count {
                hdrs[i].msg_hdr.msg_name = (&mut addrs[i].0 as *mut libc::sockaddr_storage).cast();
                hdrs[i].msg_hdr.msg_namelen = addrs[i].1;
                hdrs[i].msg_hdr.msg_iov = &mut iov[i];
                hdrs[i].msg_hdr.msg_iovlen = 1;
            }
            let mut done = 0;
            while done < count {
                // SAFETY: headers done..count point at live buffers and addresses.
                let n = unsafe {
                    libc::sendmmsg(
                        sock.as_raw_fd(),
                        hdrs[done..].as_mut_ptr(),
                        (count - done) as libc::c_uint,
                        0,
                    )
                };
                match n {
                    n if n > 0 => done += n as usize,
                    _ if io::Error::last_os_error().kind() == io::ErrorKind::Interrupted => {}
                    // The first remaining datagram was refused: skip it.
                    _ => done += 1,
                }
            }
            self.tx.clear();
            self.tx_meta.clear();
        }
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
