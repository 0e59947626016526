//! The vendor's DTLS types and result codes (`imports/iot_import_dtls.h`),
//! in every build: they are part of the HAL's C interface whether or not
//! this library calls it (feature `dtls`), and harnesses that stand in for
//! the HAL (the fuzz crate's fake one) name them.

use core::ffi::{c_char, c_uchar, c_uint, c_ushort};

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
