//! An in-process fake of the firmware's platform layer for the `c_abi`
//! target: a clock that moves only when the library waits or sleeps, a
//! seeded `HAL_Random`, single-threaded mutexes that fail loudly when
//! locked twice, and UDP/DTLS "sockets" whose reads return the datagrams
//! the harness queued and whose writes are recorded (and, for `/auth`,
//! answered by the harness's auto-reply hook). The HAL's contracts are
//! kept (a read never reports more bytes than the buffer holds), so what
//! breaks is the library's.
//!
//! The `unsafe` functions' safety contracts are the vendor HAL's.
#![allow(clippy::missing_safety_doc)]

use std::collections::VecDeque;
use std::ffi::{c_char, c_int, c_uchar, c_uint, c_ushort, c_void};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use iotx_coap_ffi::hal::{coap_dtls_options_t, DTLS_READ_DATA_FAILED, DTLS_SUCCESS};

/// What a read returns next, besides queued datagrams.
#[derive(Clone, Copy, Debug)]
pub enum ReadFault {
    /// UDP -1 / DTLS_READ_DATA_FAILED.
    Error,
    /// DTLS_PEER_CLOSE_NOTIFY (UDP: -1).
    Closed,
}

pub struct State {
    pub now: u64,
    pub rng: u64,
    pub inbox: VecDeque<Vec<u8>>,
    pub faults: VecDeque<ReadFault>,
    /// Everything the library wrote, in order.
    pub outbox: Vec<Vec<u8>>,
    /// Called on each write with the datagram; may queue answers.
    pub on_write: Option<fn(&mut State, &[u8])>,
    pub create_fails: bool,
    pub open_sockets: i32,
    pub open_sessions: i32,
    pub live_mutexes: i32,
}

pub static STATE: Mutex<State> = Mutex::new(State {
    now: 0,
    rng: 1,
    inbox: VecDeque::new(),
    faults: VecDeque::new(),
    outbox: Vec::new(),
    on_write: None,
    create_fails: false,
    open_sockets: 0,
    open_sessions: 0,
    live_mutexes: 0,
});

pub fn with<R>(f: impl FnOnce(&mut State) -> R) -> R {
    f(&mut STATE.lock().unwrap_or_else(|e| e.into_inner()))
}

/// A fresh platform for one fuzz run.
pub fn reset(seed: u64) {
    with(|s| {
        s.now = 1_000_000;
        s.rng = seed | 1;
        s.inbox.clear();
        s.faults.clear();
        s.outbox.clear();
        s.on_write = None;
        s.create_fails = false;
        s.open_sockets = 0;
        s.open_sessions = 0;
        s.live_mutexes = 0;
    });
}

fn written(data: *const c_uchar, len: c_uint) {
    // SAFETY: the library hands a buffer of len bytes (HAL contract).
    let d = unsafe { std::slice::from_raw_parts(data, len as usize) }.to_vec();
    with(|s| {
        if let Some(hook) = s.on_write {
            hook(s, &d);
        }
        s.outbox.push(d);
    });
}

/// The next queued datagram, copied into `buf` and truncated to it as a
/// UDP socket does; `Ok(0)` after waiting out `timeout` with nothing queued.
fn read(buf: *mut c_uchar, cap: c_uint, timeout: c_uint) -> Result<usize, ReadFault> {
    with(|s| {
        if let Some(f) = s.faults.pop_front() {
            return Err(f);
        }
        match s.inbox.pop_front() {
            Some(d) => {
                let n = d.len().min(cap as usize);
                // SAFETY: buf is writable for cap bytes (HAL contract).
                unsafe { std::ptr::copy_nonoverlapping(d.as_ptr(), buf, n) };
                Ok(n)
            }
            None => {
                s.now += u64::from(timeout);
                Ok(0)
            }
        }
    })
}

#[no_mangle]
pub extern "C" fn HAL_UptimeMs() -> u64 {
    with(|s| s.now)
}

#[no_mangle]
pub extern "C" fn HAL_SleepMs(ms: u32) {
    with(|s| s.now += u64::from(ms));
}

#[no_mangle]
pub extern "C" fn HAL_Random(region: u32) -> u32 {
    with(|s| {
        s.rng ^= s.rng << 13;
        s.rng ^= s.rng >> 7;
        s.rng ^= s.rng << 17;
        let r = (s.rng >> 32) as u32;
        if region == 0 {
            r
        } else {
            r % region
        }
    })
}

#[no_mangle]
pub extern "C" fn HAL_MutexCreate() -> *mut c_void {
    with(|s| s.live_mutexes += 1);
    Box::into_raw(Box::new(AtomicBool::new(false))).cast()
}

#[no_mangle]
pub unsafe extern "C" fn HAL_MutexDestroy(m: *mut c_void) {
    assert!(!m.is_null(), "HAL_MutexDestroy(NULL)");
    // SAFETY: made by HAL_MutexCreate.
    let m = unsafe { Box::from_raw(m.cast::<AtomicBool>()) };
    assert!(
        !m.load(Ordering::SeqCst),
        "a HAL mutex destroyed while locked"
    );
    with(|s| s.live_mutexes -= 1);
}

#[no_mangle]
pub unsafe extern "C" fn HAL_MutexLock(m: *mut c_void) {
    // SAFETY: made by HAL_MutexCreate.
    let m = unsafe { &*m.cast::<AtomicBool>() };
    // One thread: a mutex already held would deadlock a real HAL.
    assert!(
        !m.swap(true, Ordering::SeqCst),
        "HAL mutex locked twice (deadlock)"
    );
}

#[no_mangle]
pub unsafe extern "C" fn HAL_MutexUnlock(m: *mut c_void) {
    // SAFETY: made by HAL_MutexCreate.
    let m = unsafe { &*m.cast::<AtomicBool>() };
    assert!(
        m.swap(false, Ordering::SeqCst),
        "HAL mutex unlocked while not held"
    );
}

#[no_mangle]
pub unsafe extern "C" fn HAL_UDP_create(host: *mut c_char, _port: c_ushort) -> isize {
    assert!(!host.is_null(), "HAL_UDP_create(NULL host)");
    with(|s| {
        if s.create_fails {
            return -1;
        }
        s.open_sockets += 1;
        7
    })
}

#[no_mangle]
pub extern "C" fn HAL_UDP_close(sock: isize) {
    assert_eq!(sock, 7, "HAL_UDP_close of a socket never created");
    with(|s| s.open_sockets -= 1);
}

#[no_mangle]
pub unsafe extern "C" fn HAL_UDP_write(sock: isize, data: *const c_uchar, len: c_uint) -> c_int {
    assert_eq!(sock, 7, "HAL_UDP_write to a socket never created");
    written(data, len);
    len as c_int
}

#[no_mangle]
pub unsafe extern "C" fn HAL_UDP_readTimeout(
    sock: isize,
    data: *mut c_uchar,
    len: c_uint,
    timeout: c_uint,
) -> c_int {
    assert_eq!(sock, 7, "HAL_UDP_readTimeout on a socket never created");
    match read(data, len, timeout) {
        Ok(n) => n as c_int,
        Err(_) => -1,
    }
}

const SESSION_TAG: usize = 0x5e55;

#[no_mangle]
pub unsafe extern "C" fn HAL_DTLSSession_create(opts: *mut coap_dtls_options_t) -> *mut c_void {
    assert!(!opts.is_null(), "HAL_DTLSSession_create(NULL)");
    with(|s| {
        if s.create_fails {
            return std::ptr::null_mut();
        }
        s.open_sessions += 1;
        Box::into_raw(Box::new(SESSION_TAG)).cast()
    })
}

fn check_session(ctx: *mut c_void) {
    // SAFETY: a live session is a Box<usize> holding the tag.
    assert!(
        !ctx.is_null() && unsafe { *ctx.cast::<usize>() } == SESSION_TAG,
        "not a live DTLS session"
    );
}

#[no_mangle]
pub unsafe extern "C" fn HAL_DTLSSession_write(
    ctx: *mut c_void,
    data: *const c_uchar,
    len: *mut c_uint,
) -> c_uint {
    check_session(ctx);
    // SAFETY: len points to the datagram's length (HAL contract).
    written(data, unsafe { *len });
    DTLS_SUCCESS
}

#[no_mangle]
pub unsafe extern "C" fn HAL_DTLSSession_read(
    ctx: *mut c_void,
    data: *mut c_uchar,
    len: *mut c_uint,
    timeout: c_uint,
) -> c_uint {
    check_session(ctx);
    // SAFETY: len points to the buffer's capacity (HAL contract).
    let cap = unsafe { *len };
    match read(data, cap, timeout) {
        Ok(n) => {
            // SAFETY: as above.
            unsafe { *len = n as c_uint };
            DTLS_SUCCESS
        }
        Err(ReadFault::Error) => DTLS_READ_DATA_FAILED,
        Err(ReadFault::Closed) => iotx_coap_ffi::hal::DTLS_PEER_CLOSE_NOTIFY,
    }
}

#[no_mangle]
pub unsafe extern "C" fn HAL_DTLSSession_free(ctx: *mut c_void) -> c_uint {
    check_session(ctx);
    // SAFETY: made by HAL_DTLSSession_create (a second free is
    // AddressSanitizer's to report).
    unsafe { drop(Box::from_raw(ctx.cast::<usize>())) };
    with(|s| s.open_sessions -= 1);
    DTLS_SUCCESS
}
