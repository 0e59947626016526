//! The platform over `std`: `UdpSocket`, `Instant`, `std::sync`.

use std::net::{ToSocketAddrs, UdpSocket};
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

use super::{ConnectError, LogLevel, Platform, RawLock, Transport, TransportError};
use crate::core::url::{Endpoint, Security};

/// `std` platform. Plain and PSK endpoints only: DTLS is the firmware's
/// (`HAL_DTLSSession_*`) or a custom [`Platform`]'s business.
pub struct StdPlatform {
    start: Instant,
    log_level: Option<LogLevel>,
    /// Where the stored session lives (feature `session-store`).
    #[cfg(feature = "session-store")]
    session_file: Option<std::path::PathBuf>,
}

impl StdPlatform {
    pub fn new() -> Self {
        StdPlatform {
            start: Instant::now(),
            log_level: None,
            #[cfg(feature = "session-store")]
            session_file: None,
        }
    }

    /// Keeps the session in `path` across restarts (feature
    /// `session-store`): replaced atomically (a temporary file beside it,
    /// synced, then renamed over it).
    #[cfg(feature = "session-store")]
    pub fn with_session_file(mut self, path: impl Into<std::path::PathBuf>) -> Self {
        self.session_file = Some(path.into());
        self
    }

    /// Log lines at or above `level` go to stderr.
    pub fn with_log(mut self, level: LogLevel) -> Self {
        self.log_level = Some(level);
        self
    }
}

impl Default for StdPlatform {
    fn default() -> Self {
        Self::new()
    }
}

pub struct StdUdp {
    sock: UdpSocket,
}

impl Transport for StdUdp {
    fn send(&self, datagram: &[u8]) -> Result<(), TransportError> {
        self.sock
            .send(datagram)
            .map(|_| ())
            .map_err(|_| TransportError::Io)
    }

    fn recv(&self, buf: &mut [u8], timeout_ms: u32) -> Result<Option<usize>, TransportError> {
        // A zero read timeout means "block forever" to std: use 1 ms.
        let t = Duration::from_millis(u64::from(timeout_ms.max(1)));
        self.sock
            .set_read_timeout(Some(t))
            .map_err(|_| TransportError::Io)?;
        match self.sock.recv(buf) {
            Ok(n) => Ok(Some(n)),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                Ok(None)
            }
            Err(_) => Err(TransportError::Io),
        }
    }
}

/// A lock usable through [`RawLock`]'s split lock/unlock calls.
pub struct StdLock {
    held: Mutex<bool>,
    cv: Condvar,
}

impl RawLock for StdLock {
    fn lock(&self) {
        let mut held = self.held.lock().unwrap_or_else(|e| e.into_inner());
        while *held {
            held = self.cv.wait(held).unwrap_or_else(|e| e.into_inner());
        }
        *held = true;
    }

    unsafe fn unlock(&self) {
        *self.held.lock().unwrap_or_else(|e| e.into_inner()) = false;
        self.cv.notify_one();
    }
}

impl Platform for StdPlatform {
    type Transport = StdUdp;
    type Lock = StdLock;

    fn connect(&self, ep: &Endpoint) -> Result<StdUdp, ConnectError> {
        if ep.security == Security::Dtls {
            return Err(ConnectError::Unsupported);
        }
        let addr = (ep.host.as_str(), ep.port)
            .to_socket_addrs()
            .map_err(|_| ConnectError::Unreachable)?
            .next()
            .ok_or(ConnectError::Unreachable)?;
        let local = if addr.is_ipv4() {
            "0.0.0.0:0"
        } else {
            "[::]:0"
        };
        let sock = UdpSocket::bind(local).map_err(|_| ConnectError::Unreachable)?;
        sock.connect(addr).map_err(|_| ConnectError::Unreachable)?;
        Ok(StdUdp { sock })
    }

    fn now_ms(&self) -> u64 {
        self.start.elapsed().as_millis() as u64
    }

    fn random_u32(&self) -> u32 {
        // RandomState is seeded from the OS: enough for ids and jitter.
        use std::hash::{BuildHasher, Hasher};
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u128(self.start.elapsed().as_nanos());
        h.finish() as u32
    }

    #[cfg(feature = "session-store")]
    fn load_session(&self, buf: &mut [u8]) -> Option<usize> {
        let bytes = std::fs::read(self.session_file.as_ref()?).ok()?;
        let out = buf.get_mut(..bytes.len())?;
        out.copy_from_slice(&bytes);
        Some(bytes.len())
    }

    #[cfg(feature = "session-store")]
    fn store_session(&self, record: &[u8]) -> bool {
        use std::io::Write;
        let Some(path) = &self.session_file else {
            return true;
        };
        let mut tmp = path.clone().into_os_string();
        tmp.push(".tmp");
        let written = std::fs::File::create(&tmp).and_then(|mut f| {
            f.write_all(record)?;
            f.sync_all()
        });
        written.and_then(|()| std::fs::rename(&tmp, path)).is_ok()
    }

    fn new_lock(&self) -> Option<StdLock> {
        Some(StdLock {
            held: Mutex::new(false),
            cv: Condvar::new(),
        })
    }

    fn sleep_ms(&self, ms: u32) {
        std::thread::sleep(Duration::from_millis(u64::from(ms)));
    }

    fn log(&self, _level: LogLevel, parts: &[&str]) {
        eprintln!("[iotx-coap] {}", parts.concat());
    }

    fn log_enabled(&self, level: LogLevel) -> bool {
        self.log_level.is_some_and(|l| level <= l)
    }
}
