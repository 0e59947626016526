//! The vendor SDK's public C types, field for field.
//!
//! C enums are modelled as `c_int` plus constants: a value coming from C may
//! be any `int`, and a Rust `enum` holding an unknown discriminant is UB.
#![allow(non_camel_case_types)]

use core::ffi::{c_char, c_int, c_uchar, c_ushort, c_void};

pub const IOTX_PRODUCT_KEY_LEN: usize = 20;
pub const IOTX_DEVICE_NAME_LEN: usize = 32;
pub const IOTX_DEVICE_ID_LEN: usize = 64;
pub const IOTX_DEVICE_SECRET_LEN: usize = 64;
pub const IOTX_MODULE_VENDOR_ID_LEN: usize = 32;
/// Longest `p_path` accepted by `IOT_CoAP_SendMessage`.
pub const IOTX_URI_MAX_LEN: usize = 135;

/// `IOT_LogLevel`.
pub type IOT_LogLevel = c_int;
pub const IOT_LOG_NONE: IOT_LogLevel = 0;
pub const IOT_LOG_EMERG: IOT_LogLevel = 0;
pub const IOT_LOG_CRIT: IOT_LogLevel = 1;
pub const IOT_LOG_ERROR: IOT_LogLevel = 2;
pub const IOT_LOG_WARNING: IOT_LogLevel = 3;
pub const IOT_LOG_INFO: IOT_LogLevel = 4;
pub const IOT_LOG_DEBUG: IOT_LogLevel = 5;

/// `iotx_ret_code_t`.
pub type iotx_ret_code_t = c_int;
pub const IOTX_ERR_RECV_MSG_TIMEOUT: iotx_ret_code_t = -9;
pub const IOTX_ERR_SEND_MSG_FAILED: iotx_ret_code_t = -8;
pub const IOTX_ERR_MSG_TOO_LOOG: iotx_ret_code_t = -7;
pub const IOTX_ERR_URI_TOO_LOOG: iotx_ret_code_t = -6;
pub const IOTX_ERR_NOT_AUTHED: iotx_ret_code_t = -5;
pub const IOTX_ERR_AUTH_FAILED: iotx_ret_code_t = -4;
pub const IOTX_ERR_BUFF_TOO_SHORT: iotx_ret_code_t = -3;
pub const IOTX_ERR_NO_MEM: iotx_ret_code_t = -2;
pub const IOTX_ERR_INVALID_PARAM: iotx_ret_code_t = -1;
pub const IOTX_SUCCESS: iotx_ret_code_t = 0;

/// `iotx_content_type_t`.
pub type iotx_content_type_t = c_int;
pub const IOTX_CONTENT_TYPE_JSON: iotx_content_type_t = 0;
pub const IOTX_CONTENT_TYPE_CBOR: iotx_content_type_t = 1;

/// `iotx_msg_type_t`.
pub type iotx_msg_type_t = c_int;
pub const IOTX_MESSAGE_CON: iotx_msg_type_t = 0;
pub const IOTX_MESSAGE_NON: iotx_msg_type_t = 1;
pub const IOTX_MESSAGE_ACK: iotx_msg_type_t = 2;
pub const IOTX_MESSAGE_RST: iotx_msg_type_t = 3;

/// `iotx_coap_event_t`.
pub type iotx_coap_event_t = c_int;
pub const IOTX_COAP_EVENT_SEND_FAILED: iotx_coap_event_t = 0;
pub const IOTX_COAP_EVENT_RECV_FAILED: iotx_coap_event_t = 1;
pub const IOTX_COAP_EVENT_AUTH_FAILED: iotx_coap_event_t = 2;

/// `iotx_coap_resp_code_t`: the raw CoAP code byte (class << 5 | detail).
/// Any code may arrive, not only the named ones.
pub type iotx_coap_resp_code_t = c_int;
pub const IOTX_COAP_RESP_CODE_CONTENT: iotx_coap_resp_code_t = 0x45;
pub const IOTX_COAP_RESP_CODE_BAD_REQUEST: iotx_coap_resp_code_t = 0x80;
pub const IOTX_COAP_RESP_CODE_UNAUTHORIZED: iotx_coap_resp_code_t = 0x81;
pub const IOTX_COAP_RESP_CODE_NOT_FOUND: iotx_coap_resp_code_t = 0x84;
pub const IOTX_COAP_RESP_CODE_URL_TOO_LONG: iotx_coap_resp_code_t = 0x8E;
pub const IOTX_COAP_RESP_CODE_INTERNAL_SERVER_ERROR: iotx_coap_resp_code_t = 0xA0;

/// `iotx_event_handle_t`: `p_data` is the `user_data` of the message concerned
/// (SEND_FAILED) or NULL.
pub type iotx_event_handle_t = Option<
    unsafe extern "C" fn(context: *mut c_void, event: iotx_coap_event_t, p_data: *mut c_void),
>;
/// `iotx_response_callback_t`: `p_message` is valid only during the call.
pub type iotx_response_callback_t =
    Option<unsafe extern "C" fn(p_arg: *mut c_void, p_message: *mut c_void)>;

// Array lengths are literals (LEN + 1) so cbindgen can lay the struct out.

/// The four-field device info that applications actually allocate and cast
/// to `iotx_device_info_t *`.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct iotx_deviceinfo_t {
    pub product_key: [c_char; 21],
    pub device_name: [c_char; 33],
    pub device_id: [c_char; 65],
    pub device_secret: [c_char; 65],
}

/// The config's device info. The library reads only the first four fields
/// (`iotx_deviceinfo_t`'s prefix), never `module_vendor_id`.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct iotx_device_info_t {
    pub product_key: [c_char; 21],
    pub device_name: [c_char; 33],
    pub device_id: [c_char; 65],
    pub device_secret: [c_char; 65],
    pub module_vendor_id: [c_char; 33],
}
pub type iotx_device_info_pt = *mut iotx_device_info_t;

/// `iotx_coap_config_t`.
#[repr(C)]
pub struct iotx_coap_config_t {
    /// `coap://`, `coap-psk://` or `coaps://` URL; NULL = the platform's default DTLS endpoint.
    pub p_url: *mut c_char,
    /// How long one `IOT_CoAP_Yield` waits for traffic when idle; 0 = default (2000 ms).
    pub wait_time_ms: c_int,
    pub p_devinfo: *mut iotx_device_info_t,
    pub event_handle: iotx_event_handle_t,
}

/// `iotx_message_t`.
#[repr(C)]
pub struct iotx_message_t {
    pub p_payload: *mut c_uchar,
    pub payload_len: c_ushort,
    pub content_type: iotx_content_type_t,
    pub msg_type: iotx_msg_type_t,
    pub user_data: *mut c_void,
    pub resp_callback: iotx_response_callback_t,
}

/// `iotx_coap_context_t` is `void` in C: contexts are opaque.
pub type iotx_coap_context_t = c_void;
