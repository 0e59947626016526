//! The response handed to `resp_callback` (`p_message`), and its getters
//! `IOT_CoAP_GetMessagePayload` and `IOT_CoAP_GetMessageCode`.

use core::ffi::{c_int, c_uchar, c_void};

use crate::boundary::guard;
use crate::types::*;

const MESSAGE_MAGIC: u32 = 0x4d73_6752; // "MsgR"

/// What `resp_callback` receives as `p_message`.
#[repr(C)]
pub struct ResponseMessage {
    magic: u32,
    code: u8,
    /// NUL-terminated copy (the NUL is not counted in `len`), so vendor
    /// samples printing it with `%s` stay in bounds.
    payload: *const u8,
    len: usize,
    /// The token of the uplink this answers.
    pub(crate) token: u32,
}

impl ResponseMessage {
    /// A response over the first `len` bytes at `payload`, which must be
    /// followed by a NUL byte in the same allocation (vendor samples print
    /// it with `%s`) and outlive the callback.
    pub(crate) fn new(code: u8, payload: *const u8, len: usize, token: u32) -> ResponseMessage {
        ResponseMessage {
            magic: MESSAGE_MAGIC,
            code,
            payload,
            len,
            token,
        }
    }
}

/// # Safety
/// `p_message` NULL or the pointer given to a response callback, during it.
pub(crate) unsafe fn message<'a>(p: *mut c_void) -> Option<&'a ResponseMessage> {
    if p.is_null() {
        return None;
    }
    // SAFETY: per the contract.
    let m = unsafe { &*(p as *const ResponseMessage) };
    (m.magic == MESSAGE_MAGIC).then_some(m)
}

/// The response's payload (decrypted in PSK mode), valid during the
/// callback. It is followed by a NUL byte not counted in `*p_len`.
///
/// # Safety
/// Pointers NULL or valid; `p_message` as given to the callback.
#[no_mangle]
pub unsafe extern "C" fn IOT_CoAP_GetMessagePayload(
    p_message: *mut c_void,
    pp_payload: *mut *mut c_uchar,
    p_len: *mut c_int,
) -> c_int {
    guard(IOTX_ERR_INVALID_PARAM, || {
        if pp_payload.is_null() || p_len.is_null() {
            return IOTX_ERR_INVALID_PARAM;
        }
        // SAFETY: forwarded contract.
        let Some(m) = (unsafe { message(p_message) }) else {
            return IOTX_ERR_INVALID_PARAM;
        };
        // SAFETY: both out-pointers checked non-NULL.
        unsafe {
            *pp_payload = m.payload as *mut c_uchar;
            *p_len = m.len as c_int;
        }
        IOTX_SUCCESS
    })
}

/// The raw CoAP code byte of the response (0x45 = 2.05 Content).
///
/// # Safety
/// Pointers NULL or valid; `p_message` as given to the callback.
#[no_mangle]
pub unsafe extern "C" fn IOT_CoAP_GetMessageCode(
    p_message: *mut c_void,
    p_resp_code: *mut iotx_coap_resp_code_t,
) -> c_int {
    guard(IOTX_ERR_INVALID_PARAM, || {
        if p_resp_code.is_null() {
            return IOTX_ERR_INVALID_PARAM;
        }
        // SAFETY: forwarded contract.
        let Some(m) = (unsafe { message(p_message) }) else {
            return IOTX_ERR_INVALID_PARAM;
        };
        // SAFETY: checked non-NULL.
        unsafe { *p_resp_code = iotx_coap_resp_code_t::from(m.code) };
        IOTX_SUCCESS
    })
}
