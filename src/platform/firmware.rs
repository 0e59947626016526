//! Feature `firmware` (no `std`): the pieces a bare-metal staticlib needs
//! that `std` would otherwise provide. The heap is the firmware's own
//! `HAL_Malloc`/`HAL_Free`, as with the vendor SDK.
//!
//! A panic (a bug, never bad input) must tell the firmware engineer why the
//! device stopped. The firmware route builds with
//! `-Cpanic=immediate-abort` (`.cargo/config.toml`), where a panic or an
//! allocation failure is a trap instruction (`udf #254`) and no handler
//! runs: the board's HardFault handler reports it (see
//! `firmware/qemu-mps2/board.c`). With any other panic strategy the handler
//! below (bare metal; `hosted_panic` on Linux) runs: it prints one line
//! through `HAL_Printf` and stops in a loop for the debugger. It formats
//! without `core::fmt`, which would add about 25 KB of flash: the message
//! is not printed, only the file and line when the build keeps them.

use core::alloc::{GlobalAlloc, Layout};
use core::ffi::c_void;

extern "C" {
    fn HAL_Malloc(size: u32) -> *mut c_void;
    fn HAL_Free(ptr: *mut c_void);
}

#[cfg(target_os = "none")]
extern "C" {
    fn HAL_Printf(fmt: *const core::ffi::c_char, ...);
}

/// What `HAL_Malloc` guarantees on the MCUs we target (newlib, FreeRTOS
/// heap_4: 8 bytes).
const HAL_ALIGN: usize = 8;

struct HalHeap;

unsafe impl GlobalAlloc for HalHeap {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        // SAFETY: forwarded.
        let p = unsafe { self.hal_alloc(l) };
        if !p.is_null() {
            super::heap_stats::allocated(l.size());
        }
        p
    }

    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        super::heap_stats::freed(l.size());
        // SAFETY: forwarded.
        unsafe { self.hal_free(p, l) }
    }
}

impl HalHeap {
    unsafe fn hal_alloc(&self, l: Layout) -> *mut u8 {
        if l.align() <= HAL_ALIGN {
            // SAFETY: plain allocation of l.size() bytes.
            return unsafe { HAL_Malloc(l.size() as u32) }.cast();
        }
        // Over-aligned: allocate extra, keep the raw pointer just below.
        // SAFETY: as above.
        let raw = unsafe { HAL_Malloc((l.size() + l.align()) as u32) }.cast::<u8>();
        if raw.is_null() {
            return raw;
        }
        let aligned = (raw as usize + l.align()) & !(l.align() - 1);
        // SAFETY: aligned - raw >= align > size_of::<usize>(), inside the block.
        unsafe { *((aligned - core::mem::size_of::<usize>()) as *mut usize) = raw as usize };
        aligned as *mut u8
    }

    unsafe fn hal_free(&self, p: *mut u8, l: Layout) {
        if l.align() <= HAL_ALIGN {
            // SAFETY: p came from HAL_Malloc.
            unsafe { HAL_Free(p.cast()) };
        } else {
            // SAFETY: alloc stored the raw pointer just below p.
            let raw = unsafe { *((p as usize - core::mem::size_of::<usize>()) as *const usize) };
            // SAFETY: raw came from HAL_Malloc.
            unsafe { HAL_Free(raw as *mut c_void) };
        }
    }
}

#[global_allocator]
static HEAP: HalHeap = HalHeap;

/// A fixed-size, NUL-terminated line built without `core::fmt` or the
/// heap (which may be what ran out).
#[cfg(target_os = "none")]
struct PanicLine {
    buf: [u8; 160],
    len: usize,
}

#[cfg(target_os = "none")]
impl PanicLine {
    fn push(&mut self, bytes: &[u8]) {
        for &b in bytes {
            // Room for "\r\n" and the NUL stays reserved.
            if self.len + 3 >= self.buf.len() {
                return;
            }
            if b != 0 {
                self.buf[self.len] = b;
                self.len += 1;
            }
        }
    }

    fn push_decimal(&mut self, mut n: u32) {
        let mut digits = [0u8; 10];
        let mut i = digits.len();
        loop {
            i -= 1;
            digits[i] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        self.push(&digits[i..]);
    }

    fn finish(&mut self) -> *const core::ffi::c_char {
        self.buf[self.len..self.len + 3].copy_from_slice(b"\r\n\0");
        self.buf.as_ptr().cast()
    }
}

#[cfg(target_os = "none")]
#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    let mut line = PanicLine {
        buf: [0; 160],
        len: 0,
    };
    line.push(b"[crt] iotx-coap: panic, device halted");
    // With -Zlocation-detail=none (the firmware route) there is no line.
    if let Some(at) = info.location().filter(|at| at.line() != 0) {
        line.push(b" at ");
        line.push(at.file().as_bytes());
        line.push(b":");
        line.push_decimal(at.line());
    }
    // SAFETY: "%s" with one NUL-terminated string argument.
    unsafe { HAL_Printf(c"%s".as_ptr(), line.finish()) };
    loop {
        core::hint::spin_loop();
    }
}
