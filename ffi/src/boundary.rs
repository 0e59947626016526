//! What every entry point does at the C boundary: contain panics, read
//! C strings and fixed `char` arrays with a bound, and write a log line
//! through the firmware's `HAL_Printf`. Nothing in this crate is imported
//! back from here; every ABI module may use it.

use alloc::string::String;
use core::ffi::c_char;

use iotx_coap::platform::{LogLevel, Platform};

use crate::hal::HalPlatform;

/// Runs one entry point's body. In the hosted twin a panic (a bug, never
/// bad input) is caught and the entry point returns `on_panic`; the C
/// library aborts on panic instead, so nothing ever unwinds into C.
#[cfg(iotx_ffi_hosted)]
pub fn guard<R>(on_panic: R, f: impl FnOnce() -> R) -> R {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_or(on_panic)
}

/// Runs one entry point's body (panics abort in the C library).
#[cfg(not(iotx_ffi_hosted))]
pub fn guard<R>(_on_panic: R, f: impl FnOnce() -> R) -> R {
    f()
}

/// Bytes of a fixed C char array up to its first NUL (never past it).
pub fn field(a: &[c_char]) -> Option<String> {
    // SAFETY: c_char and u8 have the same size and alignment.
    let bytes = unsafe { core::slice::from_raw_parts(a.as_ptr().cast::<u8>(), a.len()) };
    String::from_utf8(until_nul(bytes).to_vec()).ok()
}

/// `a` up to its first NUL, or all of it.
#[inline(never)]
pub fn until_nul(a: &[u8]) -> &[u8] {
    let len = a.iter().position(|&b| b == 0).unwrap_or(a.len());
    a.get(..len).unwrap_or(a)
}

/// Reads a C string of at most `max` bytes. `Err(true)` when longer.
///
/// # Safety
/// `p` must point to readable memory up to its NUL or `max + 1` bytes.
pub unsafe fn c_str(p: *const c_char, max: usize) -> Result<&'static [u8], bool> {
    // A plain counted loop: `0..=max` costs an exhaustion flag per byte.
    let mut i = 0;
    while i <= max {
        // SAFETY: within the caller's promise.
        if unsafe { *p.add(i) } == 0 {
            // SAFETY: the i bytes before the NUL are readable.
            return Ok(unsafe { core::slice::from_raw_parts(p.cast::<u8>(), i) });
        }
        i += 1;
    }
    Err(true)
}

/// One log line through the HAL, when `level` is enabled.
pub fn hal_log(level: LogLevel, parts: &[&str]) {
    let p = HalPlatform::default();
    if p.log_enabled(level) {
        p.log(level, parts);
    }
}
