//! Bare-metal ARM only: keeps the libgcc unwinder (~3.4 KB) out of the
//! image.
//!
//! rustc gives the allocator shims it generates (`__rust_alloc_error_handler`
//! and friends) ARM exception-index entries even under `-Cpanic=immediate-
//! abort -Cforce-unwind-tables=no`; each entry names the EHABI personality
//! routine `__aeabi_unwind_cpp_pr0`, and resolving that name drags in all of
//! libgcc's `unwind-arm.o`. Nothing in this library ever unwinds, so a weak
//! personality that answers `_URC_FAILURE` ("cannot unwind this frame")
//! satisfies the reference. Weak: firmware that uses C++ exceptions links
//! libgcc's real routine, which takes precedence.
core::arch::global_asm!(
    ".section .text.__aeabi_unwind_cpp_pr0,\"ax\",%progbits",
    ".weak __aeabi_unwind_cpp_pr0",
    ".type __aeabi_unwind_cpp_pr0,%function",
    ".thumb_func",
    "__aeabi_unwind_cpp_pr0:",
    // _URC_FAILURE
    "movs r0, #9",
    "bx lr",
    ".size __aeabi_unwind_cpp_pr0, . - __aeabi_unwind_cpp_pr0",
);
