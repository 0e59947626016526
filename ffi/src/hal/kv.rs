//! The stored session (feature `session-store`) in the firmware's
//! key-value store: the vendor 3.x `HAL_Kv_Set`/`HAL_Kv_Get`
//! (`wrappers.h`). A 2.x firmware that builds with the feature provides
//! these two with the same signatures (README "Battery devices"); the
//! default library never names them, so a 2.x HAL without them links.

use core::ffi::{c_char, c_int, c_void, CStr};

#[allow(non_snake_case)]
extern "C" {
    fn HAL_Kv_Set(key: *const c_char, val: *const c_void, len: c_int, sync: c_int) -> c_int;
    fn HAL_Kv_Get(key: *const c_char, val: *mut c_void, buffer_len: *mut c_int) -> c_int;
}

/// [`iotx_coap::core::resume::STORE_KEY`], NUL-terminated.
const KV_KEY: &CStr = c"iotx_coap_sess";

pub(super) fn load(buf: &mut [u8]) -> Option<usize> {
    let mut len = c_int::try_from(buf.len()).ok()?;
    // SAFETY: the key is NUL-terminated; buf is writable for len bytes.
    let rc = unsafe { HAL_Kv_Get(KV_KEY.as_ptr(), buf.as_mut_ptr().cast(), &mut len) };
    // A HAL that reports more than the buffer held is not believed.
    (rc == 0 && len > 0 && len as usize <= buf.len()).then_some(len as usize)
}

pub(super) fn store(record: &[u8]) -> bool {
    let Ok(len) = c_int::try_from(record.len()) else {
        return false;
    };
    // SAFETY: the key is NUL-terminated; record is readable for len bytes.
    // sync = 1: on flash before the datagram it covers leaves.
    unsafe { HAL_Kv_Set(KV_KEY.as_ptr(), record.as_ptr().cast(), len, 1) == 0 }
}
