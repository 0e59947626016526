//! Entry points for firmware compiled against the 3.x header set
//! (`include/v3/`, `include/v3.0/`).
//!
//! Every 3.x struct that crosses the boundary has the 2.x layout except the
//! 3.0.x device info, whose `device_id` is `IOTX_PRODUCT_KEY_LEN +
//! IOTX_DEVICE_NAME_LEN + 2` bytes (so `device_secret` sits at offset 108,
//! not 119). `include/v3.0/coap_api.h` therefore maps `IOT_CoAP_Init` onto
//! [`iotx_coap_init_v30`]; all other calls share the 2.x symbols, so one
//! library serves objects compiled against either header set in the same
//! program.
//!
//! The token calls are the 3.x extras. Tokens here are the library's own
//! 32-bit uplink numbers (1, 2, 3, ... per context), not the bytes on the
//! wire: what firmware does with them is pair a response with the request
//! it answers, and that is what they guarantee.
#![allow(non_camel_case_types)]

use core::ffi::{c_char, c_int, c_uint, c_void};
use core::sync::atomic::Ordering;

use crate::boundary::{field, guard};
use crate::context::{context, init, DeviceFields};
use crate::response::message;
use crate::types::*;

/// The 3.0.x `iotx_deviceinfo_t` (also the prefix of its
/// `iotx_device_info_t`).
#[repr(C)]
struct DeviceInfoV30 {
    product_key: [c_char; 21],
    device_name: [c_char; 33],
    device_id: [c_char; 54],
    device_secret: [c_char; 65],
}

/// # Safety
/// `p` points to at least a 3.0.x `iotx_deviceinfo_t`.
unsafe fn read_devinfo_v30(p: *const c_void) -> DeviceFields {
    // SAFETY: per the contract.
    let dev = unsafe { &*(p as *const DeviceInfoV30) };
    DeviceFields {
        product_key: field(&dev.product_key),
        device_name: field(&dev.device_name),
        device_id: field(&dev.device_id),
        device_secret: field(&dev.device_secret),
    }
}

/// `IOT_CoAP_Init` for the 3.0.x device-info layout (what
/// `include/v3.0/coap_api.h` names `IOT_CoAP_Init`).
///
/// # Safety
/// As `IOT_CoAP_Init`, with `p_devinfo` pointing to at least a 3.0.x
/// `iotx_deviceinfo_t`.
#[no_mangle]
pub unsafe extern "C" fn iotx_coap_init_v30(
    p_config: *mut iotx_coap_config_t,
) -> *mut iotx_coap_context_t {
    guard(core::ptr::null_mut(), || {
        // SAFETY: forwarded contract.
        unsafe { init(p_config, read_devinfo_v30) }
    })
}

/// The token of the uplink a response answers, as `IOT_CoAP_GetCurToken`
/// returned it right after that uplink was sent. 0 on success, -1 for a
/// NULL or foreign pointer.
///
/// # Safety
/// `p_message` NULL or as given to the response callback, during it;
/// `token` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn IOT_CoAP_GetMessageToken(
    p_message: *mut c_void,
    token: *mut c_uint,
) -> c_int {
    guard(-1, || {
        if token.is_null() {
            return -1;
        }
        // SAFETY: forwarded contract.
        let Some(m) = (unsafe { message(p_message) }) else {
            return -1;
        };
        // SAFETY: checked non-NULL.
        unsafe { *token = m.token };
        0
    })
}

/// The token of the context's most recent uplink (0 before the first).
/// A NULL or foreign context gives `(uint32_t)IOTX_ERR_INVALID_PARAM`, as
/// the vendor's does.
///
/// # Safety
/// `p_context` NULL or a live context.
#[no_mangle]
pub unsafe extern "C" fn IOT_CoAP_GetCurToken(p_context: *mut iotx_coap_context_t) -> u32 {
    guard(IOTX_ERR_INVALID_PARAM as u32, || {
        // SAFETY: forwarded contract.
        match unsafe { context(p_context) } {
            Some(ctx) => ctx.last_token.load(Ordering::Relaxed),
            None => IOTX_ERR_INVALID_PARAM as u32,
        }
    })
}
