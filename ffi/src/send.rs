//! `IOT_CoAP_SendMessage`: one uplink, handed to the client.

use core::ffi::{c_char, c_int, c_uchar};
use core::sync::atomic::Ordering;

use iotx_coap::client::MessageType;
use iotx_coap::core::session::{FORMAT_CBOR, FORMAT_JSON};

use crate::boundary::{c_str, guard};
use crate::context::{enter, Pending};
use crate::errors::send_error_code;
use crate::types::*;

/// Sends `p_message` to `p_path` (e.g. `/topic/PK/DN/update`). Returns once
/// the datagram is handed to the network; the response comes through
/// `resp_callback` during `IOT_CoAP_Yield`.
///
/// # Safety
/// Pointers NULL or valid; `p_path` NUL-terminated; `p_payload` readable for
/// `payload_len` bytes.
#[no_mangle]
pub unsafe extern "C" fn IOT_CoAP_SendMessage(
    p_context: *mut iotx_coap_context_t,
    p_path: *mut c_char,
    p_message: *mut iotx_message_t,
) -> c_int {
    guard(IOTX_ERR_SEND_MSG_FAILED, || {
        // SAFETY: forwarded contract.
        let Some(entered) = (unsafe { enter(p_context) }) else {
            return IOTX_ERR_INVALID_PARAM;
        };
        let ctx = entered.0;
        if p_path.is_null() || p_message.is_null() {
            return IOTX_ERR_INVALID_PARAM;
        }
        // SAFETY: non-NULL per the contract.
        let m = unsafe { &*p_message };
        let kind = match m.msg_type {
            IOTX_MESSAGE_CON => MessageType::Con,
            IOTX_MESSAGE_NON => MessageType::Non,
            _ => return IOTX_ERR_INVALID_PARAM,
        };
        let format = match m.content_type {
            IOTX_CONTENT_TYPE_JSON => FORMAT_JSON,
            IOTX_CONTENT_TYPE_CBOR => FORMAT_CBOR,
            _ => return IOTX_ERR_INVALID_PARAM,
        };
        let payload: &[u8] = match (m.p_payload.is_null(), m.payload_len) {
            (_, 0) => &[],
            (true, _) => return IOTX_ERR_INVALID_PARAM,
            // SAFETY: readable for payload_len bytes per the contract.
            (false, n) => unsafe {
                core::slice::from_raw_parts(m.p_payload as *const c_uchar, usize::from(n))
            },
        };
        // SAFETY: NUL-terminated per the contract; scan is bounded.
        let path = match unsafe { c_str(p_path, IOTX_URI_MAX_LEN) } {
            Ok(p) => core::str::from_utf8(p).map_err(|_| IOTX_ERR_INVALID_PARAM),
            Err(_) => Err(IOTX_ERR_URI_TOO_LOOG),
        };
        let path = match path {
            Ok(p) => p,
            // Not authenticated is reported first, as by the session for a
            // path it refuses; asked only here, as it takes the lock.
            Err(_) if !ctx.client.is_authed() => return IOTX_ERR_NOT_AUTHED,
            Err(code) => return code,
        };
        let token = ctx.next_token();
        let pending = Pending {
            callback: m.resp_callback,
            user_data: m.user_data,
            token,
        };
        match ctx.client.send(path, payload, format, kind, pending) {
            Ok(()) => {
                ctx.last_token.store(token, Ordering::Relaxed);
                IOTX_SUCCESS
            }
            Err((e, _)) => send_error_code(e),
        }
    })
}
