//! The vendor's log calls: `IOT_OpenLog`, `IOT_CloseLog`, `IOT_SetLogLevel`
//! and `IOT_DumpMemoryStats`. Lines go to the firmware's `HAL_Printf`.

use core::ffi::c_char;
use core::sync::atomic::Ordering;

use iotx_coap::platform::{LogLevel, Platform};

use crate::boundary::{c_str, guard, hal_log};
use crate::hal::{HalPlatform, LOG_LEVEL};
use crate::types::*;

/// Starts logging under `ident` (logging always goes to `HAL_Printf`).
///
/// # Safety
/// `ident` NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn IOT_OpenLog(ident: *const c_char) {
    guard((), || {
        let name = if ident.is_null() {
            &b"iotx"[..]
        } else {
            // SAFETY: NUL-terminated per the contract; bounded scan.
            unsafe { c_str(ident, 32) }.unwrap_or(b"iotx")
        };
        hal_log(
            LogLevel::Info,
            &[
                "log opened for ",
                core::str::from_utf8(name).unwrap_or("iotx"),
            ],
        );
    })
}

#[no_mangle]
pub extern "C" fn IOT_CloseLog() {
    guard((), || hal_log(LogLevel::Info, &["log closed"]))
}

/// Sets the level of messages printed; unknown values are ignored.
#[no_mangle]
pub extern "C" fn IOT_SetLogLevel(level: IOT_LogLevel) {
    if (IOT_LOG_NONE..=IOT_LOG_DEBUG).contains(&level) {
        LOG_LEVEL.store(level, Ordering::Relaxed);
    }
}

/// Logs the library's heap use through `HAL_Malloc` (the C library's
/// allocator): bytes in use, the high-water mark, live blocks, and the
/// allocations made so far.
// In the hosted twin the program's own allocator is in use; it says so.
#[no_mangle]
pub extern "C" fn IOT_DumpMemoryStats(level: IOT_LogLevel) {
    guard((), || {
        if !(IOT_LOG_CRIT..=IOT_LOG_DEBUG).contains(&level)
            || level > LOG_LEVEL.load(Ordering::Relaxed)
        {
            return;
        }
        let platform = HalPlatform::default();
        #[cfg(not(iotx_ffi_hosted))]
        {
            use iotx_coap::core::sign::{fmt_u64, itoa_buf};
            let s = crate::runtime::heap_stats::snapshot();
            let (mut a, mut b, mut c, mut d) = (itoa_buf(), itoa_buf(), itoa_buf(), itoa_buf());
            platform.log(
                LogLevel::Info,
                &[
                    "memory: heap in use ",
                    fmt_u64(&mut a, s.in_use as u64),
                    " bytes, peak ",
                    fmt_u64(&mut b, s.peak as u64),
                    " bytes, ",
                    fmt_u64(&mut c, s.blocks as u64),
                    " blocks, ",
                    fmt_u64(&mut d, s.allocations as u64),
                    " allocations made",
                ],
            );
        }
        #[cfg(iotx_ffi_hosted)]
        platform.log(
            LogLevel::Info,
            &["memory: the program's Rust allocator is in use; no statistics"],
        );
    })
}
