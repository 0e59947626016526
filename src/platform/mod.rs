//! What the library needs from the device: a datagram transport to the
//! platform, a clock, randomness, a lock and a log.
//!
//! [`std_udp::StdPlatform`] (feature `std`) uses `std::net::UdpSocket`
//! for Rust users and tests. The C library (the `iotx-coap-ffi` crate)
//! implements these traits over the firmware's `HAL_*` functions (the
//! vendor SDK's platform layer, unchanged). Anything else (an RTOS socket
//! API, a simulator) implements the traits below.

use crate::core::url::Endpoint;

#[cfg(feature = "session-store")]
pub(crate) mod session_store;
#[cfg(feature = "std")]
pub mod std_udp;

/// Why a transport operation failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TransportError {
    /// A send or receive failed; the session may still work later (for
    /// UDP, an ICMP error from a restarting server looks like this).
    Io,
    /// The secure session is dead (DTLS close notify, fatal alert): a new
    /// transport must be connected.
    Closed,
}

/// Why connecting failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConnectError {
    /// Name resolution or socket creation failed.
    Unreachable,
    /// The DTLS session could not be created (handshake, certificate).
    Handshake,
    /// This platform cannot speak that security mode.
    Unsupported,
}

/// A connected datagram pipe to the platform endpoint. `send` and `recv`
/// may be called from different threads at once.
pub trait Transport: Send + Sync {
    fn send(&self, datagram: &[u8]) -> Result<(), TransportError>;
    /// Waits up to `timeout_ms` for one datagram: `Ok(Some(len))`, or
    /// `Ok(None)` when the time ran out.
    fn recv(&self, buf: &mut [u8], timeout_ms: u32) -> Result<Option<usize>, TransportError>;
    /// Whether this transport holds a session the server can lose without
    /// a word (DTLS: a restarted server drops our records silently). The
    /// driver then judges the link by its silence and builds a new
    /// session, and takes a receive error as the session's failure, not
    /// as a sign that nobody listens. Plain datagrams (the default) have
    /// no session to lose; there a closed port is reported by the network,
    /// and repeated refusals give the waiting requests up.
    fn session_can_die(&self) -> bool {
        false
    }
}

/// A mutual-exclusion primitive supplied by the platform (the vendor's
/// `HAL_MutexCreate`), so the driver locks the same way on every OS.
pub trait RawLock: Send + Sync {
    fn lock(&self);
    /// # Safety
    /// Only after a matching `lock` on the same thread.
    unsafe fn unlock(&self);
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum LogLevel {
    Crit = 1,
    Error = 2,
    Warning = 3,
    Info = 4,
    Debug = 5,
}

pub trait Platform: Send + Sync {
    type Transport: Transport;
    type Lock: RawLock;

    /// Opens a transport to `endpoint` according to its security mode.
    fn connect(&self, endpoint: &Endpoint) -> Result<Self::Transport, ConnectError>;
    /// Milliseconds from any fixed origin; never goes backwards.
    fn now_ms(&self) -> u64;
    fn random_u32(&self) -> u32;
    fn new_lock(&self) -> Option<Self::Lock>;
    /// Sleeps (used only to avoid spinning when the transport errors at once).
    fn sleep_ms(&self, ms: u32);
    /// One log line, already filtered by level; `parts` are concatenated.
    fn log(&self, level: LogLevel, parts: &[&str]);
    fn log_enabled(&self, level: LogLevel) -> bool;

    /// Reads the stored session record (feature `session-store`) into
    /// `buf`: `Some(len)`, or `None` when there is none or no storage.
    /// The record is checked by the caller; any bytes are safe to return.
    #[cfg(feature = "session-store")]
    fn load_session(&self, _buf: &mut [u8]) -> Option<usize> {
        None
    }
    /// Replaces the stored session record, durably, before returning
    /// (datagrams wait for it). `false` when it could not be written; a
    /// platform without storage keeps nothing and returns `true`.
    #[cfg(feature = "session-store")]
    fn store_session(&self, _record: &[u8]) -> bool {
        true
    }
}
