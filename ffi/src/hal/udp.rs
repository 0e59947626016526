//! Plain UDP (`coap://`, `coap-psk://`) through `HAL_UDP_*`: a connected
//! socket whose calls the vendor contract makes thread-safe, so it needs
//! no lock of ours.

use core::ffi::{c_char, c_int, c_uchar, c_uint, c_ushort};

use iotx_coap::platform::{ConnectError, TransportError};

#[allow(non_snake_case)]
extern "C" {
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

/// A socket of `HAL_UDP_create`, closed on drop.
pub struct UdpSocket(isize);

impl UdpSocket {
    /// `host` is NUL-terminated.
    pub(super) fn connect(host: &mut [u8], port: u16) -> Result<Self, ConnectError> {
        // SAFETY: host is NUL-terminated and outlives the call.
        let sock = unsafe { HAL_UDP_create(host.as_mut_ptr().cast(), port) };
        // Older HALs return a pointer: NULL (0) fails too.
        if sock == -1 || sock == 0 {
            Err(ConnectError::Unreachable)
        } else {
            Ok(UdpSocket(sock))
        }
    }

    pub(super) fn send(&self, d: &[u8]) -> Result<(), TransportError> {
        // SAFETY: d is valid for d.len() bytes.
        let n = unsafe { HAL_UDP_write(self.0, d.as_ptr(), d.len() as c_uint) };
        if n < 0 {
            Err(TransportError::Io)
        } else {
            Ok(())
        }
    }

    pub(super) fn recv(
        &self,
        buf: &mut [u8],
        timeout_ms: u32,
    ) -> Result<Option<usize>, TransportError> {
        // SAFETY: buf is valid for buf.len() bytes.
        let n = unsafe {
            HAL_UDP_readTimeout(self.0, buf.as_mut_ptr(), buf.len() as c_uint, timeout_ms)
        };
        match n {
            // A HAL may report a datagram's real length when it did not
            // fit (as the reference HAL does): never more than the buffer,
            // which the caller then takes as truncated.
            n if n > 0 => Ok(Some((n as usize).min(buf.len()))),
            0 | -2 => Ok(None),
            _ => Err(TransportError::Io),
        }
    }
}

impl Drop for UdpSocket {
    fn drop(&mut self) {
        // SAFETY: the socket came from HAL_UDP_create and is closed once.
        unsafe { HAL_UDP_close(self.0) }
    }
}
