//! The library's errors as the vendor's `IOTX_ERR_*` return codes.

use iotx_coap::client::AuthError;
use iotx_coap::core::SendError;

use crate::types::*;

/// `IOT_CoAP_SendMessage`'s code for a message the client refused.
pub fn send_error_code(e: SendError) -> iotx_ret_code_t {
    match e {
        SendError::NotAuthed => IOTX_ERR_NOT_AUTHED,
        SendError::UriTooLong => IOTX_ERR_URI_TOO_LOOG,
        SendError::InvalidPath => IOTX_ERR_INVALID_PARAM,
        SendError::MessageTooLong => IOTX_ERR_MSG_TOO_LOOG,
        SendError::Busy => IOTX_ERR_NO_MEM,
    }
}

/// `IOT_CoAP_DeviceNameAuth`'s code for a failed auth: the network could
/// not carry it, or the platform said no (or never answered).
pub fn auth_error_code(e: &AuthError) -> iotx_ret_code_t {
    match e {
        AuthError::Connect(_) => IOTX_ERR_SEND_MSG_FAILED,
        AuthError::Rejected(_) | AuthError::Unreachable => IOTX_ERR_AUTH_FAILED,
    }
}
