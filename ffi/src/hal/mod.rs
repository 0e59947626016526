//! The platform over the firmware's own `HAL_*` functions, with the vendor
//! SDK's names and signatures, so an existing platform layer links
//! unchanged. This crate only declares them; the firmware (or the reference
//! Linux HAL in `hal/linux`) defines them.
//!
//! One file per concern, each compiled whole or not at all, so a feature
//! decides which `HAL_*` symbols the library needs and nothing inside a
//! file depends on it:
//!
//! ```text
//!   os        clock, sleep, random, mutexes (with guards), HAL_Printf   always
//!   udp       HAL_UDP_*: coap://, coap-psk://                           always
//!   dtls_abi  the vendor's DTLS types and result codes                  always
//!   dtls      HAL_DTLSSession_*: coaps://, one session for all threads  feature dtls
//!             (no_dtls.rs in its place without it: coaps:// is refused)
//!   kv        HAL_Kv_*: the stored session                              feature session-store
//! ```
//!
//! This file puts them together as the [`Platform`].

#[cfg(feature = "dtls")]
mod dtls;
#[cfg(not(feature = "dtls"))]
#[path = "no_dtls.rs"]
mod dtls;
mod dtls_abi;
#[cfg(feature = "session-store")]
mod kv;
mod os;
mod udp;

use alloc::vec::Vec;

use iotx_coap::core::url::{Endpoint, Security};
use iotx_coap::platform::{ConnectError, LogLevel, Platform, Transport, TransportError};

pub use dtls::DtlsSession;
pub use dtls_abi::{
    coap_dtls_options_t, DTLS_ERROR_BASE, DTLS_FATAL_ALERT_MESSAGE, DTLS_HANDSHAKE_FAILED,
    DTLS_HANDSHAKE_IN_PROGRESS, DTLS_INVALID_CA_CERTIFICATE, DTLS_INVALID_PARAM,
    DTLS_PEER_CLOSE_NOTIFY, DTLS_READ_DATA_FAILED, DTLS_SESSION_CREATE_FAILED, DTLS_SUCCESS,
};
pub use os::{HalLock, LOG_LEVEL};
pub use udp::UdpSocket;

/// The platform's public root CA (GlobalSign Root CA, as embedded by the
/// vendor SDK), NUL-terminated for `p_ca_cert_pem`.
pub static PLATFORM_ROOT_CA_PEM: &[u8] =
    concat!(include_str!("../ca/globalsign-root-ca.pem"), "\0").as_bytes();

/// The firmware's platform layer.
pub struct HalPlatform {
    /// PEM of the CA that signs the DTLS server certificate, NUL-terminated.
    /// A HAL may trust something else for local testing (the reference
    /// Linux HAL reads `IOTX_DTLS_CA_FILE`).
    pub ca_cert_pem: Option<&'static [u8]>,
}

impl Default for HalPlatform {
    fn default() -> Self {
        HalPlatform {
            ca_cert_pem: Some(PLATFORM_ROOT_CA_PEM),
        }
    }
}

pub enum HalTransport {
    Udp(UdpSocket),
    Dtls(DtlsSession),
}

impl Transport for HalTransport {
    fn send(&self, d: &[u8]) -> Result<(), TransportError> {
        match self {
            HalTransport::Udp(sock) => sock.send(d),
            HalTransport::Dtls(session) => session.send(d),
        }
    }

    fn recv(&self, buf: &mut [u8], timeout_ms: u32) -> Result<Option<usize>, TransportError> {
        match self {
            HalTransport::Udp(sock) => sock.recv(buf, timeout_ms),
            HalTransport::Dtls(session) => session.recv(buf, timeout_ms),
        }
    }

    fn session_can_die(&self) -> bool {
        matches!(self, HalTransport::Dtls(_))
    }
}

/// `host` as a NUL-terminated C string (the HAL takes `char *`).
fn c_string(s: &str) -> Vec<u8> {
    let mut v = Vec::with_capacity(s.len() + 1);
    v.extend_from_slice(s.as_bytes());
    v.push(0);
    v
}

impl Platform for HalPlatform {
    type Transport = HalTransport;
    type Lock = HalLock;

    fn connect(&self, ep: &Endpoint) -> Result<HalTransport, ConnectError> {
        if ep.host.as_bytes().contains(&0) {
            return Err(ConnectError::Unreachable);
        }
        let mut host = c_string(&ep.host);
        match ep.security {
            Security::Plain | Security::Psk => {
                UdpSocket::connect(&mut host, ep.port).map(HalTransport::Udp)
            }
            Security::Dtls => {
                DtlsSession::connect(&mut host, ep.port, self.ca_cert_pem).map(HalTransport::Dtls)
            }
        }
    }

    fn now_ms(&self) -> u64 {
        os::uptime_ms()
    }

    fn random_u32(&self) -> u32 {
        os::random_u32()
    }

    fn new_lock(&self) -> Option<HalLock> {
        HalLock::create()
    }

    fn sleep_ms(&self, ms: u32) {
        os::sleep_ms(ms)
    }

    fn log(&self, level: LogLevel, parts: &[&str]) {
        os::log(level, parts)
    }

    fn log_enabled(&self, level: LogLevel) -> bool {
        os::log_enabled(level)
    }

    #[cfg(feature = "session-store")]
    fn load_session(&self, buf: &mut [u8]) -> Option<usize> {
        kv::load(buf)
    }

    #[cfg(feature = "session-store")]
    fn store_session(&self, record: &[u8]) -> bool {
        kv::store(record)
    }
}
