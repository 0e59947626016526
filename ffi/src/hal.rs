//! The platform over the firmware's own `HAL_*` functions, with the vendor
//! SDK's names and signatures, so an existing platform layer links
//! unchanged. This crate only declares them; the firmware (or the reference
//! Linux HAL in `hal/linux`) defines them.

use alloc::vec::Vec;
use core::ffi::{c_char, c_int, c_uchar, c_uint, c_ushort, c_void};
use core::sync::atomic::{AtomicI32, Ordering};

use iotx_coap::core::url::{Endpoint, Security};
use iotx_coap::platform::{ConnectError, LogLevel, Platform, RawLock, Transport, TransportError};

/// `coap_dtls_options_t` of `imports/iot_import_dtls.h`.
#[repr(C)]
pub struct coap_dtls_options_t {
    pub p_ca_cert_pem: *mut c_uchar,
    pub p_host: *mut c_char,
    pub port: c_ushort,
}

pub const DTLS_SUCCESS: c_uint = 0;
pub const DTLS_ERROR_BASE: c_uint = 1 << 24;
pub const DTLS_INVALID_PARAM: c_uint = DTLS_ERROR_BASE | 1;
pub const DTLS_INVALID_CA_CERTIFICATE: c_uint = DTLS_ERROR_BASE | 2;
pub const DTLS_HANDSHAKE_IN_PROGRESS: c_uint = DTLS_ERROR_BASE | 3;
pub const DTLS_HANDSHAKE_FAILED: c_uint = DTLS_ERROR_BASE | 4;
pub const DTLS_FATAL_ALERT_MESSAGE: c_uint = DTLS_ERROR_BASE | 5;
pub const DTLS_PEER_CLOSE_NOTIFY: c_uint = DTLS_ERROR_BASE | 6;
pub const DTLS_SESSION_CREATE_FAILED: c_uint = DTLS_ERROR_BASE | 7;
pub const DTLS_READ_DATA_FAILED: c_uint = DTLS_ERROR_BASE | 8;

#[allow(non_snake_case)]
extern "C" {
    fn HAL_UptimeMs() -> u64;
    fn HAL_SleepMs(ms: u32);
    fn HAL_Random(region: u32) -> u32;
    fn HAL_Printf(fmt: *const c_char, ...);
    fn HAL_MutexCreate() -> *mut c_void;
    fn HAL_MutexDestroy(m: *mut c_void);
    fn HAL_MutexLock(m: *mut c_void);
    fn HAL_MutexUnlock(m: *mut c_void);
    fn HAL_UDP_create(host: *mut c_char, port: c_ushort) -> isize;
    fn HAL_UDP_close(sock: isize);
    fn HAL_UDP_write(sock: isize, p_data: *const c_uchar, datalen: c_uint) -> c_int;
    fn HAL_UDP_readTimeout(
        sock: isize,
        p_data: *mut c_uchar,
        datalen: c_uint,
        timeout: c_uint,
    ) -> c_int;
}

#[cfg(feature = "dtls")]
#[allow(non_snake_case)]
extern "C" {
    fn HAL_DTLSSession_create(p_options: *mut coap_dtls_options_t) -> *mut c_void;
    fn HAL_DTLSSession_write(
        ctx: *mut c_void,
        p_data: *const c_uchar,
        p_datalen: *mut c_uint,
    ) -> c_uint;
    fn HAL_DTLSSession_read(
        ctx: *mut c_void,
        p_data: *mut c_uchar,
        p_datalen: *mut c_uint,
        timeout: c_uint,
    ) -> c_uint;
    fn HAL_DTLSSession_free(ctx: *mut c_void) -> c_uint;
}

// The vendor 3.x key-value store (`wrappers.h`); a 2.x firmware that
// builds with feature `session-store` provides these two with the same
// signatures (README "Battery devices").
#[cfg(feature = "session-store")]
#[allow(non_snake_case)]
extern "C" {
    fn HAL_Kv_Set(key: *const c_char, val: *const c_void, len: c_int, sync: c_int) -> c_int;
    fn HAL_Kv_Get(key: *const c_char, val: *mut c_void, buffer_len: *mut c_int) -> c_int;
}

/// [`iotx_coap::core::resume::STORE_KEY`], NUL-terminated.
#[cfg(feature = "session-store")]
const KV_KEY: &core::ffi::CStr = c"iotx_coap_sess";

/// `IOT_SetLogLevel`'s setting: the application's process-wide choice, as
/// in the vendor SDK (it is not protocol state).
pub static LOG_LEVEL: AtomicI32 = AtomicI32::new(LogLevel::Warning as i32);

/// The platform's public root CA (GlobalSign Root CA, as embedded by the
/// vendor SDK), NUL-terminated for `p_ca_cert_pem`.
pub static PLATFORM_ROOT_CA_PEM: &[u8] =
    concat!(include_str!("ca/globalsign-root-ca.pem"), "\0").as_bytes();

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
    Udp(isize),
    #[cfg(feature = "dtls")]
    Dtls(DtlsSession),
}

/// A DTLS session of the HAL. Its context serves one call at a time, and
/// a receive may wait for seconds: the reader waits in slices of
/// `DTLS_READ_SLICE_MS` and lets go of the context between them, and a
/// send that finds a reader waiting leaves its datagram in `outbox` for
/// the reader to write after its slice. So a sender never waits for a
/// receive (`IOT_CoAP_SendMessage` while another thread is in
/// `IOT_CoAP_Yield`); its datagram leaves within one slice.
#[cfg(feature = "dtls")]
pub struct DtlsSession {
    ctx: *mut c_void,
    /// Serialises calls on `ctx`.
    ctx_lock: HalLock,
    /// Guards `reading` and `outbox`; held only briefly.
    state_lock: HalLock,
    reading: core::cell::Cell<bool>,
    outbox: core::cell::UnsafeCell<Vec<Vec<u8>>>,
}

/// How long a DTLS read holds the session before a waiting sender's
/// datagram goes out: the added latency of a send during another thread's
/// receive, and the wake-ups of a waiting receive.
#[cfg(feature = "dtls")]
const DTLS_READ_SLICE_MS: u32 = 20;

// SAFETY: the HAL's socket calls are thread-safe per the vendor contract
// (the SDK itself reads and writes from different tasks); the DTLS context
// is only touched under its lock.
unsafe impl Send for HalTransport {}
unsafe impl Sync for HalTransport {}

impl Transport for HalTransport {
    fn send(&self, d: &[u8]) -> Result<(), TransportError> {
        match self {
            HalTransport::Udp(sock) => {
                // SAFETY: d is valid for d.len() bytes.
                let n = unsafe { HAL_UDP_write(*sock, d.as_ptr(), d.len() as c_uint) };
                if n < 0 {
                    Err(TransportError::Io)
                } else {
                    Ok(())
                }
            }
            #[cfg(feature = "dtls")]
            HalTransport::Dtls(session) => session.send(d),
        }
    }

    fn recv(&self, buf: &mut [u8], timeout_ms: u32) -> Result<Option<usize>, TransportError> {
        match self {
            HalTransport::Udp(sock) => {
                // SAFETY: buf is valid for buf.len() bytes.
                let n = unsafe {
                    HAL_UDP_readTimeout(*sock, buf.as_mut_ptr(), buf.len() as c_uint, timeout_ms)
                };
                match n {
                    // A HAL may report a datagram's real length when it did
                    // not fit (as the reference HAL does): never more than
                    // the buffer, which the caller then takes as truncated.
                    n if n > 0 => Ok(Some((n as usize).min(buf.len()))),
                    0 | -2 => Ok(None),
                    _ => Err(TransportError::Io),
                }
            }
            #[cfg(feature = "dtls")]
            HalTransport::Dtls(session) => session.recv(buf, timeout_ms),
        }
    }
}

#[cfg(feature = "dtls")]
impl DtlsSession {
    fn new(ctx: *mut c_void, ctx_lock: HalLock, state_lock: HalLock) -> Self {
        DtlsSession {
            ctx,
            ctx_lock,
            state_lock,
            reading: core::cell::Cell::new(false),
            outbox: core::cell::UnsafeCell::new(Vec::new()),
        }
    }

    /// Runs `f` with `state_lock` held.
    fn with_state<R>(&self, f: impl FnOnce(&core::cell::Cell<bool>, &mut Vec<Vec<u8>>) -> R) -> R {
        self.state_lock.lock();
        // SAFETY: the outbox is only reached under state_lock.
        let r = f(&self.reading, unsafe { &mut *self.outbox.get() });
        // SAFETY: locked above on this thread.
        unsafe { self.state_lock.unlock() };
        r
    }

    fn send(&self, d: &[u8]) -> Result<(), TransportError> {
        self.state_lock.lock();
        if self.reading.get() {
            // SAFETY: under state_lock.
            unsafe { &mut *self.outbox.get() }.push(d.to_vec());
            // SAFETY: locked above on this thread.
            unsafe { self.state_lock.unlock() };
            return Ok(());
        }
        // Taken before state_lock is released, so that a reader starting
        // now waits for this short write, not the other way round.
        self.ctx_lock.lock();
        // SAFETY: locked above on this thread.
        unsafe { self.state_lock.unlock() };
        let rc = self.write(d);
        // SAFETY: locked above on this thread.
        unsafe { self.ctx_lock.unlock() };
        rc
    }

    /// One record out; `ctx_lock` held by the caller.
    fn write(&self, d: &[u8]) -> Result<(), TransportError> {
        let mut len = d.len() as c_uint;
        // SAFETY: ctx is live until drop; calls serialised by ctx_lock.
        dtls_result(unsafe { HAL_DTLSSession_write(self.ctx, d.as_ptr(), &mut len) })
    }

    fn recv(&self, buf: &mut [u8], timeout_ms: u32) -> Result<Option<usize>, TransportError> {
        // SAFETY: no arguments.
        let deadline = unsafe { HAL_UptimeMs() } + u64::from(timeout_ms);
        loop {
            // SAFETY: no arguments.
            let left = deadline.saturating_sub(unsafe { HAL_UptimeMs() });
            self.with_state(|reading, _| reading.set(true));
            let mut len = buf.len() as c_uint;
            self.ctx_lock.lock();
            // SAFETY: as in write; buf is valid for len bytes.
            let rc = unsafe {
                HAL_DTLSSession_read(
                    self.ctx,
                    buf.as_mut_ptr(),
                    &mut len,
                    left.min(u64::from(DTLS_READ_SLICE_MS)) as c_uint,
                )
            };
            let outbox = self.with_state(|reading, outbox| {
                reading.set(false);
                core::mem::take(outbox)
            });
            for d in &outbox {
                // A lost datagram is retransmitted like any other.
                let _ = self.write(d);
            }
            // SAFETY: locked above on this thread.
            unsafe { self.ctx_lock.unlock() };
            dtls_result(rc)?;
            if len > 0 {
                return Ok(Some((len as usize).min(buf.len())));
            }
            if left <= u64::from(DTLS_READ_SLICE_MS) {
                return Ok(None);
            }
        }
    }
}

#[cfg(feature = "dtls")]
fn dtls_result(rc: c_uint) -> Result<(), TransportError> {
    match rc {
        DTLS_SUCCESS => Ok(()),
        DTLS_PEER_CLOSE_NOTIFY | DTLS_FATAL_ALERT_MESSAGE => Err(TransportError::Closed),
        _ => Err(TransportError::Io),
    }
}

impl Drop for HalTransport {
    fn drop(&mut self) {
        match self {
            // SAFETY: the socket came from HAL_UDP_create and is closed once.
            HalTransport::Udp(sock) => unsafe { HAL_UDP_close(*sock) },
            #[cfg(feature = "dtls")]
            // SAFETY: ctx came from HAL_DTLSSession_create and is freed once.
            HalTransport::Dtls(session) => unsafe {
                HAL_DTLSSession_free(session.ctx);
            },
        }
    }
}

/// `HAL_MutexCreate`'s mutex.
pub struct HalLock(*mut c_void);

// SAFETY: a HAL mutex is made to be shared between tasks.
unsafe impl Send for HalLock {}
unsafe impl Sync for HalLock {}

impl RawLock for HalLock {
    fn lock(&self) {
        // SAFETY: self.0 is a live HAL mutex.
        unsafe { HAL_MutexLock(self.0) }
    }
    unsafe fn unlock(&self) {
        // SAFETY: caller holds the lock.
        unsafe { HAL_MutexUnlock(self.0) }
    }
}

impl Drop for HalLock {
    fn drop(&mut self) {
        // SAFETY: created by HAL_MutexCreate, destroyed once.
        unsafe { HAL_MutexDestroy(self.0) }
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
                // SAFETY: host is NUL-terminated and outlives the call.
                let sock = unsafe { HAL_UDP_create(host.as_mut_ptr().cast(), ep.port) };
                // Older HALs return a pointer: NULL (0) fails too.
                if sock == -1 || sock == 0 {
                    Err(ConnectError::Unreachable)
                } else {
                    Ok(HalTransport::Udp(sock))
                }
            }
            #[cfg(feature = "dtls")]
            Security::Dtls => {
                let (Some(ctx_lock), Some(state_lock)) = (self.new_lock(), self.new_lock()) else {
                    return Err(ConnectError::Handshake);
                };
                let mut opts = coap_dtls_options_t {
                    p_ca_cert_pem: self
                        .ca_cert_pem
                        .map_or(core::ptr::null_mut(), |c| c.as_ptr() as *mut c_uchar),
                    p_host: host.as_mut_ptr().cast(),
                    port: ep.port,
                };
                // SAFETY: opts and the strings it points to outlive the call.
                let ctx = unsafe { HAL_DTLSSession_create(&mut opts) };
                if ctx.is_null() {
                    Err(ConnectError::Handshake)
                } else {
                    Ok(HalTransport::Dtls(DtlsSession::new(
                        ctx, ctx_lock, state_lock,
                    )))
                }
            }
            #[cfg(not(feature = "dtls"))]
            Security::Dtls => Err(ConnectError::Unsupported),
        }
    }

    fn now_ms(&self) -> u64 {
        // SAFETY: no arguments.
        unsafe { HAL_UptimeMs() }
    }

    fn random_u32(&self) -> u32 {
        // SAFETY: no pointers.
        unsafe { HAL_Random(u32::MAX) }
    }

    fn new_lock(&self) -> Option<HalLock> {
        // SAFETY: no arguments.
        let m = unsafe { HAL_MutexCreate() };
        (!m.is_null()).then_some(HalLock(m))
    }

    fn sleep_ms(&self, ms: u32) {
        // SAFETY: no pointers.
        unsafe { HAL_SleepMs(ms) }
    }

    fn log(&self, level: LogLevel, parts: &[&str]) {
        let tag: &[u8] = match level {
            LogLevel::Crit => b"[crt] iotx-coap: ",
            LogLevel::Error => b"[err] iotx-coap: ",
            LogLevel::Warning => b"[wrn] iotx-coap: ",
            LogLevel::Info => b"[inf] iotx-coap: ",
            LogLevel::Debug => b"[dbg] iotx-coap: ",
        };
        let mut line = Vec::with_capacity(96);
        line.extend_from_slice(tag);
        for p in parts {
            // A NUL inside would cut the line short; drop it.
            line.extend(p.bytes().filter(|&b| b != 0));
        }
        line.extend_from_slice(b"\r\n\0");
        // SAFETY: "%s" with one NUL-terminated string argument.
        unsafe { HAL_Printf(c"%s".as_ptr(), line.as_ptr() as *const c_char) }
    }

    fn log_enabled(&self, level: LogLevel) -> bool {
        (level as i32) <= LOG_LEVEL.load(Ordering::Relaxed)
    }

    #[cfg(feature = "session-store")]
    fn load_session(&self, buf: &mut [u8]) -> Option<usize> {
        let mut len = c_int::try_from(buf.len()).ok()?;
        // SAFETY: the key is NUL-terminated; buf is writable for len bytes.
        let rc = unsafe { HAL_Kv_Get(KV_KEY.as_ptr(), buf.as_mut_ptr().cast(), &mut len) };
        // A HAL that reports more than the buffer held is not believed.
        (rc == 0 && len > 0 && len as usize <= buf.len()).then_some(len as usize)
    }

    #[cfg(feature = "session-store")]
    fn store_session(&self, record: &[u8]) -> bool {
        let Ok(len) = c_int::try_from(record.len()) else {
            return false;
        };
        // SAFETY: the key is NUL-terminated; record is readable for len
        // bytes. sync = 1: on flash before the datagram it covers leaves.
        unsafe { HAL_Kv_Set(KV_KEY.as_ptr(), record.as_ptr().cast(), len, 1) == 0 }
    }
}
