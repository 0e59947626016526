//! A DTLS session of the HAL (`HAL_DTLSSession_*`, feature `dtls`), shared
//! by every thread of one context.
//!
//! A HAL DTLS context takes one call at a time, a read may wait for
//! seconds, and firmware calls `IOT_CoAP_Yield` (and so reads) from as many
//! threads as it likes while others send. Three rules follow:
//!
//! * **One lock.** `state` guards who holds the HAL context and the outbox,
//!   and is held only to look at or change them, never across a HAL call.
//!   The context itself is serialised by that ownership: only its holder
//!   calls into it. With one lock there is no order to get wrong. (Issue
//!   17: a send took the state lock then the context lock, a read the
//!   reverse, and one `reading` flag shared by all readers let a second
//!   reader clear the first one's mark; three Yield threads and four
//!   senders deadlocked every run.)
//! * **A sender never waits.** A send that finds the context free takes it
//!   and writes; one that finds it held (a reader's slice, another send)
//!   leaves its datagram in the outbox and returns. Whoever holds the
//!   context writes the outbox before handing it back, in the same look at
//!   the state that releases it, so no datagram is left with nobody to
//!   write it. A datagram waits at most one read slice.
//! * **One reader at a time.** Holding the context is the single-reader
//!   token. A reader reads in slices of [`DTLS_READ_SLICE_MS`] and hands
//!   the context back between them (so the outbox leaves); a reader that
//!   finds it held sleeps, holding nothing, and looks again. What the
//!   holder reads goes to the client, which serves every thread alike.

use alloc::vec::Vec;
use core::ffi::{c_uchar, c_uint, c_void};

use iotx_coap::platform::{ConnectError, TransportError};

use super::dtls_abi::{
    coap_dtls_options_t, DTLS_FATAL_ALERT_MESSAGE, DTLS_PEER_CLOSE_NOTIFY, DTLS_SUCCESS,
};
use super::os::{self, HalMutex};

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

/// How long a read holds the context before a waiting sender's datagram
/// goes out: the added latency of a send during a receive, and how often
/// a reader that waits for another one looks again.
const DTLS_READ_SLICE_MS: u32 = 20;

/// A live `HAL_DTLSSession_create` context, freed on drop.
pub struct DtlsSession {
    ctx: *mut c_void,
    state: HalMutex<State>,
}

// SAFETY: `ctx` is only called into by the thread that holds it per
// `state` (see the module docs); the HAL's context may move between
// threads (the vendor SDK itself reads and writes from different tasks).
unsafe impl Send for DtlsSession {}
unsafe impl Sync for DtlsSession {}

struct State {
    /// A thread (reader or writer) holds the HAL context.
    held: bool,
    /// Datagrams sent while the context was held, for its holder to write,
    /// each as a u16 LE length and its bytes: one buffer, not one per
    /// datagram (less heap traffic and less code on a Cortex-M).
    outbox: Vec<u8>,
}

impl DtlsSession {
    /// A handshake with the server at `host` (NUL-terminated) `port`,
    /// trusting `ca_pem` (NUL-terminated PEM, or the HAL's own choice).
    pub(super) fn connect(
        host: &mut [u8],
        port: u16,
        ca_pem: Option<&'static [u8]>,
    ) -> Result<Self, ConnectError> {
        let state = HalMutex::new(State {
            held: false,
            outbox: Vec::new(),
        })
        .ok_or(ConnectError::Handshake)?;
        let mut opts = coap_dtls_options_t {
            p_ca_cert_pem: ca_pem.map_or(core::ptr::null_mut(), |c| c.as_ptr() as *mut c_uchar),
            p_host: host.as_mut_ptr().cast(),
            port,
        };
        // SAFETY: opts and the strings it points to outlive the call.
        let ctx = unsafe { HAL_DTLSSession_create(&mut opts) };
        if ctx.is_null() {
            Err(ConnectError::Handshake)
        } else {
            Ok(DtlsSession { ctx, state })
        }
    }

    /// Takes the context if it is free.
    fn take(&self) -> bool {
        let mut st = self.state.lock();
        !core::mem::replace(&mut st.held, true)
    }

    /// Hands the context back, after writing what senders left in the
    /// outbox while it was held (the check for "nothing left" and the
    /// release are one step, so a datagram queued after it finds the
    /// context free and is written by its own sender).
    fn give_back(&self) {
        loop {
            let outbox = {
                let mut st = self.state.lock();
                if st.outbox.is_empty() {
                    st.held = false;
                    return;
                }
                core::mem::take(&mut st.outbox)
            };
            let mut rest = &outbox[..];
            while let [lo, hi, tail @ ..] = rest {
                let len = usize::from(u16::from_le_bytes([*lo, *hi])).min(tail.len());
                let (d, next) = tail.split_at(len);
                // A lost datagram is retransmitted like any other.
                let _ = self.write(d);
                rest = next;
            }
        }
    }

    pub(super) fn send(&self, d: &[u8]) -> Result<(), TransportError> {
        {
            let mut st = self.state.lock();
            if st.held {
                // In the same look as the check: the holder's `give_back`
                // is still to come, and writes it.
                let len = u16::try_from(d.len()).map_err(|_| TransportError::Io)?;
                st.outbox.extend_from_slice(&len.to_le_bytes());
                st.outbox.extend_from_slice(d);
                return Ok(());
            }
            st.held = true;
        }
        let rc = self.write(d);
        self.give_back();
        rc
    }

    /// One record out; the caller holds the context.
    fn write(&self, d: &[u8]) -> Result<(), TransportError> {
        let mut len = d.len() as c_uint;
        // SAFETY: ctx is live until drop; only its holder calls in.
        dtls_result(unsafe { HAL_DTLSSession_write(self.ctx, d.as_ptr(), &mut len) })
    }

    pub(super) fn recv(
        &self,
        buf: &mut [u8],
        timeout_ms: u32,
    ) -> Result<Option<usize>, TransportError> {
        // 32-bit time within one call (a timeout is a u32 of ms): 64-bit
        // arithmetic is a library routine's worth of code on a Cortex-M.
        let start = os::uptime_ms() as u32;
        loop {
            let left = timeout_ms.saturating_sub((os::uptime_ms() as u32).wrapping_sub(start));
            let slice = left.min(DTLS_READ_SLICE_MS);
            if self.take() {
                let mut len = buf.len() as c_uint;
                // SAFETY: as in write; buf is valid for len bytes.
                let rc =
                    unsafe { HAL_DTLSSession_read(self.ctx, buf.as_mut_ptr(), &mut len, slice) };
                self.give_back();
                dtls_result(rc)?;
                if len > 0 {
                    return Ok(Some((len as usize).min(buf.len())));
                }
            } else if slice > 0 {
                // Another thread reads, and what it gets serves this one
                // too (or writes, briefly). Look again a slice later,
                // holding nothing.
                os::sleep_ms(slice);
            }
            if left <= DTLS_READ_SLICE_MS {
                return Ok(None);
            }
        }
    }
}

fn dtls_result(rc: c_uint) -> Result<(), TransportError> {
    match rc {
        DTLS_SUCCESS => Ok(()),
        DTLS_PEER_CLOSE_NOTIFY | DTLS_FATAL_ALERT_MESSAGE => Err(TransportError::Closed),
        _ => Err(TransportError::Io),
    }
}

impl Drop for DtlsSession {
    fn drop(&mut self) {
        // SAFETY: ctx came from HAL_DTLSSession_create and is freed once;
        // `&mut self`: nobody holds it.
        unsafe {
            HAL_DTLSSession_free(self.ctx);
        }
    }
}
