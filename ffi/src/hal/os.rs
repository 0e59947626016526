//! The operating-system half of the HAL: clock, sleep, randomness, the
//! firmware's mutexes and its `HAL_Printf`. Everything else in `hal`
//! builds on these.
//!
//! Locks are held through guards ([`HalMutex::lock`]), never by hand: a
//! path that returns early cannot leave one locked, and the borrow checker
//! refuses data reached without it.

use alloc::vec::Vec;
use core::cell::UnsafeCell;
use core::ffi::{c_char, c_void};
use core::ops::{Deref, DerefMut};
use core::sync::atomic::{AtomicI32, Ordering};

use iotx_coap::platform::{LogLevel, RawLock};

#[allow(non_snake_case)]
extern "C" {
    fn HAL_UptimeMs() -> u64;
    fn HAL_SleepMs(ms: u32);
    fn HAL_Random(region: u32) -> u32;
    fn HAL_Printf(fmt: *const c_char, ...);
    fn HAL_MutexCreate() -> *mut c_void;
    fn HAL_MutexDestroy(m: *mut c_void);
    fn HAL_MutexLock(m: *mut c_void);
    fn HAL_MutexUnlock(m: *mut c_void);
}

/// `IOT_SetLogLevel`'s setting: the application's process-wide choice, as
/// in the vendor SDK (it is not protocol state).
pub static LOG_LEVEL: AtomicI32 = AtomicI32::new(LogLevel::Warning as i32);

pub(super) fn uptime_ms() -> u64 {
    // SAFETY: no arguments.
    unsafe { HAL_UptimeMs() }
}

pub(super) fn sleep_ms(ms: u32) {
    // SAFETY: no pointers.
    unsafe { HAL_SleepMs(ms) }
}

pub(super) fn random_u32() -> u32 {
    // SAFETY: no pointers.
    unsafe { HAL_Random(u32::MAX) }
}

/// `HAL_MutexCreate`'s mutex.
pub struct HalLock(*mut c_void);

// SAFETY: a HAL mutex is made to be shared between tasks.
unsafe impl Send for HalLock {}
unsafe impl Sync for HalLock {}

impl HalLock {
    /// `None` when the HAL is out of mutexes.
    pub(super) fn create() -> Option<HalLock> {
        // SAFETY: no arguments.
        let m = unsafe { HAL_MutexCreate() };
        (!m.is_null()).then_some(HalLock(m))
    }
}

impl RawLock for HalLock {
    fn lock(&self) {
        // SAFETY: self.0 is a live HAL mutex.
        unsafe { HAL_MutexLock(self.0) }
    }
    unsafe fn unlock(&self) {
        // SAFETY: caller holds the lock.
        unsafe { HAL_MutexUnlock(self.0) }
    }
}

impl Drop for HalLock {
    fn drop(&mut self) {
        // SAFETY: created by HAL_MutexCreate, destroyed once.
        unsafe { HAL_MutexDestroy(self.0) }
    }
}

/// `T` behind a HAL mutex, reachable only through the guard.
// The DTLS session is its user; a library built without it has none.
#[allow(dead_code)]
pub(super) struct HalMutex<T> {
    lock: HalLock,
    data: UnsafeCell<T>,
}

// SAFETY: `data` is only reached through a guard, under `lock`.
unsafe impl<T: Send> Send for HalMutex<T> {}
unsafe impl<T: Send> Sync for HalMutex<T> {}

#[allow(dead_code)]
impl<T> HalMutex<T> {
    pub(super) fn new(data: T) -> Option<Self> {
        Some(HalMutex {
            lock: HalLock::create()?,
            data: UnsafeCell::new(data),
        })
    }

    pub(super) fn lock(&self) -> HalGuard<'_, T> {
        self.lock.lock();
        HalGuard(self)
    }
}

/// Holds a [`HalMutex`] until dropped.
#[allow(dead_code)]
pub(super) struct HalGuard<'a, T>(&'a HalMutex<T>);

impl<T> Deref for HalGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the lock is held for the guard's lifetime.
        unsafe { &*self.0.data.get() }
    }
}

impl<T> DerefMut for HalGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: the lock is held for the guard's lifetime, and the guard
        // is borrowed mutably.
        unsafe { &mut *self.0.data.get() }
    }
}

impl<T> Drop for HalGuard<'_, T> {
    fn drop(&mut self) {
        // SAFETY: locked by HalMutex::lock on this thread.
        unsafe { self.0.lock.unlock() }
    }
}

/// One log line through `HAL_Printf`, tagged with its level.
pub(super) fn log(level: LogLevel, parts: &[&str]) {
    // "[crt] iotx-coap: " ... "[dbg] iotx-coap: " from one table of the
    // three-letter names: five whole prefixes cost ~60 bytes more flash.
    let name = (level as usize - 1) * 3;
    let mut line = Vec::with_capacity(96);
    line.push(b'[');
    line.extend_from_slice(b"crterrwrninfdbg".get(name..name + 3).unwrap_or(b"???"));
    line.extend_from_slice(b"] iotx-coap: ");
    for p in parts {
        // A NUL inside would cut the line short; drop it.
        line.extend(p.bytes().filter(|&b| b != 0));
    }
    line.extend_from_slice(b"\r\n\0");
    // SAFETY: "%s" with one NUL-terminated string argument.
    unsafe { HAL_Printf(c"%s".as_ptr(), line.as_ptr() as *const c_char) }
}

pub(super) fn log_enabled(level: LogLevel) -> bool {
    (level as i32) <= LOG_LEVEL.load(Ordering::Relaxed)
}
