//! The panic handler on bare metal.
//!
//! A panic (a bug, never bad input) must tell the firmware engineer why the
//! device stopped. The firmware route built with `core` from source uses
//! `-Cpanic=immediate-abort` (`.cargo/config.toml`), where a panic or an
//! allocation failure is a trap instruction (`udf #254`) and no handler
//! runs: the board's HardFault handler reports it (see
//! `firmware/boards/cortex-m/cortex_m.c`). With any other panic strategy (a
//! prebuilt `core`) the handler below runs: it prints one line through
//! `HAL_Printf` and stops in a loop for the debugger. It formats without
//! `core::fmt`, which would add about 25 KB of flash: the message is not
//! printed, only the file and line when the build keeps them.

extern "C" {
    fn HAL_Printf(fmt: *const core::ffi::c_char, ...);
}

/// A fixed-size, NUL-terminated line built without `core::fmt` or the
/// heap (which may be what ran out).
struct PanicLine {
    buf: [u8; 160],
    len: usize,
}

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
