//! Stands in for `dtls.rs` in a library built without feature `dtls`: a
//! session that cannot exist, so `coaps://` fails at connect and the code
//! around it needs no feature checks (and the firmware no
//! `HAL_DTLSSession_*`).

use iotx_coap::platform::{ConnectError, TransportError};

/// No value of this type exists.
pub enum DtlsSession {}

impl DtlsSession {
    pub(super) fn connect(
        _host: &mut [u8],
        _port: u16,
        _ca_pem: Option<&'static [u8]>,
    ) -> Result<Self, ConnectError> {
        Err(ConnectError::Unsupported)
    }

    pub(super) fn send(&self, _d: &[u8]) -> Result<(), TransportError> {
        match *self {}
    }

    pub(super) fn recv(
        &self,
        _buf: &mut [u8],
        _timeout_ms: u32,
    ) -> Result<Option<usize>, TransportError> {
        match *self {}
    }
}
