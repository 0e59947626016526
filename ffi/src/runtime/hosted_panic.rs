//! The panic handler of the std-free C library on a hosted target (Linux):
//! a panic is a bug, never bad input; it is reported through the
//! firmware's `HAL_Printf` and the process stops with the C library's
//! `abort()`, as a C library's failed assertion would. No `core::fmt`: the
//! line is fixed text.

use core::ffi::c_char;

extern "C" {
    fn HAL_Printf(fmt: *const c_char, ...);
    fn abort() -> !;
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    // SAFETY: a constant NUL-terminated format without conversions.
    unsafe {
        HAL_Printf(c"[crt] iotx-coap: internal error (panic); aborting\n".as_ptr());
        abort()
    }
}

/// The precompiled `core` and `alloc` of hosted targets are built for
/// unwinding, and their unwind tables name this personality routine.
/// Nothing here unwinds (panics abort), so it is never called; it answers
/// `_URC_FATAL_PHASE1_ERROR` all the same. Weak, so a program that also
/// links Rust's `std` (whose routine is the real one) links cleanly.
#[no_mangle]
extern "C" fn iotx_coap_no_unwind_personality() -> i32 {
    3
}
core::arch::global_asm!(
    ".weak rust_eh_personality",
    ".set rust_eh_personality, iotx_coap_no_unwind_personality"
);
